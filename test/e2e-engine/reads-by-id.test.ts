/**
 * A tick reads its records by ID as list commands of up to 50 IDs: the
 * leads of 120 events in one HTTP request of 3 `crm.lead.list` commands
 * (with the lead user-field read that says which multiple fields to name),
 * and the rules see each lead as `get` gives it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a tick reads records by ID', () => {
  it('120 events of distinct leads: one HTTP request carrying 3 list commands', async () => {
    h = await harness(`
id: lead-phone
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "{{ lead.TITLE }} {{ lead.PHONE[0].VALUE }} {{ lead.UF_CRM_REGION }}" }
`);
    const ids = h.emu.store.seed(
      'lead',
      Array.from({ length: 120 }, (_, i) => ({ TITLE: `L${i}`, UF_CRM_REGION: `R${i}`, PHONE: [{ VALUE: `+100${i}`, VALUE_TYPE: 'WORK' }] })),
    );
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    const report = await h.engine.tick();
    expect(report.depth).toBe(0);

    const lists = h.emu.calls.of('crm.lead.list', { batch: true });
    expect(lists.map((r) => ((r.params.filter as Record<string, unknown>)['@ID'] as string[]).length)).toEqual([50, 50, 20]);
    const parents = new Set(lists.map((r) => r.batch!.parent));
    expect(parents.size).toBe(1);
    // That request carries the 3 lists and the user-field read, nothing else.
    const carried = h.emu.calls.records.filter((r) => r.batch?.parent === [...parents][0]).map((r) => r.method);
    expect(carried.sort()).toEqual(['crm.lead.list', 'crm.lead.list', 'crm.lead.list', 'crm.lead.userfield.list']);
    expect(h.emu.calls.of('crm.lead.get')).toHaveLength(0);
    // 1 read request, 3 write batches of 50, 50, 20 comments.
    expect(h.emu.calls.httpRequests).toBe(4);
    // The rules saw the multi-field and the user field, as get gives them.
    const comments = h.emu.store.all('timeline_comment').map((c) => String(c.COMMENT));
    expect(comments).toHaveLength(120);
    expect(comments).toContain('L7 +1007 R7');
  });

  it('a record that is gone loads as null: a load sees null, a trigger record skips the run as "not found", nothing fails', async () => {
    h = await harness(`
id: contact-gone
trigger: { event: ONCRMLEADADD }
load:
  contact: { entity: contact, id: "{{ lead.CONTACT_ID }}" }
condition: { "==": [{ var: contact }, null] }
actions:
  - notify: { user: 1, message: "lead {{ lead.ID }} has no contact" }
`);
    const [contact] = h.emu.store.seed('contact', [{ NAME: 'Here' }]);
    const [orphan, fine] = h.emu.store.seed('lead', [
      { TITLE: 'Orphan', CONTACT_ID: '999999' },
      { TITLE: 'Fine', CONTACT_ID: contact },
    ]);
    h.store.inbox.add([leadEvent(orphan!), leadEvent(fine!), leadEvent(888_888)]);
    await h.engine.tick();
    expect(h.emu.store.all('notification').map((n) => String(n.MESSAGE))).toEqual([`lead ${orphan} has no contact`]);
    expect(h.engine.stats.runs).toMatchObject({ done: 1, skipped: 2, failed: 0, dead: 0 });
  });
});
