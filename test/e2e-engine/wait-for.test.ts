/**
 * wait_for (issue 18), through the engine and the emulator over HTTP: a run waits for an
 * event about its record (an activity the record owns, or the record's own update) at most
 * its timeout; the event that comes first (and matches) wakes it at the action after the
 * wait, the timeout at its on_timeout actions; either way once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InboxItemInput } from '../../engine/store/index.js';
import { harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const RULE = `
id: call-new-lead
trigger: { event: ONCRMLEADADD }
actions:
  - notify: { user: 1, message: "Call lead {{ lead.ID }}" }
  - wait_for:
      event: ONCRMACTIVITYADD
      match: { "==": [{ var: activity.TYPE_ID }, "2"] }
      timeout: 2h
      on_timeout:
        - comment: { entity: lead, id: "{{ lead.ID }}", text: "Nobody called within 2 hours" }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Called in time: {{ lead.STATUS_ID }}" }
`;

let seq = 0;
function activityEvent(id: number | string): InboxItemInput {
  const k = `act:${++seq}`;
  return { source: 'outgoing', key: k, event: 'ONCRMACTIVITYADD', ruleId: null, payload: { event: 'ONCRMACTIVITYADD', data: { FIELDS: { ID: String(id) } } }, receivedAt: 0 };
}
const leadComments = (x: Harness, lead: number) => x.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === String(lead) && String(c.ENTITY_TYPE).toLowerCase() === 'lead').map((c) => String(c.COMMENT));
function addActivity(x: Harness, lead: number, typeId: number): number {
  const all = x.emu.store.all('activity');
  const id = all.reduce((m, a) => Math.max(m, Number(a.ID)), 0) + 1;
  x.emu.store.put('activity', id, { ID: String(id), OWNER_TYPE_ID: '1', OWNER_ID: String(lead), TYPE_ID: String(typeId), SUBJECT: 'contact' });
  return id;
}

describe('wait_for', () => {
  it('an activity of the lead that matches ends the wait: the actions after it run, once; the timeout then does nothing', async () => {
    h = await harness(RULE);
    h.store.inbox.add([leadEvent(1)]);
    await h.engine.tick();
    const [run] = h.store.runs.list({ ruleId: 'call-new-lead' });
    expect(run!.status).toBe('delayed');
    expect(h.store.timers.list()).toEqual([expect.objectContaining({ kind: 'wait_for', event: 'ONCRMACTIVITYADD', recordKey: 'lead:1', state: 'pending' })]);
    // An e-mail (TYPE_ID 4) does not match; an activity of another lead is not about this one.
    h.clock.advance(HOUR / 2);
    h.store.inbox.add([activityEvent(addActivity(h, 1, 4)), activityEvent(addActivity(h, 2, 2))]);
    await h.engine.tick();
    expect(h.store.runs.get(run!.id)!.status).toBe('delayed');
    // A call (TYPE_ID 2) of lead 1 does.
    h.clock.advance(HOUR / 2);
    h.store.inbox.add([activityEvent(addActivity(h, 1, 2))]);
    const r = await h.engine.tick();
    expect(r.waitsEnded).toBe(1);
    const status = String(h.emu.store.get('lead', 1)!.STATUS_ID);
    expect(leadComments(h, 1)).toEqual([`Called in time: ${status}`]);
    expect(h.store.runs.get(run!.id)!.status).toBe('done');
    expect(h.store.timers.list({ state: 'fired' })[0]!.note).toMatch(/^ONCRMACTIVITYADD outgoing:act:\d+ came$/);
    h.clock.advance(3 * HOUR);
    await h.engine.tick();
    expect(leadComments(h, 1)).toHaveLength(1);
  });

  it('the timeout that comes first runs the on_timeout actions and ends the run; a later event changes nothing', async () => {
    h = await harness(RULE);
    h.store.inbox.add([leadEvent(1)]);
    await h.engine.tick();
    h.clock.advance(2 * HOUR - 1);
    await h.engine.tick();
    expect(leadComments(h, 1)).toEqual([]);
    h.clock.advance(1);
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    expect(leadComments(h, 1)).toEqual(['Nobody called within 2 hours']);
    const [run] = h.store.runs.list({ ruleId: 'call-new-lead' });
    expect(run!.status).toBe('done');
    h.store.inbox.add([activityEvent(addActivity(h, 1, 2))]);
    await h.engine.tick();
    expect(leadComments(h, 1)).toEqual(['Nobody called within 2 hours']);
  });

  it("waits for the record's own update, with match on the record read then", async () => {
    h = await harness(`
id: wait-for-status
trigger: { event: ONCRMLEADADD }
actions:
  - wait_for:
      event: ONCRMLEADUPDATE
      match: { "==": [{ var: lead.STATUS_ID }, IN_PROCESS] }
      timeout: 1d
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "In process" }
`);
    h.store.inbox.add([leadEvent(1)]);
    await h.engine.tick();
    h.emu.store.put('lead', 1, { ...h.emu.store.get('lead', 1)!, TITLE: 'Renamed' });
    h.store.inbox.add([leadEvent(1, 'ONCRMLEADUPDATE')]);
    await h.engine.tick();
    expect(leadComments(h, 1)).toEqual([]);
    h.emu.store.put('lead', 1, { ...h.emu.store.get('lead', 1)!, STATUS_ID: 'IN_PROCESS' });
    h.store.inbox.add([leadEvent(1, 'ONCRMLEADUPDATE')]);
    await h.engine.tick();
    expect(leadComments(h, 1)).toEqual(['In process']);
    // The timeout of a wait that ended never fires, and no on_timeout branch ran.
    h.clock.advance(2 * 24 * HOUR);
    expect((await h.engine.tick()).timersFired).toBe(0);
    expect(leadComments(h, 1)).toEqual(['In process']);
  });
});
