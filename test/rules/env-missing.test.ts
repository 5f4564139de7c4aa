/**
 * ENV_MISSING (issue 13, item 10): docs/rule-format.md promised a warning at
 * daemon start for a variable a rule lists under `env:` that is not set, but
 * the daemon loaded its rules without the environment, and a run whose http
 * url read the variable dead-lettered with "url is not an absolute URL" and no
 * name. Through `rules run` as a subprocess against the emulator, its JSON log
 * lines parsed: the start logs the warning with the rule, the variable and
 * file:line, and the run dead-letters with an error that names the variable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { B24RulesError } from '../../engine/errors.js';
import { loadRules } from '../../engine/rules/index.js';
import { emulatorEnv, startDaemonProcess, tempDir, writeRule, type DaemonProcess } from '../daemon/harness.js';
import { userClient } from '../sources/emulator-helpers.js';

const VAR = 'B24R_TEST_SYNC_URL';
const RULE = `id: sync-leads
env: [${VAR}]
trigger: { event: ONCRMLEADADD }
on_error: { retries: 0 }
actions:
  - http: { url: "{{ env.${VAR} }}/leads/{{ lead.ID }}", method: POST, body: { id: "{{ lead.ID }}" } }
`;

let emu: Emulator | undefined;
let proc: DaemonProcess | undefined;
afterEach(async () => {
  if (proc && proc.proc.exitCode === null && proc.proc.signalCode === null) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
  proc = undefined;
  await emu?.close();
  emu = undefined;
});

describe('a variable under env: that is not set', () => {
  it('is an ENV_MISSING warning at daemon start, and a run that reads it dead-letters naming it', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-env-missing-');
    mkdirSync(join(dir, 'rules'));
    const file = writeRule(join(dir, 'rules'), 'sync.yaml', RULE);
    // The daemon's environment is the emulator's connection only (no .env in its directory): VAR is unset.
    proc = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--no-watch'], emulatorEnv(emu, dir), dir);

    const warning = await proc.waitForLog((r) => r.code === 'ENV_MISSING', 20_000);
    expect(warning).toMatchObject({ level: 40, rule: 'sync-leads', file, line: 2 });
    expect(warning.msg).toContain(`${file}:2:`);
    expect(warning.msg).toContain(`environment variable ${VAR} is not set`);
    await proc.url;

    const lead = String((await userClient(emu).call<number>('crm.lead.add', { fields: { TITLE: 'To sync' } })).result);
    const dead = await proc.waitForLog((r) => r.msg.startsWith('rule sync-leads dead'), 60_000);
    expect(String(dead.error)).toContain(`env.${VAR} is not set (rule sync-leads)`);
    expect(String(dead.error)).not.toContain('absolute URL');
    expect(lead).not.toBe('');

    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});

describe('a template that reads an unset env variable', () => {
  const dir = tempDir('b24-env-template-');
  const file = join(dir, 'r.yaml');
  writeFileSync(
    file,
    `id: r
env: [${VAR}, B24R_TEST_PREFIX]
trigger: { event: ONCRMDEALADD }
dedupe: "{{ env.${VAR} }}:{{ deal.ID }}"
concurrency: { key: "{{ env.B24R_TEST_PREFIX | default: deal }}" }
actions:
  - http: { url: "{{ env.${VAR} }}/deals/{{ deal.ID }}", method: PUT, body: { prefix: "{{ env.B24R_TEST_PREFIX | default: none }}" } }
`,
  );
  const facts = (env: Record<string, string>) => ({ now: '2026-01-05T09:00:00Z', env, deal: { ID: '7' } });

  it('fails naming the variable and the rule (action options, dedupe); a default filter supplies the value', async () => {
    const { rules, diagnostics } = await loadRules([file]);
    expect(diagnostics).toEqual([]);
    const rule = rules[0]!;
    const config = rule.actions[0]!.config;
    let err: unknown;
    try {
      config.render(facts({}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(B24RulesError);
    expect((err as B24RulesError).code).toBe('CONFIG_INVALID');
    expect((err as B24RulesError).message).toMatch(new RegExp(`^env\\.${VAR} is not set \\(rule r\\)`));
    expect(() => rule.dedupe!.render(facts({}))).toThrow(`env.${VAR} is not set (rule r)`);
    // B24R_TEST_PREFIX is read only through `default`: unset, it takes the default.
    expect(rule.concurrency.key!.render(facts({}))).toBe('deal');
    expect(config.render(facts({ [VAR]: 'https://crm.example.com' }))).toMatchObject({ url: 'https://crm.example.com/deals/7', body: { prefix: 'none' } });
    expect(rule.dedupe!.render(facts({ [VAR]: 'u' }))).toBe('u:7');
  });
});
