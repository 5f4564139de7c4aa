import { afterEach, describe, expect, it } from 'vitest';
import { drain, harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
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
    expect(h.emu.calls.of('crm.lead.get', { batch: true })).toHaveLength(1000);
    // Contacts are shared by many leads: each is read once per tick, not once per lead.
    expect(h.emu.calls.of('crm.contact.get', { batch: true }).length).toBeLessThanOrEqual(contacts.length * ticks);
    // 1,000 lead reads (20 batches) + contact reads (1 per tick) + 1,000 comments (20 batches).
    expect(h.emu.calls.httpRequests).toBeLessThanOrEqual(50);
    expect(h.emu.calls.httpRequests).toBeGreaterThanOrEqual(40);
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
    expect(h.emu.calls.of('crm.contact.get', { batch: true })).toHaveLength(50);
    expect(h.emu.calls.httpRequests).toBe(3);
    expect(h.emu.store.all('timeline_comment').map((c) => c.COMMENT).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `C${i}`).sort());
  });
});
