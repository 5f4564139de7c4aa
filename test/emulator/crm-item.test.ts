/**
 * crm.item.* for leads, deals, contacts, companies. Doc pages: api-reference/crm/universal/crm-item-add.md,
 * crm-item-get.md ({item}, camelCase, fm, NOT_FOUND 400), crm-item-list.md ({items}, OR groups, INVALID_ARG_VALUE),
 * crm-item-update.md (fm operations, no save when unchanged), crm-item-delete.md (result []), crm-item-fields.md (upperName).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, type Row } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

const item = (a: { body: Record<string, unknown> }): Row => (a.body.result as { item: Row }).item;

describe('crm.item', () => {
  it('add takes camelCase fields and fm, returns {item} with numbers for ids and amounts', async () => {
    const a = await hook(emu, 'crm.item.add', {
      entityTypeId: 2,
      fields: { title: 'Item deal', opportunity: 19000, assignedById: 3, stageId: 'PREPARATION', ufCrm_REGION: 'DACH', unknownKey: 1 },
    });
    expect(a.status).toBe(200);
    const it1 = item(a);
    expect(it1).toMatchObject({ title: 'Item deal', opportunity: 19000, assignedById: 3, createdBy: 1, stageId: 'PREPARATION', stageSemanticId: 'P', categoryId: 0, entityTypeId: 2, ufCrm_REGION: 'DACH', createdTime: '2026-11-24T09:00:00+03:00' });
    expect(typeof it1.id).toBe('number');
    // The legacy view of the same record has strings.
    const legacy = (await hook(emu, 'crm.deal.get', { id: it1.id })).body.result as Row;
    expect(legacy).toMatchObject({ ID: String(it1.id), OPPORTUNITY: '19000.00', ASSIGNED_BY_ID: '3', UF_CRM_REGION: 'DACH' });

    const lead = item(await hook(emu, 'crm.item.add', { entityTypeId: 1, fields: { name: 'Ann', fm: [{ typeId: 'PHONE', valueType: 'WORK', value: '+1 555 0100' }, { typeId: 'EMAIL', valueType: 'WORK', value: 'ann@example.com' }, { valueType: 'WORK', value: 'no typeId: ignored' }] } }));
    expect(lead.title).toBe(`Lead #${String(lead.id)}`);
    expect((lead.fm as Row[]).map((f) => [f.typeId, f.value])).toEqual([['PHONE', '+1 555 0100'], ['EMAIL', 'ann@example.com']]);
    expect(lead.hasPhone).toBe('Y');
  });

  it('get: {item}; a missing id is 400 NOT_FOUND, a bad entityTypeId 400 NOT_FOUND', async () => {
    expect(item(await hook(emu, 'crm.item.get', { entityTypeId: 3, id: 1 }))).toMatchObject({ id: 1, entityTypeId: 3 });
    expect(await hook(emu, 'crm.item.get', { entityTypeId: 2, id: 99999 })).toEqual({ status: 400, body: { error: 'NOT_FOUND', error_description: 'Element not found' } });
    expect((await hook(emu, 'crm.item.get', { entityTypeId: 999, id: 1 })).body.error).toBe('NOT_FOUND');
  });

  it('list: {items} with total/next, camelCase filter and order, select, OR groups', async () => {
    const a = await hook(emu, 'crm.item.list', { entityTypeId: 2, select: ['id', 'title', 'stageId'], filter: { '>id': 0, '@stageId': ['WON', 'LOSE'] }, order: { id: 'DESC' } });
    const items = (a.body.result as { items: Row[] }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => ['WON', 'LOSE'].includes(i.stageId as string))).toBe(true);
    expect(Object.keys(items[0] as Row).sort()).toEqual(['id', 'stageId', 'title']);
    expect(items.map((i) => i.id)).toEqual([...items.map((i) => i.id)].sort((x, y) => (y as number) - (x as number)));
    expect(a.body.total).toBe(items.length);

    const or = await hook(emu, 'crm.item.list', { entityTypeId: 2, select: ['id'], filter: { '0': { logic: 'OR', '0': { stageId: 'WON' }, '1': { id: 1 } } } });
    const orIds = (or.body.result as { items: Row[] }).items.map((i) => i.id);
    const won = (await hook(emu, 'crm.deal.list', { filter: { STAGE_ID: 'WON' }, select: ['ID'] })).body.result as Row[];
    expect(orIds.sort()).toEqual([...new Set([1, ...won.map((w) => Number(w.ID))])].sort());
  });

  it("the doc page's example: OR group over name/lastName, @stageId, @sourceId, @assignedById, an opportunity range, isManualOpportunity", async () => {
    const { emu: e } = await emulator({
      data: {
        users: [{ ID: 1 }, { ID: 6 }],
        leads: [
          { ID: 252, TITLE: 'Lead #252', NAME: 'John', LAST_NAME: 'Smith', STATUS_ID: 'NEW', SOURCE_ID: 'ADVERTISING', ASSIGNED_BY_ID: 1, OPPORTUNITY: 12000, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 253, TITLE: 'Lead #253', NAME: 'Admin', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 6, OPPORTUNITY: 19000, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 254, TITLE: 'Lead #254', NAME: 'Cat', LAST_NAME: 'Smith', STATUS_ID: 'IN_PROCESS', SOURCE_ID: 'ADVERTISING', ASSIGNED_BY_ID: 6, OPPORTUNITY: 19000, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 255, TITLE: 'Lead #255', NAME: 'John', LAST_NAME: 'Doe', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 1, OPPORTUNITY: 19600, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 256, TITLE: 'no names', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 1, OPPORTUNITY: 19600, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 257, TITLE: 'too cheap', NAME: 'Ann', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 1, OPPORTUNITY: 4000, IS_MANUAL_OPPORTUNITY: 'Y' },
          { ID: 258, TITLE: 'automatic amount', NAME: 'Bo', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 1, OPPORTUNITY: 6000, IS_MANUAL_OPPORTUNITY: 'N' },
          { ID: 259, TITLE: 'other manager', NAME: 'Cy', STATUS_ID: 'NEW', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 2, OPPORTUNITY: 6000, IS_MANUAL_OPPORTUNITY: 'Y' },
        ],
      },
    });
    try {
      const a = await hook(e, 'crm.item.list', {
        entityTypeId: 1,
        select: ['id', 'title', 'lastName', 'name', 'stageId', 'sourceId', 'assignedById', 'opportunity', 'isManualOpportunity'],
        filter: { '0': { logic: 'OR', '0': { '!=name': '' }, '1': { '!=lastName': '' } }, '@stageId': ['NEW', 'IN_PROCESS'], '@sourceId': ['WEB', 'ADVERTISING'], '@assignedById': [1, 6], '>=opportunity': 5000, '<=opportunity': 20000, isManualOpportunity: 'Y' },
        order: { lastName: 'ASC', name: 'ASC' },
      });
      expect(a.status).toBe(200);
      const items = (a.body.result as { items: Row[] }).items;
      expect(items.map((i) => i.id)).toEqual([253, 255, 254, 252]);
      expect(items[0]).toEqual({ id: 253, title: 'Lead #253', name: 'Admin', lastName: null, stageId: 'NEW', sourceId: 'WEB', assignedById: 6, opportunity: 19000, isManualOpportunity: 'Y' });
      expect(a.body.total).toBe(4);
    } finally {
      await e.close();
    }
  });

  it('list: an unknown filter or order field is 400 INVALID_ARG_VALUE', async () => {
    const a = await hook(emu, 'crm.item.list', { entityTypeId: 2, filter: { NOPE: 1 } });
    expect(a).toEqual({ status: 400, body: { error: 'INVALID_ARG_VALUE', error_description: "Invalid filter: field 'NOPE' is not allowed in filter" } });
    expect((await hook(emu, 'crm.item.list', { entityTypeId: 2, order: { id: 'SIDEWAYS' } })).body).toEqual({ error: 'INVALID_ARG_VALUE', error_description: "Invalid order: allowed sort directions are ASC, DESC. But got 'SIDEWAYS' for field 'id'" });
  });

  it('update: fm keyed n0 adds, an existing id with a value changes it, with an empty value deletes it', async () => {
    const created = item(await hook(emu, 'crm.item.add', { entityTypeId: 3, fields: { name: 'Fm', fm: [{ typeId: 'PHONE', valueType: 'WORK', value: '111' }, { typeId: 'PHONE', valueType: 'MOBILE', value: '222' }] } }));
    const [p1, p2] = created.fm as Row[];
    const updated = item(await hook(emu, 'crm.item.update', { entityTypeId: 3, id: created.id, fields: { fm: { n0: { typeId: 'EMAIL', valueType: 'WORK', value: 'fm@example.com' }, [String(p1?.id)]: { typeId: 'PHONE', value: '111-changed' }, [String(p2?.id)]: { typeId: 'PHONE', value: '' } } } }));
    expect((updated.fm as Row[]).map((f) => [f.typeId, f.value])).toEqual([['PHONE', '111-changed'], ['EMAIL', 'fm@example.com']]);
  });

  it('update with nothing changed saves nothing and raises no event; a change raises ONCRMDEALUPDATE', async () => {
    const before = emu.events.emitted.length;
    const same = await hook(emu, 'crm.item.update', { entityTypeId: 2, id: 1, fields: { title: (item(await hook(emu, 'crm.item.get', { entityTypeId: 2, id: 1 })).title) } });
    expect(same.status).toBe(200);
    expect(emu.events.emitted.length).toBe(before);
    await hook(emu, 'crm.item.update', { entityTypeId: 2, id: 1, fields: { title: 'Renamed' } });
    expect(emu.events.emitted.slice(before).map((e) => e.event)).toEqual(['ONCRMDEALUPDATE']);
  });

  it('update with another categoryId moves the deal to that pipeline first stage and raises ONCRMDEALMOVETOCATEGORY (on-crm-deal-move-to-category.md)', async () => {
    const created = item(await hook(emu, 'crm.item.add', { entityTypeId: 2, fields: { title: 'Mover' } }));
    const before = emu.events.emitted.length;
    const moved = item(await hook(emu, 'crm.item.update', { entityTypeId: 2, id: created.id, fields: { categoryId: 1 } }));
    expect(moved).toMatchObject({ categoryId: 1, stageId: 'C1:NEW' });
    expect(emu.events.emitted.slice(before).map((e) => [e.event, e.data])).toEqual([
      ['ONCRMDEALUPDATE', { FIELDS: { ID: String(created.id) } }],
      ['ONCRMDEALMOVETOCATEGORY', { FIELDS: { ID: String(created.id), CATEGORY_ID: '1', STAGE_ID: 'C1:NEW' } }],
    ]);
    // The legacy method keeps CATEGORY_ID (immutable there).
    await hook(emu, 'crm.deal.update', { id: created.id, fields: { CATEGORY_ID: 0 } });
    expect(((await hook(emu, 'crm.deal.get', { id: created.id })).body.result as Row).CATEGORY_ID).toBe('1');
  });

  it('delete answers [] and raises ONCRMCONTACTDELETE', async () => {
    const id = item(await hook(emu, 'crm.item.add', { entityTypeId: 3, fields: { name: 'Tmp' } })).id;
    expect(await hook(emu, 'crm.item.delete', { entityTypeId: 3, id }).then((a) => a.body.result)).toEqual([]);
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONCRMCONTACTDELETE', data: { FIELDS: { ID: String(id) } } });
  });

  it('fields: camelCase keys with upperName; useOriginalUfNames=Y keeps UF names', async () => {
    const f = (await hook(emu, 'crm.item.fields', { entityTypeId: 2 })).body.result as { fields: Record<string, Row> };
    expect(f.fields.stageId).toMatchObject({ type: 'crm_status', upperName: 'STAGE_ID' });
    expect(f.fields.ufCrm_REGION).toMatchObject({ upperName: 'UF_CRM_REGION', isDynamic: true });
    const orig = item(await hook(emu, 'crm.item.get', { entityTypeId: 2, id: 2, useOriginalUfNames: 'Y' }));
    expect('UF_CRM_REGION' in orig).toBe(true);
  });

  it('missing entityTypeId is 400 with code 100', async () => {
    expect((await hook(emu, 'crm.item.list', {})).body.error).toBe('100');
  });
});
