/** `rules apply` as a subprocess against the in-process emulator: plan only, the --max-records guard, and --yes. */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { userClient } from '../sources/emulator-helpers.js';
import { CLI, emulatorEnv, tempDir, writeRule } from '../daemon/harness.js';

const RULE = `id: junk-campaign
trigger: { manual: {} }
foreach:
  entity: lead
  as: lead
  filter: { UTM_CAMPAIGN: "{{ params.campaign }}" }
  select: [ID, TITLE, STATUS_ID, UTM_CAMPAIGN]
  max_records: 100
dedupe: "junk:{{ lead.ID }}"
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { STATUS_ID: JUNK } }
---
id: on-new-lead
trigger: { event: ONCRMLEADADD }
actions:
  - notify: { user: 1, message: hi }
`;

const exec = promisify(execFile);
let emu: Emulator;
let dir: string;
const spring: string[] = [];
const autumn: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  dir = tempDir('b24-apply-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'rules.yaml', RULE);
  const user = userClient(emu, { retries: 10, backoffBaseMs: 50 });
  for (let i = 0; i < 5; i++) spring.push(String((await user.call<number>('crm.lead.add', { fields: { TITLE: `Spring ${i}`, STATUS_ID: 'NEW', UTM_CAMPAIGN: 'spring_2026' } })).result));
  for (let i = 0; i < 2; i++) autumn.push(String((await user.call<number>('crm.lead.add', { fields: { TITLE: `Autumn ${i}`, STATUS_ID: 'NEW', UTM_CAMPAIGN: 'autumn_2026' } })).result));
});
afterAll(async () => {
  await emu.close();
});

async function apply(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, 'apply', ...args, '--rules', join(dir, 'rules'), '--state', join(dir, 'state.db')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emu, dir) },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const writes = () => emu.calls.records.filter((c) => c.method === 'crm.lead.update').length;
const status = (id: string) => emu.store.get('lead', id)?.STATUS_ID;

describe('rules apply', { timeout: 120_000 }, () => {
  it('without --yes prints the plan and writes nothing', async () => {
    const r = await apply('junk-campaign', '--param', 'campaign=spring_2026');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('crm.lead.update');
    expect(r.stderr).toContain('Nothing was written. 5 row(s)');
    expect(writes()).toBe(0);
    expect(spring.every((id) => status(id) === 'NEW')).toBe(true);
  });

  it('--max-records refuses a run touching more rows, writing nothing', async () => {
    const r = await apply('junk-campaign', '--param', 'campaign=spring_2026', '--max-records', '3', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('would touch 5 rows, more than --max-records 3');
    expect(writes()).toBe(0);
  });

  it('--yes carries it out: every matching lead once, the others untouched; a second apply changes nothing', async () => {
    const r = await apply('junk-campaign', '--param', 'campaign=spring_2026', '--max-records', '5', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(spring.map(status)).toEqual(spring.map(() => 'JUNK'));
    expect(autumn.map(status)).toEqual(['NEW', 'NEW']);
    expect(writes()).toBe(5);
    expect(r.stdout).toContain('junk-campaign');
    expect(r.stderr).toContain('5 call(s) done, 0 failed');
    const again = await apply('junk-campaign', '--param', 'campaign=spring_2026', '--yes');
    expect(again.code).toBe(0);
    expect(writes()).toBe(5);
  });

  it('refuses an unknown rule and an event rule, naming the manual ones', async () => {
    const unknown = await apply('nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('RULE_NOT_FOUND');
    expect(unknown.stderr).toContain('junk-campaign');
    const event = await apply('on-new-lead');
    expect(event.code).toBe(1);
    expect(event.stderr).toContain('RULE_NOT_APPLICABLE');
    expect((await apply('junk-campaign', '--param', 'oops')).code).toBe(2);
  });
});
