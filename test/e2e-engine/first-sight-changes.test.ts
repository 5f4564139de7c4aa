/**
 * Regression: a first-sight run's change set used to be stored as a mark and rebuilt, after a
 * delay, restart or later tick, from the run's copy of the record; that copy is the tick's cached
 * record, which the engine's own done updates are merged into, so the rebuilt `changes` showed
 * the engine's value instead of the event's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const comments = (x: Harness, lead: string) =>
  x.emu.store
    .all('timeline_comment')
    .filter((c) => String(c.ENTITY_ID) === lead && String(c.ENTITY_TYPE).toLowerCase() === 'lead')
    .map((c) => String(c.COMMENT));

describe('the change set of a first sight', () => {
  it('after a delay and a restart is the event’s, not the record as the engine updated it', async () => {
    h = await harness(`
id: assign-then-note
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { ASSIGNED_BY_ID: 9 } }
  - delay: 1h
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "assigned at creation to {{ changes.ASSIGNED_BY_ID.to }}" }
`);
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'First sight', STATUS_ID: 'NEW', ASSIGNED_BY_ID: 1 }]);
    const start = h.clock.now();
    h.store.inbox.add([leadEvent(id!)]);
    await h.engine.tick();
    expect(Number(h.emu.store.get('lead', id!)!.ASSIGNED_BY_ID)).toBe(9);
    const [run] = h.store.runs.list({ ruleId: 'assign-then-note' });
    expect(run!.status).toBe('delayed');

    h.reopen();
    h.clock.t = start + HOUR;
    await h.engine.tick();
    expect(h.store.runs.get(run!.id)!.status).toBe('done');
    expect(comments(h, id!)).toEqual(['assigned at creation to 1']);
  });
});
