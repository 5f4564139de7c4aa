import { afterEach, describe, expect, it } from 'vitest';
import { drain, harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;

/** The IDs a list command read by ID asked for. */
function idsOf(params: Record<string, unknown>): string[] {
  return ((params.filter as Record<string, unknown> | undefined)?.['@ID'] as string[] | undefined) ?? [];
}

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a 1,000-event backlog', () => {
  it('is processed with a few dozen HTTP requests: reads of the whole tick batched, writes packed 50 per batch', async () => {
    h = await harness(`
id: greet-leads
trigger: { event: ONCRMLEADADD }
load:
  contact: { entity: contact, id: "{{ lead.CONTACT_ID }}" }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "New lead {{ lead.TITLE }} for {{ contact.NAME }}" }
`);
    const contacts = h.emu.store.all('contact').map((c) => String(c.ID));
    const ids = h.emu.store.seed(
      'lead',
      Array.from({ length: 1000 }, (_, i) => ({ TITLE: `Backlog lead ${i}`, STATUS_ID: 'NEW', CONTACT_ID: contacts[i % contacts.length] })),
    );
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();

    const ticks = await drain(h.engine, h.clock);

    const comments = h.emu.store.all('timeline_comment');
    expect(comments).toHaveLength(1000);
    expect(new Set(comments.map((c) => String(c.ENTITY_ID))).size).toBe(1000);
    // Leads are read by ID, 50 a list command: 20 commands for 1,000 leads, no get.
    const leadLists = h.emu.calls.of('crm.lead.list', { batch: true });
    const leadIds = leadLists.flatMap((r) => idsOf(r.params));
    expect(leadIds).toHaveLength(1000);
    expect(new Set(leadIds).size).toBe(1000);
    expect(leadLists).toHaveLength(20);
    expect(h.emu.calls.of('crm.lead.get', { batch: true })).toHaveLength(0);
    // Contacts are shared by many leads: each is read once per tick, not once per lead.
    expect(h.emu.calls.of('crm.contact.list', { batch: true }).flatMap((r) => idsOf(r.params)).length).toBeLessThanOrEqual(contacts.length * ticks);
    // Each tick reads in 2 requests (its leads, then their contacts); 1,000 comments go in 20 batches.
    expect(ticks).toBe(4);
    expect(h.emu.calls.httpRequests).toBe(2 * ticks + 20);
    expect(h.store.inbox.countByStatus()).toMatchObject({ pending: 0, running: 0, done: 1000, dead: 0 });
    expect(h.engine.stats.runs.done).toBe(1000);
    expect(h.engine.stats.eventsProcessed).toBe(1000);
  });

  it('50 lead events that need 50 leads and their contacts cost 2 read requests and 1 write batch', async () => {
    h = await harness(`
id: lead-contact
trigger: { event: ONCRMLEADADD }
load:
  contact: { entity: contact, id: "{{ lead.CONTACT_ID }}" }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "{{ contact.NAME }}" }
`);
    const contacts = h.emu.store.seed('contact', Array.from({ length: 50 }, (_, i) => ({ NAME: `C${i}` })));
    const ids = h.emu.store.seed('lead', contacts.map((c, i) => ({ TITLE: `L${i}`, CONTACT_ID: c })));
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    const report = await h.engine.tick();
    expect(report.depth).toBe(0);
    // The 50 contacts in one list command: filter {'@ID': [50 IDs]}.
    const contactLists = h.emu.calls.of('crm.contact.list', { batch: true });
    expect(contactLists).toHaveLength(1);
    expect(idsOf(contactLists[0]!.params).sort()).toEqual([...contacts].sort());
    expect(h.emu.calls.httpRequests).toBe(3);
    expect(h.emu.store.all('timeline_comment').map((c) => c.COMMENT).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `C${i}`).sort());
  });
});
