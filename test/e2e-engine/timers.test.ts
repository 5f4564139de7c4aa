/**
 * Timers through the engine (issue 18), against the emulator over HTTP on a real state file:
 * delay: (the actions before it now, the rest when its timer fires, with the record read
 * again; recheck; until:; business hours; across a restart), for: on the stale-deal pattern
 * (escalated at the tick of the deadline, cancelled when the deal leaves the stage), and
 * downtime (each due timer fires once). Time moves by the harness clock; nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuleSource } from '../../engine/rules/index.js';
import { dealEvent, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const comments = (x: Harness, deal: number) => x.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === String(deal) && String(c.ENTITY_TYPE).toLowerCase() === 'deal').map((c) => String(c.COMMENT));
const setDeal = (x: Harness, id: number, fields: Record<string, unknown>) => x.emu.store.put('deal', id, { ...x.emu.store.get('deal', id)!, ...fields });

describe('delay:', () => {
  it('runs the actions before it now and the rest when its timer fires, once, with the record read again, across a restart', async () => {
    h = await harness(`
id: followup
trigger: { event: ONCRMDEALUPDATE }
actions:
  - create: { entity: lead, fields: { TITLE: "Lead for deal {{ deal.ID }}" }, as: lead_id }
  - delay: 2h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Two hours later: {{ deal.TITLE }} (lead {{ lead_id }})" }
`);
    const start = h.clock.now();
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const leads = h.emu.store.all('lead').filter((l) => l.TITLE === 'Lead for deal 1');
    expect(leads).toHaveLength(1);
    expect(comments(h, 1)).toEqual([]);
    const [run] = h.store.runs.list({ ruleId: 'followup' });
    expect(run).toMatchObject({ status: 'delayed', cursor: 2, nextAttemptAt: start + 2 * HOUR });
    expect(String(run!.trace.waitingFor)).toMatch(/^timer \d+: delay 2h, until 2026-03-02T12:00:00.000Z$/);
    // The run waits; its event is done, so its source can acknowledge it.
    expect(h.store.inbox.get(run!.itemId)!.status).toBe('done');
    expect(h.store.timers.list()).toEqual([expect.objectContaining({ kind: 'delay', runId: run!.id, dueAt: start + 2 * HOUR, state: 'pending' })]);

    setDeal(h, 1, { TITLE: 'Renamed meanwhile' });
    h.clock.t = start + 2 * HOUR - 1;
    await h.engine.tick();
    expect(comments(h, 1)).toEqual([]);
    expect(h.store.runs.get(run!.id)!.status).toBe('delayed');

    // A restart between the timer's creation and its firing: a new engine on the same file.
    h.reopen();
    h.clock.t = start + 2 * HOUR;
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    expect(comments(h, 1)).toEqual([`Two hours later: Renamed meanwhile (lead ${leads[0]!.ID})`]);
    const done = h.store.runs.get(run!.id)!;
    expect(done.status).toBe('done');
    expect(done.trace.woke).toEqual([expect.objectContaining({ at: '2026-03-02T12:00:00.000Z' })]);
    expect(h.store.timers.get(h.store.timers.list({ state: 'fired' })[0]!.id)).toMatchObject({ state: 'fired', firedAt: start + 2 * HOUR });
    for (let i = 0; i < 3; i++) {
      h.clock.advance(HOUR);
      await h.engine.tick();
    }
    expect(comments(h, 1)).toHaveLength(1);
    expect(h.emu.store.all('lead').filter((l) => l.TITLE === 'Lead for deal 1')).toHaveLength(1);
  });

  it('with recheck: true ends the run when the condition no longer holds, keeping its journal', async () => {
    h = await harness(`
id: still-preparing
trigger: { event: ONCRMDEALUPDATE }
condition: { "==": [{ var: deal.STAGE_ID }, PREPARATION] }
actions:
  - delay: { for: 1h, recheck: true }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Still preparing" }
---
id: no-recheck
trigger: { event: ONCRMDEALUPDATE }
condition: { "==": [{ var: deal.STAGE_ID }, PREPARATION] }
actions:
  - delay: 1h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Went on without a recheck: {{ deal.STAGE_ID }}" }
`);
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    expect(h.store.runs.list({ status: 'delayed' })).toHaveLength(2);
    setDeal(h, 1, { STAGE_ID: 'EXECUTING' });
    h.clock.advance(HOUR);
    await h.engine.tick();
    expect(comments(h, 1)).toEqual(['Went on without a recheck: EXECUTING']);
    const [rechecked] = h.store.runs.list({ ruleId: 'still-preparing' });
    expect(rechecked!.status).toBe('skipped');
    expect(rechecked!.reason).toMatch(/^after the delay: .*STAGE_ID \("EXECUTING"\) == "PREPARATION" is false/);
    expect(rechecked!.trace.waitingFor).toBeDefined();
  });

  it('waits until a date a template gives, and counts business hours of a calendar', async () => {
    const yaml = `
id: before-close
trigger: { event: ONCRMDEALUPDATE }
actions:
  - delay: { until: "{{ deal.CLOSEDATE | add_days: -1 }}" }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Closes tomorrow" }
---
id: office-hours
trigger: { event: ONCRMDEALUPDATE }
actions:
  - delay: { for: 3h, within: office }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Three office hours later" }
`;
    const compiled = loadRuleSource(yaml, 'timers.yaml', { calendars: { office: { time_zone: 'Europe/Berlin', hours: { 'Mon-Fri': '09:00-17:00' } } } });
    expect(compiled.diagnostics).toEqual([]);
    // Friday 2026-03-06 15:00 UTC = 16:00 Berlin: one office hour left that day, two on Monday.
    h = await harness('id: placeholder\ntrigger: { manual: {} }\nactions:\n  - stop: {}\n', { startAt: Date.parse('2026-03-06T15:00:00Z'), engine: { rules: compiled.rules } });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const closes = Date.parse(String(h.emu.store.get('deal', 1)!.CLOSEDATE));
    const due = Object.fromEntries(h.store.timers.list().map((t) => [t.ruleId, t.dueAt]));
    expect(due['before-close']).toBe(closes - DAY);
    expect(new Date(due['office-hours']!).toISOString()).toBe('2026-03-09T10:00:00.000Z');
    // Each fires at its moment, not a millisecond before: the day before the close date, then Monday 11:00 Berlin.
    for (const [rule, text] of [['before-close', 'Closes tomorrow'], ['office-hours', 'Three office hours later']] as const) {
      h.clock.t = due[rule]! - 1;
      await h.engine.tick();
      expect(comments(h, 1)).not.toContain(text);
      h.clock.t = due[rule]!;
      await h.engine.tick();
      expect(comments(h, 1)).toContain(text);
    }
    expect(comments(h, 1)).toEqual(['Closes tomorrow', 'Three office hours later']);
  });
});

describe('for: on the stale-deal pattern', () => {
  const STALE = `
id: stale-executing
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: EXECUTING } }
  for: 14d
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "14 days in {{ deal.STAGE_ID }} (from {{ changes.STAGE_ID.from }})" }
`;

  it('escalates a deal that stays in the stage 14 days at the tick of the deadline, once; a deal that leaves cancels its timer', async () => {
    h = await harness(STALE);
    const start = h.clock.now();
    // The engine sees deals 1 and 2 first in other stages (no timer), then both enter EXECUTING.
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await h.engine.tick();
    expect(h.store.timers.list({ state: ['pending', 'fired', 'cancelled'] })).toEqual([]);
    setDeal(h, 1, { STAGE_ID: 'EXECUTING' });
    setDeal(h, 2, { STAGE_ID: 'EXECUTING' });
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await h.engine.tick();
    const timers = h.store.timers.list();
    expect(timers.map((t) => [t.recordKey, t.dueAt])).toEqual([
      ['deal:2', start + 14 * DAY],
      ['deal:1', start + 14 * DAY],
    ]);
    const armed = h.store.runs.list({ ruleId: 'stale-executing', status: 'skipped' })[0]!;
    expect(armed.reason).toMatch(/^for: STAGE_ID is "EXECUTING": timer \d+ fires at 2026-03-16T10:00:00.000Z \(14d\) unless the record leaves the state$/);

    // Another change of deal 1 in the stage keeps its timer; deal 2 leaves the stage on day 3.
    h.clock.t = start + 3 * DAY;
    setDeal(h, 1, { TITLE: 'Renamed in the stage' });
    setDeal(h, 2, { STAGE_ID: 'FINAL_INVOICE' });
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await h.engine.tick();
    expect(h.store.timers.list({ state: 'pending' }).map((t) => t.recordKey)).toEqual(['deal:1']);
    expect(h.store.timers.list({ state: 'cancelled' })[0]).toMatchObject({ recordKey: 'deal:2', note: expect.stringContaining('STAGE_ID is "FINAL_INVOICE"') });

    h.clock.t = start + 14 * DAY - 1;
    await h.engine.tick();
    expect(comments(h, 1)).toEqual([]);
    h.clock.t = start + 14 * DAY;
    await h.engine.tick();
    expect(comments(h, 1)).toEqual(['14 days in EXECUTING (from PREPARATION)']);
    expect(comments(h, 2)).toEqual([]);
    for (let i = 0; i < 3; i++) {
      h.clock.advance(DAY);
      await h.engine.tick();
    }
    expect(comments(h, 1)).toHaveLength(1);
    expect(comments(h, 2)).toEqual([]);
    // The fired timer's item was retired: nothing of it is left pending.
    expect(h.store.inbox.list({ source: 'timer' }).map((i) => [i.status, i.ruleId])).toEqual([['done', 'stale-executing']]);
  });

  it('a deal that left the stage without an event is not escalated: the state is checked when the timer fires', async () => {
    h = await harness(STALE);
    h.store.snapshots.put('deal', '1', { ...h.emu.store.get('deal', 1)!, STAGE_ID: 'PREPARATION' });
    setDeal(h, 1, { STAGE_ID: 'EXECUTING' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    expect(h.store.timers.list()).toHaveLength(1);
    // Moved on while the engine missed the event (or it is still queued).
    setDeal(h, 1, { STAGE_ID: 'FINAL_INVOICE' });
    h.clock.advance(14 * DAY);
    await h.engine.tick();
    await h.engine.tick();
    expect(comments(h, 1)).toEqual([]);
    const fired = h.store.runs.list({ ruleId: 'stale-executing' })[0]!;
    expect(fired.reason).toMatch(/^for: STAGE_ID is "FINAL_INVOICE", not "EXECUTING" when timer \d+ fired/);
    // The firing took no snapshot: the queued event still shows the stage change.
    expect(h.store.snapshots.get('deal', '1')!.fields.STAGE_ID).toBe('EXECUTING');
  });
});

describe('downtime', () => {
  it('after three days down, each timer that fell due meanwhile fires once', async () => {
    h = await harness(`
id: later
trigger: { event: ONCRMDEALUPDATE }
actions:
  - delay: 1h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "later" }
`);
    h.store.inbox.add([dealEvent(1), dealEvent(2), dealEvent(3)]);
    await h.engine.tick();
    h.clock.advance(HOUR);
    setDeal(h, 1, { TITLE: 'Changed again' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    // Deal 1's woken run held the new one back (serial) for its tick: it starts a little later.
    h.clock.advance(5_000);
    await h.engine.tick();
    expect(h.store.timers.list({ state: 'pending' }).length).toBe(1);
    expect(h.store.timers.list({ state: 'fired' }).length).toBe(3);
    // Down for three days: no tick. The first tick after fires the one due timer once, not once per missed interval.
    h.reopen();
    h.clock.advance(3 * DAY);
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    for (let i = 0; i < 3; i++) {
      h.clock.advance(HOUR);
      await h.engine.tick();
    }
    expect(comments(h, 1)).toEqual(['later', 'later']);
    expect(comments(h, 2)).toEqual(['later']);
    expect(comments(h, 3)).toEqual(['later']);
    expect(h.store.timers.countByState()).toEqual({ pending: 0, fired: 4, cancelled: 0 });
  });
});
