import { afterEach, describe, expect, it } from 'vitest';
import type { InboxItemInput } from '../../engine/store/types.js';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function manual(ruleId: string, params: Record<string, unknown> = {}, key = `m-${Math.random()}`): InboxItemInput {
  return { source: 'manual', key, event: null, ruleId, payload: { params }, receivedAt: 0 };
}

describe('action kinds against the portal', () => {
  it('task, create, notify, workflow, todo, call and round_robin make the documented calls', async () => {
    h = await harness(`
id: handoff
trigger: { event: ONCRMDEALUPDATE }
actions:
  - round_robin: { users: [3, 4, 5], key: onboarding, as: owner }
  - task:
      title: "Onboard {{ deal.TITLE }}"
      responsible: "{{ owner }}"
      deadline: "2026-03-09T18:00:00"
      bind: { entity: deal, id: "{{ deal.ID }}" }
  - create:
      entity: contact
      fields: { NAME: "Onboarding", LAST_NAME: "{{ deal.ID }}" }
      as: contact_id
  - comment: { entity: contact, id: "{{ contact_id }}", text: "Created for deal {{ deal.ID }}" }
  - notify: { user: "{{ owner }}", message: "Deal {{ deal.ID }} is yours" }
  - workflow: { template_id: 7, entity: deal, id: "{{ deal.ID }}", parameters: { Reason: handoff } }
  - todo: { entity: deal, id: "{{ deal.ID }}", title: "Kick-off call", deadline: "2026-03-05T10:00:00", responsible: "{{ owner }}" }
  - call: { method: crm.deal.update, params: { id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Onboarding" } } }
`);
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await drain(h.engine, h.clock);

    const tasks = h.emu.calls.of('tasks.task.add');
    expect(tasks).toHaveLength(2);
    const fields = tasks.map((t) => (t.params as { fields: Record<string, unknown> }).fields);
    expect(fields.map((f) => f.UF_CRM_TASK)).toEqual([['D_1'], ['D_2']]);
    expect(fields.map((f) => String(f.RESPONSIBLE_ID))).toEqual(['3', '4']);

    const contacts = h.emu.calls.of('crm.contact.add').map((c) => (c.params as { fields: Record<string, unknown> }).fields);
    expect(contacts).toHaveLength(2);
    expect(contacts[0]).toMatchObject({ ORIGINATOR_ID: 'b24-rules' });
    expect(String(contacts[0]!.ORIGIN_ID)).toMatch(/^b24rules:handoff:[0-9a-f]{24}:2\.0$/);
    // The comment went to the contact the create made: planned after its ID came back.
    const created = h.emu.store.all('contact').filter((c) => c.ORIGINATOR_ID === 'b24-rules');
    const onContacts = h.emu.store.all('timeline_comment').filter((c) => c.ENTITY_TYPE === 'contact');
    expect(onContacts.map((c) => String(c.ENTITY_ID)).sort()).toEqual(created.map((c) => String(c.ID)).sort());

    expect(h.emu.calls.of('im.notify.system.add').map((c) => [String(c.params.USER_ID), c.params.MESSAGE])).toEqual([
      ['3', 'Deal 1 is yours'],
      ['4', 'Deal 2 is yours'],
    ]);
    expect(h.emu.calls.of('bizproc.workflow.start')[0]!.params).toMatchObject({ TEMPLATE_ID: '7', DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] });
    expect(h.emu.calls.of('crm.activity.todo.add')[0]!.params).toMatchObject({ ownerTypeId: '2', ownerId: '1', title: 'Kick-off call' });
    expect(String(h.emu.store.get('deal', 2)?.UF_CRM_NEXT_STEP)).toBe('Onboarding');
    expect(h.store.runs.list({ ruleId: 'handoff' }).map((r) => r.status)).toEqual(['done', 'done']);

    // The round-robin position survives a restart.
    const engine = h.reopen();
    h.store.inbox.add([dealEvent(3)]);
    await drain(engine, h.clock);
    expect(String((h.emu.calls.of('tasks.task.add')[2]!.params as { fields: Record<string, unknown> }).fields.RESPONSIBLE_ID)).toBe('5');
  });

  it('stop ends the run; when: skips an action', async () => {
    h = await harness(`
id: stopper
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "first" }
    when: { "==": [{ var: deal.ID }, "1"] }
  - stop: { reason: enough }
    when: { "==": [{ var: deal.ID }, "2"] }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "last" }
`);
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await drain(h.engine, h.clock);
    const texts = h.emu.store.all('timeline_comment').map((c) => `${c.ENTITY_ID}:${c.COMMENT}`);
    expect(texts.sort()).toEqual(['1:first', '1:last']);
    const two = h.store.runs.list({ ruleId: 'stopper' }).find((r) => r.recordKey === 'deal:2')!;
    expect(two).toMatchObject({ status: 'done' });
    expect(two.trace.reason).toBe('stop: enough');
  });

  it('a rule problem found while planning (an empty id) dead-letters the run at once, without retries', async () => {
    h = await harness(`
id: broken
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.NO_SUCH_FIELD }}", text: "x" }
`);
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    expect(h.store.dlq.list()[0]!.error).toMatch(/id is empty/);
    expect(h.store.inbox.countByStatus().dead).toBe(1);
  });

  it('foreach: a manual run acts once per row, refuses more rows than max_records', async () => {
    h = await harness(`
id: bulk
trigger: { manual: {} }
foreach:
  entity: deal
  as: deal
  filter: { ">=ID": "{{ params.from }}", "<=ID": "{{ params.to }}" }
  select: [ID, TITLE, STAGE_ID, UF_CRM_NEXT_STEP]
  max_records: 3
dedupe: "bulk-review:{{ deal.ID }}"
actions:
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Review" } }
`);
    h.store.inbox.add([manual('bulk', { from: 1, to: 3 })]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.deal.update').map((c) => String(c.params.id)).sort()).toEqual(['1', '2', '3']);
    // The rows served as the loaded records: no crm.deal.get per row.
    expect(h.emu.calls.of('crm.deal.get')).toHaveLength(0);
    expect(h.store.runs.list({ ruleId: 'bulk' }).map((r) => r.recordKey).sort()).toEqual(['deal:1', 'deal:2', 'deal:3']);

    h.store.inbox.add([manual('bulk', { from: 1, to: 10 })]);
    await drain(h.engine, h.clock);
    expect(h.store.dlq.list()[0]!.error).toMatch(/max_records \(3\)/);
    expect(h.emu.calls.of('crm.deal.update')).toHaveLength(3);
  });
});
