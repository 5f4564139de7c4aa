/** `rules run` as a subprocess against the in-process emulator: health, metrics, SIGTERM, SIGHUP reload. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { userClient } from '../sources/emulator-helpers.js';
import { emulatorEnv, startDaemonProcess, tempDir, until, writeRule, type DaemonProcess } from '../daemon/harness.js';

const COMMENT_RULE = `id: welcome-leads
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome {{ lead.TITLE }}" }
`;

let emu: Emulator;
let dir: string;
let daemon: DaemonProcess | undefined;

beforeEach(async () => {
  emu = await startEmulator({ port: 0 });
  dir = tempDir();
});
afterEach(async () => {
  if (daemon && daemon.proc.exitCode === null) {
    daemon.kill('SIGKILL');
    await daemon.exited;
  }
  daemon = undefined;
  await emu.close();
});

/** The daemon's exit, or a failure naming what it last logged if it has not exited within `ceilingMs`. */
async function exitWithin(d: DaemonProcess, ceilingMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ceiling = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the daemon did not exit within ${ceilingMs} ms of SIGTERM; last log lines: ${JSON.stringify(d.logs.slice(-5))}; stderr: ${d.stderr()}`)), ceilingMs);
  });
  try {
    return await Promise.race([d.exited, ceiling]);
  } finally {
    clearTimeout(timer);
  }
}

function commentsOn(leadId: number): number {
  return emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === String(leadId) && String(c.ENTITY_TYPE).toLowerCase() === 'lead').length;
}

function run(extra: string[] = []): DaemonProcess {
  const rules = join(dir, 'rules');
  return startDaemonProcess([rules, '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '100', ...extra], emulatorEnv(emu, dir), dir);
}

describe('rules run (subprocess)', { timeout: 120_000 }, () => {
  it('serves /healthz and /metrics, processes offline events, logs one line per run, and exits 0 on SIGTERM in bounded time', async () => {
    writeRule(tempRules(), 'welcome.yaml', COMMENT_RULE);
    daemon = run(['--no-watch']);
    const url = await daemon.url;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', rules: 1, sources: expect.arrayContaining(['offline', 'schedule', 'form']) });

    const lead = Number((await userClient(emu).call<number>('crm.lead.add', { fields: { TITLE: 'Subprocess lead' } })).result);
    await until(() => commentsOn(lead) === 1, 'the comment on the new lead');
    const line = await daemon.waitForLog((r) => r.rule === 'welcome-leads' && r.outcome === 'done');
    expect(line.level).toBe(30);
    expect(line.msg).toBe('rule welcome-leads done');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('# TYPE b24rules_events_received_total counter');
    expect(metrics).toMatch(/^b24rules_events_received_total\{source="offline"\} 1$/m);
    expect(metrics).toMatch(/^b24rules_rule_runs_total\{outcome="done",rule="welcome-leads"\} 1$/m);
    expect(metrics).toMatch(/^b24rules_queue_depth \d+$/m);
    expect(metrics).toMatch(/^b24rules_dlq_size 0$/m);
    expect(metrics).toMatch(/^b24rules_rest_calls_total \d+$/m);

    daemon.kill('SIGTERM');
    // Bounded by the daemon itself (its drain deadline), not by a stopwatch here: a loaded machine only makes it slower.
    const exit = await exitWithin(daemon, 45_000);
    expect(exit.code).toBe(0);
    expect(daemon.logs.some((r) => r.msg === 'daemon stopped')).toBe(true);
    // The event was cleared from the portal's queue before exit.
    expect(emu.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules')).toEqual([]);
  });

  it('SIGHUP with a broken rule file keeps the running set; a fixed file is then loaded', async () => {
    const rulesDir = tempRules();
    writeRule(rulesDir, 'welcome.yaml', COMMENT_RULE);
    daemon = run(['--no-watch']);
    const url = await daemon.url;
    writeFileSync(join(rulesDir, 'broken.yaml'), 'id: Broken Rule\ntrigger: { event: ONCRMLEADADD }\nactions: [ { comment: ');
    daemon.kill('SIGHUP');
    const refused = await daemon.waitForLog((r) => r.msg.startsWith('rule reload refused'));
    expect(refused.level).toBe(50);
    expect(daemon.logs.some((r) => r.level === 50 && String(r.file ?? '').endsWith('broken.yaml'))).toBe(true);

    // The old set still works.
    const lead = Number((await userClient(emu).call<number>('crm.lead.add', { fields: { TITLE: 'After a bad reload' } })).result);
    await until(() => commentsOn(lead) === 1, 'the old rule still acting');
    expect((await (await fetch(`${url}/metrics`)).text())).toMatch(/^b24rules_rule_reloads_total\{outcome="refused"\} 1$/m);

    writeFileSync(
      join(rulesDir, 'broken.yaml'),
      'id: tag-leads\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - update: { entity: lead, id: "{{ lead.ID }}", fields: { COMMENTS: tagged } }\n',
    );
    daemon.kill('SIGHUP');
    await daemon.waitForLog((r) => r.msg === 'rules reloaded: 2 rule(s)');
    const lead2 = Number((await userClient(emu).call<number>('crm.lead.add', { fields: { TITLE: 'After a good reload' } })).result);
    await until(() => emu.store.get('lead', lead2)?.COMMENTS === 'tagged' && commentsOn(lead2) === 1, 'both rules acting');
    daemon.kill('SIGTERM');
    expect((await exitWithin(daemon, 45_000)).code).toBe(0);
  });

  it('reloads when a rule file changes (watched, debounced)', async () => {
    const rulesDir = tempRules();
    writeRule(rulesDir, 'welcome.yaml', COMMENT_RULE);
    daemon = run();
    await daemon.url;
    writeRule(rulesDir, 'second.yaml', 'id: second\ntrigger: { manual: {} }\nactions:\n  - notify: { user: 1, message: hi }\n');
    await daemon.waitForLog((r) => r.msg === 'rules reloaded: 2 rule(s)');
    daemon.kill('SIGTERM');
    expect((await exitWithin(daemon, 45_000)).code).toBe(0);
  });

  it('refuses to start with an invalid rule set (exit 1, errors with file:line)', async () => {
    const rulesDir = tempRules();
    writeRule(rulesDir, 'bad.yaml', 'id: bad\ntrigger: { schedule: { cron: "99 * * * *" } }\nactions: []\n');
    daemon = run();
    const exit = await daemon.exited;
    expect(exit.code).toBe(1);
    expect(daemon.stderr()).toContain('RULES_INVALID');
    expect(daemon.stderr()).toContain('bad.yaml:');
  });

  function tempRules(): string {
    const d = join(dir, 'rules');
    mkdirSync(d, { recursive: true });
    return d;
  }
});
