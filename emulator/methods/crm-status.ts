/**
 * Statuses, pipelines and stages (API-FACTS §6.7): crm.status.list,
 * crm.status.entity.types, crm.category.list/get, and the deprecated
 * crm.dealcategory.list/get/stage.list/status/default.get.
 */
import { compileFilter, compileOrder, paginate, tableSchema } from '../crm/filter.js';
import { dealStageEntity } from '../crm/records.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type MethodRegistry } from '../types.js';
import { asId, param } from './params.js';

const STATUS_KINDS = { ID: 'number', ENTITY_ID: 'string', STATUS_ID: 'string', NAME: 'string', NAME_INIT: 'string', SORT: 'number', SYSTEM: 'string', CATEGORY_ID: 'number', COLOR: 'string', SEMANTICS: 'string' } as const;

/** Stage lists get `EXTRA: {SEMANTICS, COLOR}` like a portal's. */
function isStageEntity(entityId: string): boolean {
  return entityId === 'STATUS' || entityId.startsWith('DEAL_STAGE') || entityId === 'QUOTE_STATUS' || /_STAGE_/.test(entityId);
}

export function statusView(s: Row): Row {
  const out: Row = {
    ID: String(s.ID),
    ENTITY_ID: s.ENTITY_ID,
    STATUS_ID: s.STATUS_ID,
    NAME: s.NAME,
    NAME_INIT: s.NAME_INIT ?? '',
    SORT: String(s.SORT ?? 10),
    SYSTEM: s.SYSTEM ?? 'N',
    CATEGORY_ID: s.CATEGORY_ID ?? null,
    COLOR: s.COLOR ?? null,
    SEMANTICS: s.SEMANTICS ?? null,
  };
  if (isStageEntity(String(s.ENTITY_ID))) {
    const sem = s.SEMANTICS === 'S' ? 'success' : s.SEMANTICS === 'F' ? 'failure' : 'process';
    out.EXTRA = { SEMANTICS: sem, COLOR: s.COLOR ?? null };
  }
  return out;
}

interface Category {
  id: number;
  name: unknown;
  sort: number;
  entityTypeId: number;
  isDefault: unknown;
  originId: unknown;
  originatorId: unknown;
}

function categories(state: EmulatorState, entityTypeId: number): Category[] {
  const rows = state.store.all('category').filter((c) => Number(c.entityTypeId ?? 2) === entityTypeId);
  if (entityTypeId === 2 && !rows.some((c) => Number(c.id) === 0)) {
    rows.unshift({ id: 0, name: 'General', sort: 0, entityTypeId: 2, isDefault: 'Y', originId: '', originatorId: '' });
  }
  return rows
    .map((c) => ({ id: Number(c.id), name: c.name, sort: Number(c.sort ?? 500), entityTypeId, isDefault: c.isDefault ?? (Number(c.id) === 0 ? 'Y' : 'N'), originId: c.originId ?? '', originatorId: c.originatorId ?? '' }))
    .sort((a, b) => a.sort - b.sort || a.id - b.id);
}

function legacyCategory(c: Category, offset: string): Row {
  return { ID: String(c.id), CREATED_DATE: offset, NAME: c.name, IS_LOCKED: 'N', SORT: String(c.sort) };
}

