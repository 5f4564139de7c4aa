/**
 * Timers through the engine and the emulator over HTTP: the defects a review of issue 18
 * found, one test each (a rule edited while its runs wait, an awaited event already in the
 * inbox when the timeout falls due, `concurrency: skip` and a woken run, a fired for: timer's
 * own item and an unrelated wait). Time moves by the harness clock; nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InboxItemInput } from '../../engine/store/index.js';
import { dealEvent, drain, harness, leadEvent, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const comments = (x: Harness, entity: 'deal' | 'lead', id: number) =>
  x.emu.store
    .all('timeline_comment')
    .filter((c) => String(c.ENTITY_ID) === String(id) && String(c.ENTITY_TYPE).toLowerCase() === entity)
    .map((c) => String(c.COMMENT));

describe('a rule edited while its runs wait', () => {
  it('a delayed run whose rule changed ends skipped with its journal when its timer fires; no action of the new rule runs for it', async () => {
    const before = `
id: followup
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Now" }
  - delay: 2h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }
`;
    h = await harness(before);
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const [run] = h.store.runs.list({ ruleId: 'followup' });
    expect(run!.status).toBe('delayed');
    const oldHash = run!.ruleHash;
    const edited = rules(before.replace('  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }', '  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Inserted" }\n  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }'));
    expect(edited[0]!.hash).not.toBe(oldHash);
    h.reopen({ rules: edited });
    h.clock.advance(2 * HOUR);
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    expect(comments(h, 'deal', 1)).toEqual(['Now']);
    const ended = h.store.runs.get(run!.id)!;
    expect(ended.status).toBe('skipped');
    expect(ended.trace.reason).toBe(`rule followup changed while the run waited (was ${oldHash.slice(0, 8)}, now ${edited[0]!.hash.slice(0, 8)}); its remaining actions were not run`);
    // The journal of what it did before the delay is kept.
    expect(ended.trace.effects).toEqual([expect.objectContaining({ method: 'crm.timeline.comment.add', state: 'done' })]);
    h.clock.advance(HOUR);
    await h.engine.tick();
    expect(comments(h, 'deal', 1)).toEqual(['Now']);
  });
});

const WAIT_RULE = `
id: call-new-lead
trigger: { event: ONCRMLEADADD }
actions:
  - wait_for:
      event: ONCRMACTIVITYADD
      match: { "==": [{ var: activity.TYPE_ID }, "2"] }
      timeout: 2h
      on_timeout:
        - comment: { entity: lead, id: "{{ lead.ID }}", text: "Nobody called" }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Called in time" }
`;
let seq = 0;
function activityEvent(id: number, receivedAt: number): InboxItemInput {
  const k = `review-act:${++seq}`;
  return { source: 'outgoing', key: k, event: 'ONCRMACTIVITYADD', ruleId: null, payload: { event: 'ONCRMACTIVITYADD', data: { FIELDS: { ID: String(id) } } }, receivedAt };
}
function addActivity(x: Harness, lead: number, typeId: number): number {
  const id = x.emu.store.all('activity').reduce((m, a) => Math.max(m, Number(a.ID)), 0) + 1;
  x.emu.store.put('activity', id, { ID: String(id), OWNER_TYPE_ID: '1', OWNER_ID: String(lead), TYPE_ID: String(typeId), SUBJECT: 'contact' });
  return id;
}

describe('wait_for and its timeout in the same tick', () => {
  it('an awaited event already in the inbox, received before the timeout, ends the wait at the first tick after the timeout; on_timeout does not run', async () => {
    h = await harness(WAIT_RULE);
    h.store.inbox.add([leadEvent(1)]);
    await h.engine.tick();
    const [run] = h.store.runs.list({ ruleId: 'call-new-lead' });
    expect(run!.status).toBe('delayed');
    // The call comes an hour in, but the daemon does not tick again until after the timeout.
    h.clock.advance(HOUR);
    h.store.inbox.add([activityEvent(addActivity(h, 1, 2), h.clock.now())]);
    h.clock.advance(2 * HOUR);
    await h.engine.tick();
    expect(comments(h, 'lead', 1)).toEqual(['Called in time']);
    expect(h.store.runs.get(run!.id)!.status).toBe('done');
    expect(h.store.timers.list()[0]!.note).toMatch(/^ONCRMACTIVITYADD outgoing:review-act:\d+ came$/);
  });

  it('an item received before the wait started (still in the inbox) does not end it', async () => {
    h = await harness(WAIT_RULE, { engine: { options: { maxItemsPerTick: 1 } } });
    const received = h.clock.now();
    // The call's event is queued behind the lead's: the tick takes one item.
    h.store.inbox.add([leadEvent(1), activityEvent(addActivity(h, 1, 2), received)]);
    h.clock.advance(1);
    await h.engine.tick();
    expect(h.store.runs.list({ ruleId: 'call-new-lead' })[0]!.status).toBe('delayed');
    await h.engine.tick();
    expect(comments(h, 'lead', 1)).toEqual([]);
    h.clock.advance(2 * HOUR);
    await h.engine.tick();
    expect(comments(h, 'lead', 1)).toEqual(['Nobody called']);
  });
});

describe('concurrency: skip and a run woken from its delay', () => {
  it('is held, not skipped, while another run of the record is in flight; its journal is kept and it goes on once that run ends', async () => {
    // An ERP stand-in: the first call is accepted, every later one fails (HTTP 500).
    let calls = 0;
    const erp = async () => {
      calls += 1;
      const ok = calls === 1;
      return { status: ok ? 200 : 500, headers: { get: () => 'application/json' }, text: async () => (ok ? '{"n":1}' : '{"error":"locked"}') };
    };
    h = await harness(
      `
id: erp-then-later
trigger: { event: ONCRMDEALUPDATE }
concurrency: { mode: skip }
actions:
  - http: { url: "https://erp.example/sync", method: POST, body: { deal: "{{ deal.ID }}" } }
  - delay: 1h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "An hour after the sync" }
on_error: { retries: 2, then: dead_letter }
`,
      { http: erp as never },
    );
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const [first] = h.store.runs.list({ ruleId: 'erp-then-later' });
    expect(first!.status).toBe('delayed');
    // A second change of the deal: its run's call fails and waits for its retry (in flight).
    h.clock.advance(HOUR - 1000);
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, TITLE: 'Changed' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const second = h.store.runs.list({ ruleId: 'erp-then-later' }).find((r) => r.id !== first!.id)!;
    expect(['active', 'waiting'], JSON.stringify(h.store.runs.get(second.id)!.trace)).toContain(h.store.runs.get(second.id)!.status);
    // The first run's timer fires while the second is in flight.
    h.clock.advance(1000);
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    expect(h.store.runs.get(first!.id)!.status).not.toBe('skipped');
    await drain(h.engine, h.clock);
    expect(h.store.runs.get(second.id)!.status).toBe('dead');
    // The held run is stored `new`: the next tick starts it.
    await h.engine.tick();
    const done = h.store.runs.get(first!.id)!;
    expect(done.status).toBe('done');
    expect(comments(h, 'deal', 1)).toEqual(['An hour after the sync']);
    expect((done.trace.effects as Array<{ method: string }>).map((e) => e.method)).toContain('crm.timeline.comment.add');
  });
});

describe("a fired for: timer's own item", () => {
  it('does not end an unrelated wait_for on the same record', async () => {
    h = await harness(
      `
id: stale
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: EXECUTING } }
  for: 1h
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "An hour in {{ deal.STAGE_ID }}" }
---
id: waiter
trigger: { event: ONCRMDEALADD }
actions:
  - wait_for:
      event: ONCRMDEALUPDATE
      timeout: 1d
      on_timeout:
        - comment: { entity: deal, id: "{{ deal.ID }}", text: "No update in a day" }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Updated" }
`,
      { engine: { options: { maxItemsPerTick: 1 } } },
    );
    const start = h.clock.now();
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, STAGE_ID: 'EXECUTING' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    expect(h.store.timers.list({ state: 'pending' }).map((x) => [x.kind, x.recordKey])).toEqual([['for', 'deal:1']]);
    h.store.inbox.add([dealEvent(1, 'ONCRMDEALADD')]);
    await h.engine.tick();
    const [wait] = h.store.runs.list({ ruleId: 'waiter' });
    expect(wait!.status).toBe('delayed');
    // Another deal's event is queued first, so the timer's item waits a tick in the inbox (one item a tick).
    h.clock.t = start + HOUR;
    h.store.inbox.add([dealEvent(2)]);
    await h.engine.tick();
    await h.engine.tick();
    expect(h.store.inbox.list({ source: 'timer' }).map((i) => i.status)).toEqual(['done']);
    expect(comments(h, 'deal', 1)).toEqual(['An hour in EXECUTING']);
    expect(h.store.runs.get(wait!.id)!.status).toBe('delayed');
    h.clock.t = start + 25 * HOUR;
    await h.engine.tick();
    expect(comments(h, 'deal', 1)).toEqual(['An hour in EXECUTING', 'No update in a day']);
  });
});

describe('for: timer ids after prune', () => {
  it('a timer that gets the id of a pruned one still fires: its item is not taken for the old firing', async () => {
    h = await harness(
      `
id: stale
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: EXECUTING } }
  for: 1h
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "An hour in {{ deal.STAGE_ID }}" }
`,
      { engine: { options: { maxItemsPerTick: 1 } } },
    );
    const setStage = (stage: string) => h!.emu.store.put('deal', 1, { ...h!.emu.store.get('deal', 1)!, STAGE_ID: stage });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    setStage('EXECUTING');
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const [first] = h.store.timers.list();
    // The firing tick takes another deal's older event; the timer's item runs the next tick, a minute later.
    h.clock.t = first!.dueAt;
    h.store.inbox.add([dealEvent(2)]);
    await h.engine.tick();
    h.clock.advance(60_000);
    await h.engine.tick();
    h.clock.advance(60_000);
    await h.engine.tick();
    expect(comments(h, 'deal', 1)).toEqual(['An hour in EXECUTING']);
    // Retention between the timer's firing and its item's end: the timer goes, the item stays.
    h.store.prune(first!.dueAt + 1);
    expect(h.store.timers.list({ state: ['pending', 'fired', 'cancelled'] })).toEqual([]);
    expect(h.store.inbox.list({ source: 'timer' })).toHaveLength(1);
    // The deal leaves the stage and comes back: a new timer, with the freed id.
    setStage('FINAL_INVOICE');
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    setStage('EXECUTING');
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const [second] = h.store.timers.list();
    expect(second!.id).toBe(first!.id);
    h.clock.t = second!.dueAt;
    await h.engine.tick();
    await h.engine.tick();
    expect(comments(h, 'deal', 1)).toEqual(['An hour in EXECUTING', 'An hour in EXECUTING']);
    expect(h.store.inbox.list({ source: 'timer' })).toHaveLength(2);
  });
});

describe('a DLQ retry and a run of the item still on its delay', () => {
  it('the old run does not wake: its timer is cancelled and it ends skipped; only the retry run goes on', async () => {
    const erp = async () => ({ status: 500, headers: { get: () => 'application/json' }, text: async () => '{"error":"locked"}' });
    h = await harness(
      `
id: later
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Now" }
  - delay: 1h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "An hour later" }
---
id: sync
trigger: { event: ONCRMDEALUPDATE }
actions:
  - http: { url: "https://erp.example/sync", method: POST, body: { deal: "{{ deal.ID }}" } }
on_error: { retries: 0, then: dead_letter }
`,
      { http: erp as never },
    );
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    const [old] = h.store.runs.list({ ruleId: 'later' });
    expect(old!.status).toBe('delayed');
    const [entry] = h.store.dlq.list();
    expect(entry).toBeDefined();
    h.store.dlq.retry(entry!.id);
    expect(h.store.timers.list({ state: 'cancelled' }).map((x) => x.runId)).toEqual([old!.id]);
    expect(h.store.runs.get(old!.id)).toMatchObject({ status: 'skipped' });
    await h.engine.tick();
    const again = h.store.runs.list({ ruleId: 'later' }).find((r) => r.id !== old!.id)!;
    expect(again.status).toBe('delayed');
    h.clock.advance(2 * HOUR);
    await h.engine.tick();
    expect(h.store.runs.get(old!.id)!.status).toBe('skipped');
    expect(h.store.runs.get(again.id)!.status).toBe('done');
    expect(comments(h, 'deal', 1).filter((c) => c === 'An hour later')).toHaveLength(1);
  });
});
