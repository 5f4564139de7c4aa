/**
 * b24rules_shadow_calls_total (issue 16): the daemon counts a shadow run's
 * journaled calls, by rule, when the run finishes, and its /metrics shows them
 * beside the live rule's runs; a worker's registry of many portals adds the
 * `portal` label as to every other family. The daemon runs in-process against
 * the emulator over HTTP, with a manual clock and manual timers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { createDaemonMetrics, renderPortalMetrics } from '../../engine/status/index.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { oauthConfig, userClient } from '../sources/emulator-helpers.js';
import { tempDir, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

const RULES = `id: note
trigger: { manual: {} }
actions:
  - comment: { entity: deal, id: "{{ params.deal }}", text: "noted" }
---
id: note-shadow
mode: shadow
trigger: { manual: {} }
actions:
  - comment: { entity: deal, id: "{{ params.deal }}", text: "noted" }
  - notify: { user: 1, message: "deal {{ params.deal }} noted" }
`;

describe('shadow calls in the metrics', () => {
  it('counts a shadow run’s journaled calls by rule; none of them reaches the portal', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-shadow-metrics-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    const timers = new ManualTimers();
    const { logger, records } = memoryLogger();
    const d = createDaemon({ rulesPaths: [join(dir, 'rules')], statePath: join(dir, 'state.db'), config: oauthConfig(emu, dir), logger, listen: '127.0.0.1:0', watch: false, offline: false, clock, timers });
    daemon = d;
    const deal = String((await userClient(emu).call<number>('crm.deal.add', { fields: { TITLE: 'Shadow metrics' } })).result);
    await d.start();
    emu.calls.clear();
    for (const [i, ruleId] of ['note', 'note-shadow', 'note-shadow'].entries()) {
      d.store.inbox.add([{ source: 'manual', key: `${ruleId}:${i}`, event: null, ruleId, payload: { params: { deal } }, receivedAt: clock.now() }]);
    }
    const finished = () => d.store.runs.list({ limit: 10 }).filter((r) => r.status === 'done').length === 3;
    for (let i = 0; i < 50 && !finished(); i++) {
      const next = d.nextTick();
      timers.runAll();
      await next;
    }
    expect(finished()).toBe(true);
    // One more tick: the run log reads the runs finished in the last one.
    const next = d.nextTick();
    timers.runAll();
    await next;

    const metrics = await (await fetch(`${d.url!}/metrics`)).text();
    expect(metrics).toMatch(/^b24rules_shadow_calls_total\{rule="note-shadow"\} 4$/m);
    expect(metrics).not.toMatch(/^b24rules_shadow_calls_total\{rule="note"\}/m);
    expect(metrics).toMatch(/^b24rules_rule_runs_total\{outcome="done",rule="note-shadow"\} 2$/m);
    expect(emu.calls.of('crm.timeline.comment.add')).toHaveLength(1);
    expect(emu.calls.of('im.notify.system.add')).toHaveLength(0);
    // The run log says which runs were shadow ones.
    expect(records.filter((r) => r.rule === 'note-shadow' && r.outcome === 'done').map((r) => r.mode)).toEqual(['shadow', 'shadow']);
  });

  it('a worker’s metrics of many portals label the shadow calls with their portal', async () => {
    const a = createDaemonMetrics();
    const b = createDaemonMetrics();
    a.shadowCalls.inc({ rule: 'canary' }, 3);
    b.shadowCalls.inc({ rule: 'canary' }, 2);
    const text = await renderPortalMetrics([
      { portal: 'a.example', registry: a.registry },
      { portal: 'b.example', registry: b.registry },
    ]);
    expect(text).toContain('b24rules_shadow_calls_total{portal="a.example",rule="canary"} 3');
    expect(text).toContain('b24rules_shadow_calls_total{portal="b.example",rule="canary"} 2');
  });
});
