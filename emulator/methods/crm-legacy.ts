/**
 * crm.lead.*, crm.deal.*, crm.contact.*, crm.company.*: add, get, list,
 * update, delete, fields (API-FACTS §6.2; api-reference/crm/leads/crm-lead-*.md
 * and the same pages for deals, contacts, companies).
 */
import { CRM_ENTITIES, type CrmEntity } from '../crm/entities.js';
import { legacyColumn, listQuery, withColumns } from '../crm/list-query.js';
import { CrmRecords } from '../crm/records.js';
import { legacyFields, legacySchema, legacyView } from '../crm/views.js';
import type { EmulatorState } from '../state.js';
import { PortalError, type MethodRegistry } from '../types.js';
import { legacyId, objectParam, param } from './params.js';

function register(registry: MethodRegistry, state: EmulatorState, records: CrmRecords, entity: CrmEntity): void {
  const p = `crm.${entity.name}`;
  const store = state.store;

  registry.register(`${p}.add`, {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const fields = objectParam(params, 'fields');
      if (!fields) throw new PortalError(400, '', "Parameter 'fields' must be array.");
      return { result: Number(records.add(entity, fields, ctx).ID) };
    },
  });

  registry.register(`${p}.get`, {
    scope: 'crm',
    handler: (params) => {
      const id = legacyId(params);
      const row = store.get(entity.name, id);
      if (!row) throw new PortalError(400, '', 'Not found');
      return { result: legacyView(store, entity, row) };
    },
  });

  registry.register(`${p}.list`, {
    scope: 'crm',
    cost: 0.1,
    handler: (params) => {
      const schema = withColumns(legacySchema(store, entity, state.portal.offsetMinutes), (field) => legacyColumn(entity, field));
      const { page, total, next } = listQuery(store, entity.name, { filter: param(params, 'filter'), order: param(params, 'order'), fallback: [['ID', 'ASC']], start: param(params, 'start'), schema, memoKey: p });
      const select = param(params, 'select') ?? [];
      return { result: page.map((r) => legacyView(store, entity, r, select)), total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register(`${p}.update`, {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const id = legacyId(params);
      const fields = objectParam(params, 'fields');
      if (!fields) throw new PortalError(400, '', "Parameter 'fields' must be array.");
      records.update(entity, id, fields, ctx);
      return { result: true };
    },
  });

  registry.register(`${p}.delete`, {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      records.delete(entity, legacyId(params), ctx);
      return { result: true };
    },
  });

  registry.register(`${p}.fields`, {
    scope: 'crm',
    handler: () => ({ result: legacyFields(store, entity) }),
  });
}

/** Register the legacy CRM methods of all four object types. */
export function registerLegacyCrm(registry: MethodRegistry, state: EmulatorState, records: CrmRecords): void {
  for (const entity of Object.values(CRM_ENTITIES)) register(registry, state, records, entity);
}
