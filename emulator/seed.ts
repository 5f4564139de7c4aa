/**
 * Fills a store from PortalData: normalizes each entity the way the portal
 * stores it (see Store.setNormalizer), fills reference lists the data leaves
 * out, and derives departments from users when none are given.
 */
import { formatIso } from './clock.js';
import { CRM_ENTITIES, type CrmEntityName } from './crm/entities.js';
import { BASE_STATUS_ENTITIES, defaultStatuses } from './crm/defaults.js';
import { resolveRelative, type CrmRecords } from './crm/records.js';
import { ensureSmartPipelines, INVOICE_TYPE_ID, itemTable, smartEntity, smartTypeIds } from './crm/smart-types.js';
import { upperName } from './crm/views.js';
import { ufDefinition } from './crm/uf.js';
import { taskKey } from './methods/tasks.js';
import { EmulatorDataError, type PortalData } from './portal-data.js';
import type { EmulatorState } from './state.js';
import type { Row, SeedNormalizer } from './store.js';

/** The normalizer the store applies to seeded rows of each entity. */
export function seedNormalizer(state: EmulatorState, records: CrmRecords): SeedNormalizer {
  const offset = (): number => state.portal.offsetMinutes;
  return (entity, row) => {
    if (entity in CRM_ENTITIES) return records.normalizeSeed(CRM_ENTITIES[entity as CrmEntityName], row);
    const item = /^dynamic_(\d+)$/.exec(entity);
    if (item) {
      const smart = smartEntity(state.store, Number(item[1]));
      if (smart) return records.normalizeSeed(smart, row);
    }
    switch (entity) {
      case 'status': {
        const out: Row = { ...row };
        const cat = Number(out.CATEGORY_ID ?? 0);
        if (out.ENTITY_ID === 'DEAL_STAGE' && cat > 0) out.ENTITY_ID = `DEAL_STAGE_${cat}`;
        out.SORT = String(out.SORT ?? 10);
        out.SYSTEM ??= 'N';
        out.NAME_INIT ??= '';
        out.SEMANTICS ??= null;
        out.COLOR ??= null;
        const pipeline = /_STAGE_(\d+)$/.exec(String(out.ENTITY_ID));
        out.CATEGORY_ID ??= String(out.ENTITY_ID).startsWith('DEAL_STAGE') ? String(cat) : pipeline ? pipeline[1] : null;
        return out;
      }
      case 'smart_type':
        // crm-type-list.md: a type's switches default on, as a new smart process's do.
        return {
          code: null,
          createdBy: 1,
          isCategoriesEnabled: 'Y',
          isStagesEnabled: 'Y',
          isBeginCloseDatesEnabled: 'Y',
          isClientEnabled: 'Y',
          isLinkWithProductsEnabled: 'Y',
          isMycompanyEnabled: 'Y',
          isSourceEnabled: 'Y',
          isObserversEnabled: 'Y',
          isAutomationEnabled: 'Y',
          isBizProcEnabled: 'Y',
          ...row,
          id: Number(row.id),
          title: String(row.title ?? `Smart process ${String(row.entityTypeId)}`),
          entityTypeId: Number(row.entityTypeId),
        };
      case 'category':
        return 'id' in row || !('ID' in row)
          ? { ...row, id: Number(row.id), entityTypeId: Number(row.entityTypeId ?? 2) }
          : { id: Number(row.ID), name: row.NAME ?? row.name, sort: Number(row.SORT ?? 500), entityTypeId: 2, isDefault: Number(row.ID) === 0 ? 'Y' : 'N', originId: '', originatorId: '' };
      case 'userfield':
        return ufDefinition(state.store, String(row.ENTITY_ID ?? 'CRM_DEAL'), row);
      case 'user': {
        const out: Row = { ACTIVE: true, NAME: '', LAST_NAME: '', SECOND_NAME: '', EMAIL: '', IS_ONLINE: 'N', TIME_ZONE: '', PERSONAL_GENDER: '', WORK_POSITION: '', USER_TYPE: 'employee', UF_DEPARTMENT: [], ...row };
        out.ID = String(row.ID);
        const dep = out.UF_DEPARTMENT;
        out.UF_DEPARTMENT = (Array.isArray(dep) ? dep : dep === undefined || dep === null || dep === '' ? [] : [dep]).map(Number);
        for (const k of ['LAST_LOGIN', 'DATE_REGISTER']) if (k in out) out[k] = resolveRelative(out[k], state.now(), offset());
        return out;
      }
      case 'task': {
        const out: Row = {};
        for (const [k, v] of Object.entries(row)) out[taskKey(k)] = resolveRelative(v, state.now(), offset());
        for (const k of ['id', 'responsibleId', 'createdBy', 'status', 'priority', 'groupId']) if (out[k] !== undefined && out[k] !== null) out[k] = String(out[k]);
        out.status ??= '2';
        out.priority ??= '1';
        out.groupId ??= '0';
        out.createdBy ??= '1';
        out.responsibleId ??= out.createdBy;
        out.createdDate ??= formatIso(state.now(), offset());
        out.changedDate ??= out.createdDate;
        out.accomplices ??= [];
        out.auditors ??= [];
        delete out.responsible;
        delete out.creator;
        return out;
      }
      default:
        return row;
    }
  };
}

