/**
 * The daemon's run log and `rule_runs_total`: one log line and one count per
 * finished run, also for a run that finishes long after it was created (a call
 * that failed and is retried after its backoff, while well over a hundred newer
 * runs come and go). The daemon runs in-process against the emulator over real
 * HTTP, with a manual clock (the backoff) and manual timers (the tick loop).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import type { TickReport } from '../../engine/pipeline/types.js';
import type { RunStatus } from '../../engine/store/index.js';
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
on_error: { retries: 3, then: dead_letter }
actions:
  - comment: { entity: deal, id: "{{ params.deal }}", text: "noted" }
---
id: filler
trigger: { manual: {} }
condition: { "==": [1, 2] }
actions:
  - comment: { entity: deal, id: "{{ params.deal }}", text: "never" }
`;

describe('daemon run log', () => {
  it('regression: a run that finishes after a retry with backoff is logged once and counted once in rule_runs_total', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-runlog-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    const timers = new ManualTimers();
    const { logger, records } = memoryLogger();
    const d = createDaemon({
      rulesPaths: [join(dir, 'rules')],
      statePath: join(dir, 'state.db'),
      config: oauthConfig(emu, dir),
      logger,
      listen: '127.0.0.1:0',
      watch: false,
      offline: false,
      clock,
      timers,
      engineOptions: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
    });
    daemon = d;
    const deal = String((await userClient(emu).call<number>('crm.deal.add', { fields: { TITLE: 'Run log' } })).result);
    await d.start();

    // One tick: wake the loop if it sleeps (a busy loop ticks again by itself).
    const tick = (): Promise<TickReport> => {
      const next = d.nextTick();
      timers.runAll();
      return next;
    };
    const tickUntil = async (what: string, done: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !done(); i++) await tick();
      if (!done()) throw new Error(`timed out waiting for ${what}`);
    };
    let n = 0;
    const submit = (ruleId: string) => d.store.inbox.add([{ source: 'manual', key: `${ruleId}:${++n}`, event: null, ruleId, payload: { params: { deal } }, receivedAt: clock.now() }]);
    const runsOf = (ruleId: string) => d.store.runs.list({ ruleId, limit: 1000 });
    const allFinal = (ruleId: string, count: number) => {
      const rs = runsOf(ruleId);
      return rs.length === count && rs.every((r) => (['done', 'skipped', 'failed', 'dead'] as RunStatus[]).includes(r.status));
    };

    // The deal is not there when the note run first calls: the call fails and the run waits a minute for its retry.
    const row = emu.store.get('deal', deal)!;
    emu.store.delete('deal', deal);
    submit('note');
    await tickUntil('the note run to wait for its retry', () => runsOf('note')[0]?.status === 'waiting');
    emu.store.put('deal', deal, row);
    const noteRun = runsOf('note')[0]!.id;

    // Meanwhile 120 newer runs are created and finish (their condition is false).
    for (let i = 0; i < 120; i++) submit('filler');
    await tickUntil('120 filler runs', () => allFinal('filler', 120));
    expect(d.store.runs.get(noteRun)?.status).toBe('waiting');

    // The backoff passes: the retry succeeds.
    clock.advance(61_000);
    await tickUntil('the note run to finish', () => d.store.runs.get(noteRun)?.status === 'done');
    expect(emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === deal && c.COMMENT === 'noted')).toHaveLength(1);
    // More runs finish on the same (frozen) clock reading afterwards.
    submit('filler');
    submit('filler');
    await tickUntil('122 filler runs', () => allFinal('filler', 122));
    await tick();

    const lines = records.filter((r) => typeof r.rule === 'string' && typeof r.run === 'number' && typeof r.outcome === 'string' && r.component === undefined);
    expect(lines.filter((r) => r.run === noteRun).map((r) => [r.msg, r.level])).toEqual([['rule note done', 30]]);
    const fillerLines = lines.filter((r) => r.rule === 'filler');
    expect(fillerLines).toHaveLength(122);
    expect(new Set(fillerLines.map((r) => r.run)).size).toBe(122);
    expect(fillerLines.every((r) => r.outcome === 'skipped')).toBe(true);
    // Runs that do not act log at debug, with their reason (a daemon at info shows only the runs that acted or failed).
    expect(fillerLines.every((r) => r.level === 20 && String(r.reason).startsWith('condition false'))).toBe(true);

    const metrics = await (await fetch(`${d.url!}/metrics`)).text();
    const sample = (rule: string, outcome: string) => {
      const m = new RegExp(`^b24rules_rule_runs_total\\{outcome="${outcome}",rule="${rule}"\\} (\\d+)$`, 'm').exec(metrics);
      return m ? Number(m[1]) : 0;
    };
    expect(sample('note', 'done')).toBe(1);
    expect(sample('filler', 'skipped')).toBe(122);
    expect(metrics.match(/^b24rules_rule_runs_total\{/gm)).toHaveLength(2);
  });

  it('a restarted daemon does not log or count again the runs finished before it started', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-runlog-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    const make = (logger: ReturnType<typeof memoryLogger>['logger'], timers: ManualTimers) =>
      createDaemon({ rulesPaths: [join(dir, 'rules')], statePath: join(dir, 'state.db'), config: oauthConfig(emu!, dir), logger, listen: null, watch: false, offline: false, clock, timers });
    const run = async (d: Daemon, timers: ManualTimers, key: string) => {
      d.store.inbox.add([{ source: 'manual', key, event: null, ruleId: 'filler', payload: { params: { deal: '1' } }, receivedAt: clock.now() }]);
      const finished = () => d.store.runs.list({ ruleId: 'filler', limit: 100 }).some((r) => r.triggerKey === `manual:${key}` && r.status === 'skipped');
      for (let i = 0; i < 20 && !finished(); i++) {
        const next = d.nextTick();
        timers.runAll();
        await next;
      }
      expect(finished()).toBe(true);
    };
    const first = memoryLogger();
    const t1 = new ManualTimers();
    daemon = make(first.logger, t1);
    await daemon.start();
    await run(daemon, t1, 'a');
    await daemon.stop();
    expect(first.records.filter((r) => r.msg === 'rule filler skipped')).toHaveLength(1);

    const second = memoryLogger();
    const t2 = new ManualTimers();
    daemon = make(second.logger, t2);
    await daemon.start();
    await run(daemon, t2, 'b');
    const lines = second.records.filter((r) => r.msg === 'rule filler skipped');
    expect(lines.map((r) => r.trigger)).toEqual(['manual:b']);
    expect(daemon.metrics.ruleRuns.get({ rule: 'filler', outcome: 'skipped' })).toBe(1);
  });
});
