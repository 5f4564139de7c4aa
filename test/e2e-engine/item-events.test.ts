/**
 * Smart-process items as the engine sees them, on the emulator over HTTP: an
 * item event (the common ONCRMDYNAMICITEMUPDATE with data.FIELDS.ENTITY_TYPE_ID,
 * or the per-type ONCRMDYNAMICITEMUPDATE_147) loads the item with crm.item.get's
 * fields as the rule's `item`; `changed:` compares it with the item's snapshot,
 * kept per type (item 5 of one type is not item 5 of another); the engine's own
 * update of the item is not a change; `create` of an item carries xmlId (smart
 * processes have no originId) and an invoice is created through entityTypeId 31.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InboxItemInput } from '../../engine/store/types.js';
import { drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const DATA = {
  smart_types: [
    { id: 1, title: 'Purchase requests', entityTypeId: 147 },
    { id: 2, title: 'Returns', entityTypeId: 150 },
  ],
  categories: [{ id: 5, name: 'Purchasing', sort: 10, entityTypeId: 147, isDefault: 'Y' }],
  statuses: [
    { ENTITY_ID: 'DYNAMIC_147_STAGE_5', STATUS_ID: 'DT147_5:NEW', NAME: 'Submitted', SORT: '10' },
    { ENTITY_ID: 'DYNAMIC_147_STAGE_5', STATUS_ID: 'DT147_5:APPROVAL', NAME: 'Approval', SORT: '20' },
    { ENTITY_ID: 'DYNAMIC_147_STAGE_5', STATUS_ID: 'DT147_5:SUCCESS', NAME: 'Delivered', SORT: '30', SEMANTICS: 'S' },
  ],
  users: [{ ID: '1', NAME: 'Admin', IS_ADMIN: true }, { ID: '9', NAME: 'Ivan' }],
  items: [
    { entityTypeId: 147, id: 5, title: 'Laptops', stageId: 'DT147_5:NEW', assignedById: 9, opportunity: 7200 },
    { entityTypeId: 150, id: 5, title: 'Broken chair' },
  ],
};

let seq = 0;
function itemEvent(event: string, id: number, entityTypeId?: number): InboxItemInput {
  const k = `p1:item-${++seq}`;
  const FIELDS: Record<string, string> = { ID: String(id) };
  if (entityTypeId !== undefined) FIELDS.ENTITY_TYPE_ID = String(entityTypeId);
  return { source: 'offline', key: k, event, ruleId: null, payload: { event, data: { FIELDS } }, processId: 'p1', messageId: k, receivedAt: 0 };
}

const APPROVAL_RULE = `
id: approval
trigger:
  event: ONCRMDYNAMICITEMUPDATE_147
  changed: { stageId: { to: "DT147_5:APPROVAL" } }
actions:
  - comment: { entity: item, entity_type_id: 147, id: "{{ item.id }}", text: "{{ item.title }} ({{ item.opportunity }}) moved from {{ changes.stageId.from }}" }
  - update: { entity: item, entity_type_id: 147, id: "{{ item.id }}", fields: { title: "{{ item.title }} [approval]" } }
`;

async function move(type: number, id: number, stageId: string): Promise<void> {
  await h!.client.call('crm.item.update', { entityTypeId: type, id, fields: { stageId } });
}

describe('smart-process items', () => {
  it('the per-type event loads the item; changed: holds on its stage; the engine’s own update is no change', async () => {
    h = await harness(APPROVAL_RULE, { emulator: { data: DATA } });
    // First sight: the engine keeps the item as its snapshot.
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE_147', 5)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(0);
    expect(h.store.snapshots.get('item:147', '5')?.fields).toMatchObject({ id: 5, stageId: 'DT147_5:NEW', entityTypeId: 147 });

    await move(147, 5, 'DT147_5:APPROVAL');
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE_147', 5)]);
    await drain(h.engine, h.clock);
    const comments = h.emu.calls.of('crm.timeline.comment.add');
    expect(comments.map((c) => c.params)).toEqual([{ fields: { ENTITY_ID: '5', ENTITY_TYPE: 'dynamic_147', COMMENT: 'Laptops (7200) moved from DT147_5:NEW' } }]);
    expect(h.emu.store.get('dynamic_147', 5)?.TITLE).toBe('Laptops [approval]');
    const run = h.store.runs.list({ ruleId: 'approval' }).find((r) => r.status === 'done')!;
    expect(run.recordKey).toBe('item:5');

    // The engine's own update came back as an event: the snapshot has it, nothing acts again.
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE_147', 5)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(1);
    expect(h.store.runs.list({ ruleId: 'approval' }).map((r) => r.reason)).toContain('changed: stageId did not change');
  });

  it('the common event takes the type from data.FIELDS.ENTITY_TYPE_ID; snapshots are per type; no type, no run', async () => {
    h = await harness(
      `
id: any-item
trigger:
  event: ONCRMDYNAMICITEMUPDATE
  changed: { title: {} }
actions:
  - comment: { entity: item, entity_type_id: 147, id: "{{ item.id }}", text: "title now {{ item.title }}" }
`,
      { emulator: { data: DATA } },
    );
    // What the engine saw before: item 5 of each type, under its own type.
    h.store.snapshots.put('item:147', '5', { id: 5, title: 'Laptops', entityTypeId: 147 });
    h.store.snapshots.put('item:150', '5', { id: 5, title: 'Broken chair', entityTypeId: 150 });
    await h.client.call('crm.item.update', { entityTypeId: 147, id: 5, fields: { title: 'Laptops x3' } });
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE', 5, 150), itemEvent('ONCRMDYNAMICITEMUPDATE', 5, 147)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.item.list').map((c) => String(c.params.entityTypeId)).sort()).toEqual(['147', '150']);
    expect(h.emu.calls.of('crm.timeline.comment.add').map((c) => (c.params.fields as Record<string, unknown>).COMMENT)).toEqual(['title now Laptops x3']);
    expect(h.store.snapshots.get('item:147', '5')?.fields.title).toBe('Laptops x3');
    expect(h.store.snapshots.get('item:150', '5')?.fields.title).toBe('Broken chair');
    expect(h.store.runs.list({ ruleId: 'any-item' }).map((r) => r.status).sort()).toEqual(['done', 'skipped']);

    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE', 5)]);
    await drain(h.engine, h.clock);
    expect(h.store.runs.list({ ruleId: 'any-item' }).map((r) => r.reason)).toContain('the event names no smart-process type (data.FIELDS.ENTITY_TYPE_ID is missing)');
  });

  it('create: an item carries xmlId b24rules:<effect key>, an invoice is entityTypeId 31', async () => {
    h = await harness(
      `
id: invoice-on-delivery
trigger:
  event: ONCRMDYNAMICITEMUPDATE_147
  changed: { stageId: { to: "DT147_5:SUCCESS" } }
actions:
  - create: { entity: item, entity_type_id: 31, fields: { title: "Invoice for {{ item.title }}", opportunity: "{{ item.opportunity }}" }, as: invoice }
  - comment: { entity: item, entity_type_id: 31, id: "{{ invoice }}", text: "For request {{ item.id }}" }
`,
      { emulator: { data: DATA } },
    );
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE_147', 5)]);
    await drain(h.engine, h.clock);
    await move(147, 5, 'DT147_5:SUCCESS');
    h.store.inbox.add([itemEvent('ONCRMDYNAMICITEMUPDATE_147', 5)]);
    await drain(h.engine, h.clock);
    const add = h.emu.calls.of('crm.item.add')[0]!;
    expect(add.params).toMatchObject({ entityTypeId: '31', fields: { title: 'Invoice for Laptops', opportunity: '7200' } });
    expect(String((add.params.fields as Record<string, unknown>).xmlId)).toMatch(/^b24rules:invoice-on-delivery:[0-9a-f]{24}:0\.0$/);
    expect((add.params.fields as Record<string, unknown>).originId).toBeUndefined();
    const invoices = h.emu.store.all('dynamic_31');
    expect(invoices).toHaveLength(1);
    expect(h.emu.store.all('timeline_comment').map((c) => [c.ENTITY_TYPE, String(c.ENTITY_ID), c.COMMENT])).toEqual([['smart_invoice', String(invoices[0]!.ID), 'For request 5']]);
  });
});