/** Register the status and pipeline methods. */
export function registerCrmStatus(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  const stages = (entityId: string): Row[] =>
    store
      .all('status')
      .filter((s) => s.ENTITY_ID === entityId)
      .sort((a, b) => Number(a.SORT) - Number(b.SORT))
      .map(statusView);

  registry.register('crm.status.list', {
    scope: 'crm',
    handler: (params) => {
      const schema = tableSchema(STATUS_KINDS, state.portal.offsetMinutes);
      const rows = store.all('status').filter(compileFilter(param(params, 'filter'), schema));
      rows.sort(compileOrder(param(params, 'order'), schema, [['SORT', 'ASC'], ['ID', 'ASC']]));
      return { result: rows.map(statusView), total: rows.length };
    },
  });

  registry.register('crm.status.get', {
    scope: 'crm',
    handler: (params) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
      const row = store.get('status', id);
      if (!row) throw new PortalError(400, '', 'Not found');
      return { result: statusView(row) };
    },
  });

  registry.register('crm.status.entity.types', {
    scope: 'crm',
    handler: () => {
      const base: Row[] = [
        { ID: 'STATUS', NAME: 'Lead stages', SEMANTIC_INFO: { START_FIELD: 'NEW', FINAL_SUCCESS_FIELD: 'CONVERTED', FINAL_UNSUCCESS_FIELD: 'JUNK' }, ENTITY_TYPE_ID: 1 },
        { ID: 'SOURCE', NAME: 'Sources' },
        { ID: 'CONTACT_TYPE', NAME: 'Contact type' },
        { ID: 'COMPANY_TYPE', NAME: 'Company type' },
        { ID: 'EMPLOYEES', NAME: 'Employees' },
        { ID: 'INDUSTRY', NAME: 'Industry' },
        { ID: 'DEAL_TYPE', NAME: 'Deal type' },
        { ID: 'HONORIFIC', NAME: 'Salutations' },
      ];
      for (const c of categories(state, 2)) {
        base.push({ ID: dealStageEntity(c.id), NAME: c.id === 0 ? 'Deal stages' : `Deal stages (${String(c.name)})`, PREFIX: c.id === 0 ? '' : `C${c.id}`, ENTITY_TYPE_ID: 2, CATEGORY_ID: c.id });
      }
      return { result: base };
    },
  });

  registry.register('crm.category.list', {
    scope: 'crm',
    handler: (params) => {
      const raw = param(params, 'entityTypeId');
      if (raw === undefined || raw === '') throw new PortalError(400, '100', 'Expected one of the following parameters: entityTypeId');
      const list = categories(state, Number(raw));
      const { page, total, next } = paginate(list, param(params, 'start'));
      return { result: { categories: page }, total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('crm.category.get', {
    scope: 'crm',
    handler: (params) => {
      const raw = param(params, 'entityTypeId');
      if (raw === undefined || raw === '') throw new PortalError(400, '100', 'Expected one of the following parameters: entityTypeId');
      const id = Number(param(params, 'id'));
      const c = categories(state, Number(raw)).find((x) => x.id === id);
      if (!c) throw new PortalError(400, 'NOT_FOUND', 'Category not found');
      return { result: { category: c } };
    },
  });

  registry.register('crm.dealcategory.list', {
    scope: 'crm',
    handler: () => {
      const list = categories(state, 2).filter((c) => c.id > 0);
      return { result: list.map((c) => legacyCategory(c, '')), total: list.length };
    },
  });

  registry.register('crm.dealcategory.get', {
    scope: 'crm',
    handler: (params) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
      const c = categories(state, 2).find((x) => x.id === Number(id));
      if (!c) throw new PortalError(400, '', 'Not found');
      return { result: legacyCategory(c, '') };
    },
  });

  registry.register('crm.dealcategory.default.get', {
    scope: 'crm',
    handler: () => {
      const c = categories(state, 2).find((x) => x.id === 0);
      return { result: { ID: 0, NAME: c?.name ?? 'General' } };
    },
  });

  registry.register('crm.dealcategory.status', {
    scope: 'crm',
    handler: (params) => ({ result: dealStageEntity(Number(param(params, 'id') ?? 0) || 0) }),
  });

  registry.register('crm.dealcategory.stage.list', {
    scope: 'crm',
    handler: (params) => {
      const id = Number(param(params, 'id') ?? 0) || 0;
      if (id > 0 && !categories(state, 2).some((c) => c.id === id)) return { result: [] };
      return { result: stages(dealStageEntity(id)) };
    },
  });
}
