/**
 * What the console relies on below its pages: retention by outcome (a failed
 * run's trace outlives routine skips; on SQLite and PostgreSQL) and the health
 * ring's one-minute samples, both on an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { HealthRing } from '../../engine/console/index.js';
import { parseRetention } from '../../engine/daemon/index.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_RETENTION, type RunStatus } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';
import { ManualClock } from '../sources/helpers.js';

const DAY = 86_400_000;

describe('pruneByOutcome', () => {
  forEachStore((stores) => {
    it('keeps an item while one of its runs is younger than its outcome allows (skips a day, done 7, failures 30), and DLQ entries, runs on a timer and unfinished items always', () => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      const store = stores.open({ now: clock.now });
      const item = (key: string, statuses: RunStatus[], end: 'done' | 'dead' | null = statuses.includes('dead') ? 'dead' : 'done') => {
        store.inbox.add([{ source: 'offline', key, event: 'ONCRMLEADADD', ruleId: null, payload: {}, receivedAt: clock.now() }]);
        const id = store.inbox.lastId();
        const runs = statuses.map((status, n) =>
          store.runs.create({ itemId: id, ruleId: `r${n}`, ruleHash: 'h', triggerKey: `offline:${key}`, recordKey: 'lead:1', status, ...(status === 'skipped' ? { reason: 'condition false' } : { error: status === 'failed' ? 'boom' : null }) }),
        );
        if (end) {
          store.inbox.finish(id, end);
          store.inbox.markAcknowledged([id]);
        }
        return { id, runs };
      };
      const SKIPS = 300;
      const skips = Array.from({ length: SKIPS }, (_, i) => item(`skip-${i}`, ['skipped']).id);
      const done = item('done', ['done', 'skipped']).id;
      const failed = item('failed', ['failed', 'skipped']).id;
      // Kept however old: a dead-lettered item, a run delayed, a run waiting on its timer, an item still being worked on.
      const lettered = item('lettered', ['dead']);
      store.dlq.add({ itemId: lettered.id, runId: lettered.runs[0]!, ruleId: 'r0', error: 'HTTP 503', payload: {} });
      const delayed = item('delayed', ['delayed']).id;
      const waiting = item('waiting', ['waiting']);
      store.timers.create({ kind: 'wait_for', ruleId: 'r0', recordKey: 'lead:1', runId: waiting.runs[0]!, dueAt: clock.now() + 90 * DAY, event: 'ONCRMLEADUPDATE' });
      const unfinished = item('unfinished', ['active'], null).id;
      const always = [lettered.id, delayed, waiting.id, unfinished];
      const left = () => new Set(store.inbox.list({ limit: 5000 }).map((i) => i.id));

      clock.advance(DAY / 2);
      expect(store.pruneByOutcome(DEFAULT_RETENTION)).toBe(0);
      clock.advance(DAY);
      expect(store.pruneByOutcome(DEFAULT_RETENTION)).toBe(SKIPS);
      expect(left()).toEqual(new Set([done, failed, ...always]));
      expect(store.runs.countByStatus()).toMatchObject({ skipped: 2, done: 1, failed: 1, dead: 1, delayed: 1, waiting: 1, active: 1 });
      clock.advance(7 * DAY);
      expect(store.pruneByOutcome(DEFAULT_RETENTION)).toBe(1);
      expect(left()).toEqual(new Set([failed, ...always]));
      expect(store.runs.list({ status: 'failed' })[0]!.error).toBe('boom');
      clock.advance(30 * DAY);
      expect(store.pruneByOutcome(DEFAULT_RETENTION)).toBe(1);
      expect(left()).toEqual(new Set(always));
      expect(store.dlq.count()).toBe(1);
      expect(store.timers.pendingOfRun(waiting.runs[0]!)).toBeDefined();
      expect(skips).toHaveLength(SKIPS);
    });
  });
});

describe('rules run --retention', () => {
  it("takes 'default' or outcome=AGE pairs, and refuses anything else as bad usage", async () => {
    expect(parseRetention('default')).toEqual(DEFAULT_RETENTION);
    expect(parseRetention('skipped=6h, dead=90d')).toEqual({ ...DEFAULT_RETENTION, skipped: 6 * 3600_000, dead: 90 * DAY });
    const r = await runCli(['run', '--retention', 'skipped=1w', '--no-console']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--retention takes 'default' or outcome=AGE pairs");
  });
});

describe('HealthRing', () => {
  it('closes a sample per minute with the counters as that minute\'s difference and the levels as read, keeping an hour', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
    const totals = { calls: 100, waits: 2, depth: 5 };
    const ring = new HealthRing(clock, {
      depth: () => totals.depth,
      dlq: () => 1,
      callsTotal: () => totals.calls,
      rateLimitWaitsTotal: () => totals.waits,
      offlineReservations: () => 0,
      tokenExpiresAt: () => Date.UTC(2026, 0, 1, 13, 0, 0),
    });
    totals.calls += 30;
    totals.waits += 1;
    expect(ring.samples()).toEqual([{ at: Date.UTC(2026, 0, 1, 12, 0), depth: 5, dlq: 1, calls: 30, rateLimitWaits: 1, offlineReservations: 0, tokenMinutesLeft: 59 }]);
    clock.advance(60_000);
    ring.tick(); // the sampler's timer at the minute's end
    totals.calls += 7;
    totals.depth = 0;
    const [closed, current] = ring.samples();
    expect(closed).toMatchObject({ at: Date.UTC(2026, 0, 1, 12, 0), calls: 30, rateLimitWaits: 1 });
    expect(current).toMatchObject({ at: Date.UTC(2026, 0, 1, 12, 1), calls: 7, rateLimitWaits: 0, depth: 0 });
    for (let i = 0; i < 90; i++) {
      clock.advance(60_000);
      ring.tick();
    }
    const samples = ring.samples();
    expect(samples.length).toBe(61);
    expect(samples[samples.length - 1]!.at - samples[0]!.at).toBe(60 * 60_000);
  });
});