/** Seed the store. Order matters: fields and stages before the records that use them. */
export function seedPortal(state: EmulatorState, data: PortalData): void {
  const store = state.store;
  store.seed('userfield', data.userfields ?? []);
  store.seed('category', data.categories ?? []);
  store.seed('status', data.statuses ?? []);
  const present = new Set(store.all('status').map((s) => String(s.ENTITY_ID)));
  const wanted = [...BASE_STATUS_ENTITIES, ...store.all('category').filter((c) => Number(c.entityTypeId) === 2 && Number(c.id) > 0).map((c) => `DEAL_STAGE_${String(c.id)}`)];
  for (const e of wanted) if (!present.has(e)) store.seed('status', defaultStatuses(e));
  store.seed('user', data.users ?? []);
  if (data.departments) store.seed('department', data.departments);
  else {
    const ids = new Set(store.all('user').flatMap((u) => u.UF_DEPARTMENT as number[]));
    store.seed('department', [...ids].sort((a, b) => a - b).map((id) => ({ ID: String(id), NAME: id === 1 ? 'Company' : `Department ${id}`, SORT: '500', PARENT: id === 1 ? null : '1', UF_HEAD: null })));
  }
  store.seed('company', data.companies ?? []);
  store.seed('contact', data.contacts ?? []);
  store.seed('lead', data.leads ?? []);
  store.seed('deal', data.deals ?? []);
  store.seed('task', data.tasks ?? []);
  seedItems(state, data);
  if (!store.get('user', 1)) store.seed('user', [{ ID: '1', NAME: 'Admin', LAST_NAME: 'Portal', EMAIL: 'admin@example.com', UF_DEPARTMENT: [1], IS_ADMIN: true }]);
}

/**
 * Smart-process types, their pipelines and stages (defaults where the data gives none), then
 * their items: each item row names its `entityTypeId`; camelCase names are read as crm.item writes them.
 */
function seedItems(state: EmulatorState, data: PortalData): void {
  const store = state.store;
  (data.smart_types ?? []).forEach((t, i) => {
    const id = Number(t.entityTypeId);
    if (!Number.isInteger(id) || id < 128) throw new EmulatorDataError(`smart_types[${i}]: entityTypeId must be a smart process's (128 or more), got ${JSON.stringify(t.entityTypeId)}`);
  });
  const types: Row[] = (data.smart_types ?? []).map((t, i) => ({ id: i + 1, ...t }));
  for (const raw of data.items ?? []) {
    const t = Number(raw.entityTypeId ?? raw.ENTITY_TYPE_ID);
    if (t >= 128 && !types.some((x) => Number(x.entityTypeId) === t)) types.push({ id: types.length + 1, entityTypeId: t });
  }
  store.seed('smart_type', types);
  for (const t of smartTypeIds(store)) ensureSmartPipelines(store, t);
  const byType = new Map<number, Row[]>();
  (data.items ?? []).forEach((raw, i) => {
    const t = Number(raw.entityTypeId ?? raw.ENTITY_TYPE_ID);
    const entity = smartEntity(store, t);
    if (!entity) throw new EmulatorDataError(`items[${i}]: entityTypeId ${JSON.stringify(raw.entityTypeId ?? raw.ENTITY_TYPE_ID)} is not a smart process of this portal (add it to smart_types; invoices are ${INVOICE_TYPE_ID})`);
    const row: Row = {};
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'entityTypeId' || k === 'ENTITY_TYPE_ID') continue;
      row[/^[A-Z0-9_]+$/.test(k) ? k : (upperName(store, entity, k) ?? k)] = v;
    }
    byType.set(t, [...(byType.get(t) ?? []), row]);
  });
  for (const [t, rows] of byType) store.seed(itemTable(t), rows);
}
