import { describe, expect, it } from 'vitest';
import { createScheduleSource } from '../../engine/sources/schedule.js';
import { makeContext, ManualClock, ManualTimers, openTestStore, rule } from './helpers.js';

const DAY = 86_400_000;
const berlin9 = rule('morning', { kind: 'schedule', cron: '0 9 * * *', timezone: 'Europe/Berlin' });

describe('schedule source', () => {
  it('never fires for the past on first sight, then fires at the tick in the rule time zone', async () => {
    const clock = new ManualClock(Date.parse('2026-01-05T07:00:00Z'));
    const store = openTestStore(clock.now);
    const ctx = makeContext(store, clock, new ManualTimers());
    const src = createScheduleSource({ rules: [berlin9], book: store.book }, ctx);
    await src.start();
    expect(store.inbox.depth()).toBe(0);
    expect(src.nextDue()).toBe(Date.parse('2026-01-05T08:00:00Z')); // 09:00 CET
    clock.t = Date.parse('2026-01-05T07:59:59Z');
    expect(src.check()).toEqual([]);
    clock.t = Date.parse('2026-01-05T08:00:00.400Z');
    expect(src.check()).toEqual([{ ruleId: 'morning', at: Date.parse('2026-01-05T08:00:00Z'), caughtUp: false }]);
    expect(src.check()).toEqual([]);
    const [item] = store.inbox.list();
    expect(item).toMatchObject({ source: 'schedule', key: 'morning@2026-01-05T08:00:00.000Z', ruleId: 'morning', event: null });
    expect(item?.payload).toMatchObject({ schedule: { at: '2026-01-05T08:00:00.000Z', timezone: 'Europe/Berlin' } });
    expect(ctx.notified).toBe(1);
    expect(ctx.metrics.eventsReceived.get({ source: 'schedule' })).toBe(1);
    await src.stop();
  });

  it('after downtime catches a missed schedule up once, for the latest missed tick, not once per tick', async () => {
    const clock = new ManualClock(Date.parse('2026-01-05T07:00:00Z'));
    const store = openTestStore(clock.now);
    const first = createScheduleSource({ rules: [berlin9], book: store.book }, makeContext(store, clock, new ManualTimers()));
    await first.start();
    clock.t = Date.parse('2026-01-05T08:00:01Z');
    first.check();
    await first.stop();

    // Down for three and a half days: ticks on the 6th, 7th and 8th were missed.
    clock.t = Date.parse('2026-01-08T20:00:00Z');
    const ctx = makeContext(store, clock, new ManualTimers());
    const second = createScheduleSource({ rules: [berlin9], book: store.book }, ctx);
    await second.start();
    const keys = store.inbox.list().map((i) => i.key).sort();
    expect(keys).toEqual(['morning@2026-01-05T08:00:00.000Z', 'morning@2026-01-08T08:00:00.000Z']);
    expect(store.inbox.list()[0]?.payload).toMatchObject({ schedule: { caughtUp: true } });
    expect(second.check()).toEqual([]);
    clock.advance(DAY);
    expect(second.check().map((f) => new Date(f.at).toISOString())).toEqual(['2026-01-09T08:00:00.000Z']);
    await second.stop();
  });

  it('catch-up comes from the bookkeeping, not lateness: a stalled loop fires each tick it passed, none caught up; a gap longer than the loop ever waits is caught up once', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T12:00:00.300Z'));
    const store = openTestStore(clock.now);
    const everySecond = rule('beat', { kind: 'schedule', cron: '* * * * * *', timezone: 'UTC' });
    const src = createScheduleSource({ rules: [everySecond], book: store.book, maxWaitMs: 30_000 }, makeContext(store, clock, new ManualTimers()));
    await src.start();
    clock.advance(1000);
    expect(src.check()).toEqual([{ ruleId: 'beat', at: Date.parse('2026-03-01T12:00:01Z'), caughtUp: false }]);
    // The event loop stalls for 2.3 s: the timer fires late, past two ticks.
    clock.advance(2300);
    expect(src.check()).toEqual([
      { ruleId: 'beat', at: Date.parse('2026-03-01T12:00:02Z'), caughtUp: false },
      { ruleId: 'beat', at: Date.parse('2026-03-01T12:00:03Z'), caughtUp: false },
    ]);
    // Suspended for ten minutes (the loop never waits longer than 30 s): nobody watched, one catch-up for the latest tick.
    clock.advance(600_000);
    expect(src.check()).toEqual([{ ruleId: 'beat', at: Date.parse('2026-03-01T12:10:03Z'), caughtUp: true }]);
    clock.advance(1000);
    expect(src.check()).toEqual([{ ruleId: 'beat', at: Date.parse('2026-03-01T12:10:04Z'), caughtUp: false }]);
    await src.stop();
  });

  it('a rule that leaves the set and comes back catches up what fell due meanwhile, once', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T12:00:00.300Z'));
    const store = openTestStore(clock.now);
    const everySecond = rule('beat', { kind: 'schedule', cron: '* * * * * *', timezone: 'UTC' });
    const src = createScheduleSource({ rules: [everySecond], book: store.book }, makeContext(store, clock, new ManualTimers()));
    await src.start();
    src.setRules([]);
    clock.advance(5000);
    expect(src.check()).toEqual([]);
    src.setRules([everySecond]);
    expect(src.check()).toEqual([{ ruleId: 'beat', at: Date.parse('2026-03-01T12:00:05Z'), caughtUp: true }]);
    await src.stop();
  });

  it('a crash between storing a tick and recording the fire repeats the same key, which the inbox ignores', async () => {
    const clock = new ManualClock(Date.parse('2026-01-05T07:00:00Z'));
    const store = openTestStore(clock.now);
    const src = createScheduleSource({ rules: [berlin9], book: store.book }, makeContext(store, clock, new ManualTimers()));
    await src.start();
    clock.t = Date.parse('2026-01-05T08:00:05Z');
    src.check();
    store.book.setLastFire('morning', Date.parse('2026-01-05T07:00:00Z')); // the fire was never recorded
    const ctx = makeContext(store, clock, new ManualTimers());
    const again = createScheduleSource({ rules: [berlin9], book: store.book }, ctx);
    await again.start();
    expect(store.inbox.list()).toHaveLength(1);
    expect(ctx.metrics.eventsDuplicate.get({ source: 'schedule' })).toBe(1);
  });

  it('the timer loop waits until the next tick (capped) and fires from the timer', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T11:59:50Z'));
    const store = openTestStore(clock.now);
    const timers = new ManualTimers();
    const everyMinute = rule('minutely', { kind: 'schedule', cron: '* * * * *', timezone: 'UTC' });
    const src = createScheduleSource({ rules: [everyMinute], book: store.book, maxWaitMs: 30_000 }, makeContext(store, clock, timers));
    await src.start();
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([10_000]);
    clock.advance(10_000);
    timers.runAll();
    expect(store.inbox.list().map((i) => i.key)).toEqual(['minutely@2026-03-01T12:00:00.000Z']);
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([30_000]);
    await src.stop();
    expect(timers.pending.size).toBe(0);
  });

  it('follows the time zone across a DST change (America/New_York 09:00 is 14:00Z in winter, 13:00Z in summer)', async () => {
    const clock = new ManualClock(Date.parse('2026-03-06T12:00:00Z'));
    const store = openTestStore(clock.now);
    const ny = rule('ny', { kind: 'schedule', cron: '0 9 * * *', timezone: 'America/New_York' });
    const src = createScheduleSource({ rules: [ny], book: store.book }, makeContext(store, clock, new ManualTimers()));
    await src.start();
    expect(new Date(src.nextDue() ?? 0).toISOString()).toBe('2026-03-06T14:00:00.000Z');
    clock.t = Date.parse('2026-03-09T12:00:00Z');
    src.check();
    expect(new Date(src.nextDue() ?? 0).toISOString()).toBe('2026-03-09T13:00:00.000Z');
  });

  it('ignores disabled rules and non-schedule triggers; setRules swaps the set', async () => {
    const clock = new ManualClock(Date.parse('2026-01-05T07:00:00Z'));
    const store = openTestStore(clock.now);
    const src = createScheduleSource(
      { rules: [rule('off', { kind: 'schedule', cron: '* * * * *', timezone: 'UTC' }, { enabled: false }), rule('m', { kind: 'manual' })], book: store.book },
      makeContext(store, clock, new ManualTimers()),
    );
    await src.start();
    expect(src.nextDue()).toBeNull();
    src.setRules([berlin9]);
    expect(src.nextDue()).not.toBeNull();
    await src.stop();
  });

  it('an invalid cron is a SCHEDULE_INVALID user error naming the rule', () => {
    const clock = new ManualClock(0);
    const store = openTestStore(clock.now);
    expect(() =>
      createScheduleSource({ rules: [rule('bad', { kind: 'schedule', cron: '61 * * * *', timezone: 'UTC' })], book: store.book }, makeContext(store, clock)),
    ).toThrow(expect.objectContaining({ code: 'SCHEDULE_INVALID', ruleId: 'bad' }));
  });
});
