/**
 * `rules validate --env` and `--dotenv` (issue 13, item 10): a variable a rule
 * lists under `env:` that the environment (and ./.env, or the given file)
 * does not set is an ENV_MISSING warning with the rule and file:line; without
 * the flag the environment is not checked. The CLI runs as a subprocess.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const VAR = 'B24R_TEST_CRM_SYNC_URL';
const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-validate-env-'));
const rule = join(tmp, 'sync.yaml');
writeFileSync(rule, `id: sync-deals\nenv: [${VAR}]\ntrigger: { event: ONCRMDEALADD }\nactions:\n  - http: { url: "{{ env.${VAR} }}/deals/{{ deal.ID }}", method: PUT, body: { id: "{{ deal.ID }}" } }\n`);
const withDotenv = join(tmp, 'with-dotenv');
mkdirSync(withDotenv);
writeFileSync(join(withDotenv, '.env'), `${VAR}=https://crm.example.com/api\n`);
const envFile = join(tmp, 'prod.env');
writeFileSync(envFile, `# production\n${VAR}=https://crm.example.com/api\n`);
const emptyFile = join(tmp, 'empty.env');
writeFileSync(emptyFile, `${VAR}=\n`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The variable is never in the subprocess's environment unless a case sets it. */
const UNSET = { [VAR]: undefined };
const warning = `${rule}:2:7: warning ENV_MISSING [sync-deals] environment variable ${VAR} is not set`;

describe('rules validate --env', () => {
  it('warns about an unset variable with the rule and file:line:col; the rules stay valid (exit 0)', async () => {
    const r = await runCli(['validate', '--env', rule], { env: UNSET, cwd: tmp });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain(warning);
    expect(r.stdout).toContain(`hint: set ${VAR} in the environment or .env before running`);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('1 file, 1 rule: 1 valid, 0 invalid; 0 errors, 1 warning');
  });

  it('is quiet when the environment or ./.env sets it', async () => {
    const fromEnv = await runCli(['validate', '--env', rule], { env: { [VAR]: 'https://crm.example.com/api' }, cwd: tmp });
    expect(fromEnv.stdout).not.toContain('ENV_MISSING');
    const fromDotenv = await runCli(['validate', '--env', rule], { env: UNSET, cwd: withDotenv });
    expect(fromDotenv.stdout).not.toContain('ENV_MISSING');
    expect(fromDotenv.code).toBe(0);
  });

  it('--dotenv reads that file; an empty value is a warning too', async () => {
    const set = await runCli(['validate', '--dotenv', envFile, rule], { env: UNSET, cwd: tmp });
    expect(set.stdout).not.toContain('ENV_MISSING');
    const empty = await runCli(['validate', '--dotenv', emptyFile, rule, '--format', 'json'], { env: UNSET, cwd: tmp });
    const doc = JSON.parse(empty.stdout) as { diagnostics: Array<Record<string, unknown>> };
    expect(doc.diagnostics).toMatchObject([{ severity: 'warning', code: 'ENV_MISSING', file: rule, line: 2, ruleId: 'sync-deals', message: `environment variable ${VAR} is set but empty` }]);
    const missing = await runCli(['validate', '--dotenv', join(tmp, 'nope.env'), rule], { env: UNSET, cwd: tmp });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.env');
  });

  it('does not check the environment without the flag', async () => {
    const r = await runCli(['validate', rule], { env: UNSET, cwd: tmp });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('ENV_MISSING');
  });
});
