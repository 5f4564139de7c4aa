/**
 * `rules validate --scopes` (issue 14): the scopes the rules need against the
 * ones the configured webhook or app has, asked of an emulator (`scope`, and
 * `app.info` for an app), as a subprocess. A missing scope is a SCOPE_MISSING
 * warning at each rule that needs it, naming the portal by its host; warnings
 * do not fail the validation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const RULE_03 = join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml');
const RULE_04 = join(PACKAGE_ROOT, 'rules', '04-stage-followup-tasks.yaml');
const BLANK = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_REFRESH_TOKEN: '', B24_WEBHOOK_CODE: '', B24_WEBHOOK_USER_ID: '' };

interface Diag {
  severity: string;
  code: string;
  message: string;
  file: string;
  line: number;
  ruleId: string;
}

let emulator: Emulator;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'validate-scopes-'));
  emulator = await startEmulator({ port: 0, appScopes: ['crm', 'im'] });
});
afterAll(async () => {
  await emulator?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function validate(file: string, env: Record<string, string>): Promise<{ code: number | null; diagnostics: Diag[]; stderr: string }> {
  const r = await runCli(['validate', file, '--scopes', '--format', 'json'], { cwd: tmp, env: { ...BLANK, ...env } });
  return { code: r.code, stderr: r.stderr, diagnostics: r.stdout ? (JSON.parse(r.stdout) as { diagnostics: Diag[] }).diagnostics : [] };
}

describe('rules validate --scopes', () => {
  it('warns at each rule that needs a scope the webhook lacks, naming the portal by host and never the webhook code', async () => {
    const hook = emulator.addWebhook({ scopes: ['crm'] });
    const r = await validate(RULE_03, { B24_WEBHOOK_URL: hook });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.diagnostics.map((d) => [d.severity, d.code, d.ruleId])).toEqual([
      ['warning', 'SCOPE_MISSING', 'route-leads-inbound'],
      ['warning', 'SCOPE_MISSING', 'route-leads-key-accounts'],
      ['warning', 'SCOPE_MISSING', 'route-leads-partners'],
      ['warning', 'SCOPE_MISSING', 'route-leads-regions'],
    ]);
    const host = new URL(emulator.url).host;
    for (const d of r.diagnostics) {
      expect(d.message).toBe(`the webhook of ${host} lacks the scope 'im' this rule needs for im.notify.system.add`);
      expect(d.file).toBe(RULE_03);
      expect(d.line).toBeGreaterThan(1);
      expect(JSON.stringify(d)).not.toContain(hook.split('/rest/')[1]?.split('/')[1] as string);
    }
  });

  it('is silent when the webhook has every scope the rules need', async () => {
    const r = await validate(RULE_03, { B24_WEBHOOK_URL: emulator.addWebhook({ scopes: ['crm', 'im'] }) });
    expect(r.code).toBe(0);
    expect(r.diagnostics).toEqual([]);
  });

  it("asks an OAuth app's scopes and names the app", async () => {
    const r = await validate(RULE_04, {
      B24_DOMAIN: emulator.url,
      B24_AUTH_MODE: 'oauth',
      B24_ACCESS_TOKEN: emulator.app.access_token,
      B24_REFRESH_TOKEN: emulator.app.refresh_token,
      B24_CLIENT_ID: emulator.app.client_id,
      B24_CLIENT_SECRET: emulator.app.client_secret,
      B24_OAUTH_URL: emulator.url,
      B24_TOKEN_FILE: join(tmp, 'tokens.json'),
    });
    expect(r.code).toBe(0);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    for (const d of r.diagnostics) expect(d.message).toMatch(new RegExp(`^the app ${emulator.app.client_id} of ${new URL(emulator.url).host} lacks the scope 'task' this rule needs for tasks\\.task\\.add`));
  });

  it('without a configured portal is an error saying what to set', async () => {
    const r = await runCli(['validate', RULE_03, '--scopes'], { cwd: tmp, env: BLANK });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONFIG_INVALID: no Bitrix24 connection configured');
  });
});
