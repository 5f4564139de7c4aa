/**
 * crm.item.* for entityTypeId 1-4, smart processes and new invoices (31) (API-FACTS §6.6;
 * api-reference/crm/universal/crm-item-*.md): camelCase fields, `{item}` / `{items}` results,
 * `fm` multi values, strict filters. Items of a smart process raise ONCRMDYNAMICITEM* events.
 */
import type { Store } from '../store.js';
import { entityByTypeId, type CrmEntity } from '../crm/entities.js';
import { legacyColumn, listQuery, withColumns } from '../crm/list-query.js';
import { applyItemFm } from '../crm/multifield.js';
import type { CrmRecords } from '../crm/records.js';
import { fromItemFields, itemFields, itemSchema, itemView, requireItemEntity, upperName } from '../crm/views.js';
import type { EmulatorState } from '../state.js';
import { PortalError, type MethodRegistry, type Params } from '../types.js';
import { asId, flag, objectParam, param } from './params.js';

function entityOf(store: Store, params: Params): CrmEntity {
  const raw = param(params, 'entityTypeId');
  return requireItemEntity(entityByTypeId(Number(raw), store), raw);
}

function itemId(params: Params): string {
  const id = asId(param(params, 'id'));
  if (id === undefined) throw new PortalError(400, '100', 'Expected one of the following parameters: id');
  return id;
}

/** Register crm.item.add/get/list/update/delete/fields. */
export function registerCrmItem(registry: MethodRegistry, state: EmulatorState, records: CrmRecords): void {
  const store = state.store;
  const originalUf = (params: Params): boolean => flag(param(params, 'useOriginalUfNames'));

  registry.register('crm.item.add', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const entity = entityOf(store, params);
      const fields = objectParam(params, 'fields');
      if (!fields) throw new PortalError(400, '100', 'Expected one of the following parameters: fields');
      const legacy = fromItemFields(store, entity, fields, originalUf(params));
      const multi: Record<string, unknown> = {};
      if ('fm' in fields) applyItemFm(store, multi, fields.fm, 'add');
      const row = records.add(entity, legacy, ctx, { multi });
      return { result: { item: itemView(store, entity, row, undefined, originalUf(params)) } };
    },
  });

  registry.register('crm.item.get', {
    scope: 'crm',
    handler: (params) => {
      const entity = entityOf(store, params);
      const row = store.get(entity.name, itemId(params));
      if (!row) throw new PortalError(400, 'NOT_FOUND', 'Element not found');
      return { result: { item: itemView(store, entity, row, undefined, originalUf(params)) } };
    },
  });

  registry.register('crm.item.list', {
    scope: 'crm',
    cost: 0.1,
    handler: (params) => {
      const entity = entityOf(store, params);
      const uf = originalUf(params);
      const schema = withColumns(itemSchema(store, entity, state.portal.offsetMinutes, uf), (field) => {
        const upper = upperName(store, entity, field, uf);
        return upper === undefined ? undefined : legacyColumn(entity, upper);
      });
      const q = { filter: param(params, 'filter'), order: param(params, 'order'), fallback: [['id', 'ASC']] as Array<[string, 'ASC']>, strictOrder: true, start: param(params, 'start'), schema, memoKey: `crm.item:${entity.name}:${String(uf)}` };
      const { page, total, next } = listQuery(store, entity.name, q);
      const select = param(params, 'select');
      return { result: { items: page.map((r) => itemView(store, entity, r, select, originalUf(params))) }, total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('crm.item.update', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const entity = entityOf(store, params);
      const id = itemId(params);
      const fields = objectParam(params, 'fields');
      if (!fields) throw new PortalError(400, '100', 'Expected one of the following parameters: fields');
      const existing = store.get(entity.name, id);
      if (!existing) throw new PortalError(400, 'NOT_FOUND', 'Element not found');
      const legacy = fromItemFields(store, entity, fields, originalUf(params));
      const multi: Record<string, unknown> = { PHONE: existing.PHONE, EMAIL: existing.EMAIL, WEB: existing.WEB, IM: existing.IM, LINK: existing.LINK };
      if ('fm' in fields) applyItemFm(store, multi, fields.fm, 'update');
      const row = records.update(entity, id, legacy, ctx, { skipIfUnchanged: true, multi, allowCategoryChange: true });
      return { result: { item: itemView(store, entity, row, undefined, originalUf(params)) } };
    },
  });

  registry.register('crm.item.delete', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const entity = entityOf(store, params);
      const id = itemId(params);
      if (!store.get(entity.name, id)) throw new PortalError(400, 'NOT_FOUND', 'Element not found');
      records.delete(entity, id, ctx);
      return { result: [] };
    },
  });

  registry.register('crm.item.fields', {
    scope: 'crm',
    handler: (params) => ({ result: { fields: itemFields(store, entityOf(store, params), originalUf(params)) } }),
  });
}
