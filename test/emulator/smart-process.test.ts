/**
 * Smart processes and new invoices in the emulator. Doc pages: api-reference/crm/universal/object-fields.md
 * ("Счет", "Смарт-процесс": the fields, xmlId, previousStageId), crm-item-add.md, crm-item-get.md, crm-item-update.md,
 * crm-item-list.md, crm-item-delete.md, events/index.md (ONCRMDYNAMICITEM* and the per-type `_{entityTypeId}` names,
 * `data.FIELDS` = ID + ENTITY_TYPE_ID; invoices raise them too), events/on-crm-dynamic-item-update.md,
 * user-defined-object-types/crm-type-list.md, crm-category-list.md, crm-status-list.md (DYNAMIC_{type}_STAGE_{pipeline},
 * SMART_INVOICE_STAGE_{pipeline}), bizproc-workflow-start.md (Dynamic and SmartInvoice documents).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, oauth, type Row } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({
    limits: NO_RATE_LIMIT,
    data: {
      smart_types: [{ id: 3, title: 'Equipment requests', entityTypeId: 147 }],
      categories: [
        { id: 11, name: 'Requests', sort: 10, entityTypeId: 147, isDefault: 'Y' },
        { id: 12, name: 'Returns', sort: 20, entityTypeId: 147, isDefault: 'N' },
      ],
      statuses: [
        { ENTITY_ID: 'DYNAMIC_147_STAGE_11', STATUS_ID: 'DT147_11:NEW', NAME: 'Requested', SORT: '10' },
        { ENTITY_ID: 'DYNAMIC_147_STAGE_11', STATUS_ID: 'DT147_11:APPROVAL', NAME: 'Approval', SORT: '20' },
        { ENTITY_ID: 'DYNAMIC_147_STAGE_11', STATUS_ID: 'DT147_11:SUCCESS', NAME: 'Delivered', SORT: '30', SEMANTICS: 'S' },
        { ENTITY_ID: 'DYNAMIC_147_STAGE_11', STATUS_ID: 'DT147_11:FAIL', NAME: 'Refused', SORT: '40', SEMANTICS: 'F' },
      ],
      users: [{ ID: '1', NAME: 'Admin', IS_ADMIN: true }, { ID: '7', NAME: 'Olga' }],
      deals: [{ ID: '3', TITLE: 'Office fit-out' }],
      items: [{ entityTypeId: 147, id: 5, title: 'Laptop for Olga', stageId: 'DT147_11:NEW', assignedById: 7, opportunity: 1200 }],
    },
  }));
});
afterAll(() => emu.close());

const item = (a: { body: Record<string, unknown> }): Row => (a.body.result as { item: Row }).item;

describe('smart processes', () => {
  it('crm.type.list lists the type; its pipelines and stages are there, a pipeline without stages gets the defaults', async () => {
    expect(((await hook(emu, 'crm.type.list')).body.result as { types: Row[] }).types).toEqual([expect.objectContaining({ id: 3, title: 'Equipment requests', entityTypeId: 147, isStagesEnabled: 'Y' })]);
    const cats = ((await hook(emu, 'crm.category.list', { entityTypeId: 147 })).body.result as { categories: Row[] }).categories;
    expect(cats.map((c) => [c.id, c.name, c.isDefault])).toEqual([[11, 'Requests', 'Y'], [12, 'Returns', 'N']]);
    const stages = (await hook(emu, 'crm.status.list', { filter: { ENTITY_ID: 'DYNAMIC_147_STAGE_11' } })).body.result as Row[];
    expect(stages.map((s) => s.STATUS_ID)).toEqual(['DT147_11:NEW', 'DT147_11:APPROVAL', 'DT147_11:SUCCESS', 'DT147_11:FAIL']);
    expect(stages[2]).toMatchObject({ CATEGORY_ID: '11', EXTRA: { SEMANTICS: 'success' } });
    const returns = (await hook(emu, 'crm.status.list', { filter: { ENTITY_ID: 'DYNAMIC_147_STAGE_12' } })).body.result as Row[];
    expect(returns.map((s) => s.STATUS_ID)).toEqual(['DT147_12:NEW', 'DT147_12:PREPARATION', 'DT147_12:CLIENT', 'DT147_12:SUCCESS', 'DT147_12:FAIL']);
  });

  it('crm.item.get gives the seeded item camelCase with the smart-process fields; crm.item.fields describes them', async () => {
    const got = item(await hook(emu, 'crm.item.get', { entityTypeId: 147, id: 5 }));
    expect(got).toMatchObject({ id: 5, title: 'Laptop for Olga', stageId: 'DT147_11:NEW', categoryId: 11, assignedById: 7, opportunity: 1200, xmlId: null, previousStageId: null, entityTypeId: 147 });
    expect(got).not.toHaveProperty('fm');
    expect(got).not.toHaveProperty('stageSemanticId');
    const fields = ((await hook(emu, 'crm.item.fields', { entityTypeId: 147 })).body.result as { fields: Record<string, Row> }).fields;
    expect(fields.stageId).toMatchObject({ type: 'crm_status', upperName: 'STAGE_ID' });
    expect(fields.xmlId).toMatchObject({ type: 'string', upperName: 'XML_ID' });
    expect(fields.previousStageId).toMatchObject({ isReadOnly: true });
  });

  it('add, update and delete raise ONCRMDYNAMICITEM* and the per-type names, with ENTITY_TYPE_ID', async () => {
    const before = emu.events.emitted.length;
    const added = item(await hook(emu, 'crm.item.add', { entityTypeId: 147, fields: { title: 'Monitor', xmlId: 'ext-1', assignedById: 7 } }));
    expect(added).toMatchObject({ title: 'Monitor', xmlId: 'ext-1', categoryId: 11, stageId: 'DT147_11:NEW', opportunity: 0, createdBy: 1 });
    const id = String(added.id);
    // The stage of another pipeline's code is written as given; a code without a prefix is read in the item's pipeline.
    const moved = item(await hook(emu, 'crm.item.update', { entityTypeId: 147, id, fields: { stageId: 'APPROVAL' } }));
    expect(moved).toMatchObject({ stageId: 'DT147_11:APPROVAL', previousStageId: 'DT147_11:NEW', movedBy: 1 });
    // Nothing changed: no event (crm-item-update.md).
    await hook(emu, 'crm.item.update', { entityTypeId: 147, id, fields: { stageId: 'DT147_11:APPROVAL' } });
    expect((await hook(emu, 'crm.item.delete', { entityTypeId: 147, id })).body.result).toEqual([]);
    const events = emu.events.emitted.slice(before).map((e) => [e.event, e.data]);
    const data = { FIELDS: { ID: id, ENTITY_TYPE_ID: '147' } };
    expect(events).toEqual([
      ['ONCRMDYNAMICITEMADD', data],
      ['ONCRMDYNAMICITEMADD_147', data],
      ['ONCRMDYNAMICITEMUPDATE', data],
      ['ONCRMDYNAMICITEMUPDATE_147', data],
      ['ONCRMDYNAMICITEMDELETE', data],
      ['ONCRMDYNAMICITEMDELETE_147', data],
    ]);
    expect(await hook(emu, 'crm.item.get', { entityTypeId: 147, id })).toEqual({ status: 400, body: { error: 'NOT_FOUND', error_description: 'Element not found' } });
  });

  it('moving to another pipeline takes its first stage unless a stage of it is named; list filters by stage', async () => {
    const a = item(await hook(emu, 'crm.item.add', { entityTypeId: 147, fields: { title: 'Chair', categoryId: 12 } }));
    expect(a).toMatchObject({ categoryId: 12, stageId: 'DT147_12:NEW' });
    const b = item(await hook(emu, 'crm.item.update', { entityTypeId: 147, id: a.id, fields: { categoryId: 11 } }));
    expect(b).toMatchObject({ categoryId: 11, stageId: 'DT147_11:NEW' });
    expect((await hook(emu, 'crm.item.add', { entityTypeId: 147, fields: { categoryId: 99 } })).status).toBe(400);
    // Pipelines are per type: a deal cannot go into a smart process's pipeline.
    expect((await hook(emu, 'crm.deal.add', { fields: { TITLE: 'x', CATEGORY_ID: 11 } })).body).toEqual({ error: '', error_description: 'Category with ID 11 is not found.' });
    const listed = (await hook(emu, 'crm.item.list', { entityTypeId: 147, filter: { stageId: 'DT147_11:NEW' }, select: ['id', 'title'] })).body.result as { items: Row[] };
    expect(listed.items).toEqual([{ id: 5, title: 'Laptop for Olga' }, { id: b.id, title: 'Chair' }]);
  });

  it('an unknown type is 400 NOT_FOUND; event.bind takes the per-type names of the types the portal has', async () => {
    expect(await hook(emu, 'crm.item.get', { entityTypeId: 148, id: 1 })).toEqual({ status: 400, body: { error: 'NOT_FOUND', error_description: 'Smart process not found' } });
    expect((await oauth(emu, 'event.bind', { event: 'ONCRMDYNAMICITEMUPDATE_147', event_type: 'offline' })).body.result).toBe(true);
    expect((await oauth(emu, 'event.bind', { event: 'onCrmDynamicItemAdd_31', event_type: 'offline' })).body.result).toBe(true);
    expect((await oauth(emu, 'event.bind', { event: 'ONCRMDYNAMICITEMUPDATE_148', event_type: 'offline' })).body).toEqual({ error: 'ERROR_EVENT_NOT_FOUND', error_description: 'Event not found' });
    expect((await oauth(emu, 'events')).body.result).toEqual(expect.arrayContaining(['ONCRMDYNAMICITEMUPDATE_147', 'ONCRMDYNAMICITEMDELETE_31']));
  });
});

describe('new invoices (entityTypeId 31)', () => {
  it('have a default pipeline with the invoice stages, their own fields, and raise ONCRMDYNAMICITEM*_31', async () => {
    const cats = ((await hook(emu, 'crm.category.list', { entityTypeId: 31 })).body.result as { categories: Row[] }).categories;
    expect(cats).toHaveLength(1);
    const cat = Number(cats[0]!.id);
    const stages = (await hook(emu, 'crm.status.list', { filter: { ENTITY_ID: `SMART_INVOICE_STAGE_${cat}` } })).body.result as Row[];
    expect(stages.map((s) => [s.STATUS_ID, s.SEMANTICS])).toEqual([[`DT31_${cat}:N`, null], [`DT31_${cat}:S`, null], [`DT31_${cat}:P`, 'S'], [`DT31_${cat}:D`, 'F']]);
    const before = emu.events.emitted.length;
    const inv = item(await hook(emu, 'crm.item.add', { entityTypeId: 31, fields: { title: 'Invoice for deal 3', accountNumber: 'INV-7', opportunity: 990 } }));
    expect(inv).toMatchObject({ accountNumber: 'INV-7', stageId: `DT31_${cat}:N`, entityTypeId: 31 });
    expect(emu.events.emitted.slice(before).map((e) => e.event)).toEqual(['ONCRMDYNAMICITEMADD', 'ONCRMDYNAMICITEMADD_31']);
  });
});

describe('timeline and workflows on items', () => {
  it('crm.timeline.comment.add takes dynamic_{type} and smart_invoice', async () => {
    const ok = await hook(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 5, ENTITY_TYPE: 'dynamic_147', COMMENT: 'Ordered' } });
    expect(ok.status).toBe(200);
    expect((await hook(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 5, ENTITY_TYPE: 'dynamic_148', COMMENT: 'x' } })).body.error).toBe('OWNER_NOT_FOUND');
  });

  it('bizproc.workflow.start takes Dynamic and SmartInvoice documents, and runs at most two workflows on one document', async () => {
    const doc = ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', 'DYNAMIC_147_5'];
    const first = await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: doc });
    const second = await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 9, DOCUMENT_ID: doc });
    expect([first.status, second.status]).toEqual([200, 200]);
    // The bizproc runtime's message (lang/en/classes/general/runtime.php, BPCGDOC_LIMIT_SIMULTANEOUS_PROCESSES), no code.
    expect(await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: doc })).toEqual({ status: 400, body: { error: '', error_description: 'An element can be handled by 2 processes at most.' } });
    // Another document is not held back; a stopped workflow frees its place.
    expect((await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'] })).status).toBe(200);
    expect((await hook(emu, 'bizproc.workflow.terminate', { ID: first.body.result })).body.result).toBe(true);
    expect((await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: doc })).status).toBe(200);
    expect((await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', 'DYNAMIC_147_999'] })).body.error_description).toBe('Wrong DOCUMENT_ID!');
    expect((await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 4, DOCUMENT_ID: ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice', 'SMART_INVOICE_404'] })).body.error_description).toBe('Wrong DOCUMENT_ID!');
  });
});

describe('items as rules test --record writes them (items_{entityTypeId})', () => {
  it('seed the items, and the type they name when the data does not list it', async () => {
    // As a recorded fixtures file gives it (not a key of PortalData's type).
    const data = JSON.parse('{"items_1220": [{"id": 4, "title": "Recorded request", "categoryId": 9, "stageId": "DT1220_9:NEW", "entityTypeId": 1220}]}') as Record<string, unknown>;
    const { emu: recorded } = await emulator({ limits: NO_RATE_LIMIT, data });
    try {
      expect(((await hook(recorded, 'crm.type.list')).body.result as { types: Row[] }).types.map((t) => t.entityTypeId)).toEqual([1220]);
      expect(item(await hook(recorded, 'crm.item.get', { entityTypeId: 1220, id: 4 }))).toMatchObject({ id: 4, title: 'Recorded request', stageId: 'DT1220_9:NEW', categoryId: 9 });
    } finally {
      await recorded.close();
    }
  });
});
