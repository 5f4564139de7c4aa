/**
 * The plan `rules apply` prints, as a subprocess against the emulator: it
 * names the portal by its address (it said "on portal the portal"), counts in
 * the singular where there is one, and takes --format json or its alias --json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import type { PlanDocument } from '../../engine/plan/index.js';
import { CLI, emulatorEnv, tempDir, writeRule } from '../daemon/harness.js';

const RULE = `id: welcome-new-leads
trigger: { schedule: { cron: "0 9 * * *", timezone: UTC } }
foreach:
  entity: lead
  as: lead
  filter: { STATUS_ID: NEW }
  select: [ID, TITLE, STATUS_ID]
  max_records: 100
dedupe: "welcome:{{ lead.ID }}"
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome" }
`;

const exec = promisify(execFile);
let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  dir = tempDir('b24-apply-output-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'rules.yaml', RULE);
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

async function apply(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, 'apply', 'welcome-new-leads', ...args, '--rules', join(dir, 'rules'), '--state', join(dir, 'state.db')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emu, dir) },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the plan of rules apply', { timeout: 120_000 }, () => {
  it('names the portal by its address and counts one rule and one schedule tick in the singular', async () => {
    const r = await apply();
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0]!;
    expect(first).toMatch(new RegExp(`^Dry run at \\S+ on portal ${emu.url.replace(/[.]/g, '\\.')}: 1 rule, 0 events, 1 schedule tick\\.$`));
    expect(r.stdout).not.toContain('the portal');
  });

  it('--format json and --json print the same plan, whose source is the portal address', async () => {
    const [a, b] = await Promise.all([apply('--format', 'json'), apply('--json')]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const plans = [a, b].map((r) => JSON.parse(r.stdout) as PlanDocument);
    expect(plans[0]!.source).toEqual({ mode: 'live', portal: emu.url });
    expect(plans[1]!.source).toEqual(plans[0]!.source);
    expect(plans[1]!.summary).toEqual(plans[0]!.summary);
  });
});
