/**
 * What the engine knows about each entity: how to read one record, how to
 * update and create it, its CRM owner type, and how it is named in timeline
 * comments, task bindings and workflow document ids (API-FACTS §6, §7, §10).
 */
import type { EntityName } from '../rules/index.js';
import type { Params } from '../client/index.js';

export interface EntityDef {
  name: EntityName;
  /** CRM owner type id (crm.activity, crm.item); undefined for task and user. */
  ownerTypeId?: number;
  /** The read of one record, and where the record is in the result. */
  get(id: string, entityTypeId?: number): { method: string; params: Params; unwrap: (result: unknown) => Record<string, unknown> | null };
  update?(id: string, fields: Params, entityTypeId?: number): { method: string; params: Params };
  add?(fields: Params, entityTypeId?: number): { method: string; params: Params };
  list?: string;
  /**
   * The read of up to 50 records in one list command with an ID set filter,
   * giving each record exactly as `get` gives it; undefined where a list
   * cannot (tasks: below). Used by the tick's reads by ID (engine/facts/by-id.ts).
   */
  byIds?: ByIdsRead;
  /** Field names of the record as `get` returns them, for comparing with UPPER_CASE update fields. */
  recordField(field: string): string;
}

/** How an entity's records are read by ID as a list (engine/facts/by-id.ts). */
export interface ByIdsRead {
  /** The list command for up to 50 IDs; `named` are fields the list leaves out unless named (multiple user fields). */
  command(ids: readonly string[], entityTypeId: number | undefined, named: readonly string[]): { method: string; params: Params };
  /** The records in the command's result, shaped as `get` returns them. */
  rows(result: unknown): Array<Record<string, unknown>>;
  /**
   * Legacy lists leave multiple user fields out of `UF_*` and have no mask for
   * them (crm-lead-list.md: "UF_* ... без множественных"): the read that names
   * them, asked in the same batch (crm-lead-userfield-list.md, filter MULTIPLE).
   */
  multipleUserFields?: { method: string; params: Params };
}

const identity = (f: string) => f;
/** tasks.task.get answers camelCase (`responsibleId`) while tasks.task.update takes `RESPONSIBLE_ID`. */
export const camelField = (f: string): string => (/^[A-Z0-9_]+$/.test(f) && !f.startsWith('UF_') ? f.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) : f);

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function rowsOf(list: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(list)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const r of list as unknown[]) {
    const rec = asRecord(r);
    if (rec) out.push(rec);
  }
  return out;
}

/** The CRM multi-fields (crm_multifield) of leads, contacts and companies; deals have none. */
const MULTI_FIELDS = ['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'] as const;

/**
 * A legacy CRM list read by ID. `*` is every field but the user and multiple
 * ones and `UF_*` every user field but the multiple ones; multi-fields and
 * multiple user fields only come when named (crm-lead-list.md, and the same
 * words in crm-deal-list.md, crm-contact-list.md, crm-company-list.md). `get`
 * gives all of them and leaves out a multi-field with no value
 * (crm-lead-get.md's answer has PHONE and IM, no EMAIL): a list row is made
 * the same. `start: -1` skips the count (settings/performance/huge-data.md).
 */
function crmByIds(name: 'lead' | 'deal' | 'contact' | 'company'): ByIdsRead {
  const multi: readonly string[] = name === 'deal' ? [] : MULTI_FIELDS;
  return {
    command: (ids, _t, named) => ({ method: `crm.${name}.list`, params: { filter: { '@ID': [...ids] }, select: ['*', 'UF_*', ...multi, ...named], start: -1 } }),
    rows: (result) =>
      rowsOf(result).map((row) => {
        for (const f of multi) if (Array.isArray(row[f]) && (row[f] as unknown[]).length === 0) delete row[f];
        return row;
      }),
    multipleUserFields: { method: `crm.${name}.userfield.list`, params: { filter: { MULTIPLE: 'Y' } } },
  };
}

function crm(name: 'lead' | 'deal' | 'contact' | 'company', ownerTypeId: number): EntityDef {
  return {
    name,
    ownerTypeId,
    get: (id) => ({ method: `crm.${name}.get`, params: { id }, unwrap: asRecord }),
    update: (id, fields) => ({ method: `crm.${name}.update`, params: { id, fields } }),
    add: (fields) => ({ method: `crm.${name}.add`, params: { fields } }),
    list: `crm.${name}.list`,
    byIds: crmByIds(name),
    recordField: identity,
  };
}

export const ENTITIES: Record<EntityName, EntityDef> = {
  lead: crm('lead', 1),
  deal: crm('deal', 2),
  contact: crm('contact', 3),
  company: crm('company', 4),
  task: {
    name: 'task',
    get: (id) => ({ method: 'tasks.task.get', params: { taskId: id }, unwrap: (r) => asRecord(asRecord(r)?.task) }),
    update: (id, fields) => ({ method: 'tasks.task.update', params: { taskId: id, fields } }),
    add: (fields) => ({ method: 'tasks.task.add', params: { fields } }),
    list: 'tasks.task.list',
    // No byIds: tasks.task.list answers "all non-computed fields" by default and
    // warns that the default may change (tasks-task-list.md), while tasks.task.get
    // also gives computed ones (`action`, ...): a list row is not the record get gives.
    recordField: camelField,
  },
  user: {
    name: 'user',
    get: (id) => ({ method: 'user.get', params: { ID: id }, unwrap: (r) => (Array.isArray(r) ? asRecord(r[0]) : asRecord(r)) }),
    list: 'user.get',
    // user.get is the list: the same rows by an `@ID` filter (user-get.md: "@ — IN").
    byIds: { command: (ids) => ({ method: 'user.get', params: { filter: { '@ID': [...ids] }, start: -1 } }), rows: rowsOf },
    recordField: identity,
  },
  item: {
    name: 'item',
    get: (id, entityTypeId) => ({ method: 'crm.item.get', params: { entityTypeId, id }, unwrap: (r) => asRecord(asRecord(r)?.item) }),
    update: (id, fields, entityTypeId) => ({ method: 'crm.item.update', params: { entityTypeId, id, fields } }),
    add: (fields, entityTypeId) => ({ method: 'crm.item.add', params: { entityTypeId, fields } }),
    list: 'crm.item.list',
    // `select: ['*']` is every field and `fm` (crm-item-list.md), as crm.item.get gives them.
    byIds: {
      command: (ids, entityTypeId) => ({ method: 'crm.item.list', params: { entityTypeId, filter: { '@id': [...ids] }, select: ['*'], start: -1 } }),
      rows: (result) => rowsOf(asRecord(result)?.items),
    },
    recordField: identity,
  },
};

export function isEntityName(v: unknown): v is EntityName {
  return typeof v === 'string' && Object.hasOwn(ENTITIES, v);
}

/** The entity an event is about: ONCRMDEALUPDATE → deal, ONTASKADD → task, ONCRMDYNAMICITEMUPDATE → item. */
export function entityOfEvent(event: string): EntityName | undefined {
  const e = event.toUpperCase();
  const m = /^ONCRM(LEAD|DEAL|CONTACT|COMPANY|DYNAMICITEM)(ADD|UPDATE|DELETE|MOVETOCATEGORY)(_\d+)?$/.exec(e);
  if (m) return m[1] === 'DYNAMICITEM' ? 'item' : (m[1]!.toLowerCase() as EntityName);
  if (/^ONTASK(ADD|UPDATE|DELETE)$/.test(e)) return 'task';
  if (e === 'ONUSERADD') return 'user';
  return undefined;
}

/** The record id an event names (API-FACTS §5.3), from the event `data` (or the whole handler request). */
export function eventRecordId(payload: Record<string, unknown>): string | undefined {
  const data = asRecord(payload.data) ?? asRecord(payload.EVENT_DATA) ?? payload;
  const fields = asRecord(data.FIELDS) ?? asRecord(data.FIELDS_AFTER) ?? asRecord(data.FIELDS_BEFORE) ?? data;
  const id = fields.ID ?? fields.id;
  return id === undefined || id === null || id === '' ? undefined : String(id);
}

/** Smart-process events carry their type: data.FIELDS.ENTITY_TYPE_ID. */
export function eventEntityTypeId(payload: Record<string, unknown>): number | undefined {
  const data = asRecord(payload.data) ?? asRecord(payload.EVENT_DATA) ?? payload;
  const fields = asRecord(data.FIELDS) ?? data;
  const v = Number(fields.ENTITY_TYPE_ID);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** New invoices: the smart-process type every portal has (api-reference/crm/universal/invoice.md). */
export const INVOICE_ENTITY_TYPE_ID = 31;

/** `ENTITY_TYPE` of crm.timeline.comment.add: the owner type's name (`dynamic_147`; invoices `smart_invoice`). */
export function timelineEntityType(entity: EntityName, entityTypeId?: number): string {
  if (entity === 'item') return entityTypeId === INVOICE_ENTITY_TYPE_ID ? 'smart_invoice' : `dynamic_${entityTypeId ?? 0}`;
  return entity;
}

/** A UF_CRM_TASK binding: L_4, D_10, C_7, CO_5, T{hex type}_{id}, invoices SI_{id}. */
export function taskBinding(entity: EntityName, id: string | number, entityTypeId?: number): string {
  switch (entity) {
    case 'lead':
      return `L_${id}`;
    case 'deal':
      return `D_${id}`;
    case 'contact':
      return `C_${id}`;
    case 'company':
      return `CO_${id}`;
    case 'item':
      return entityTypeId === INVOICE_ENTITY_TYPE_ID ? `SI_${id}` : `T${(entityTypeId ?? 0).toString(16)}_${id}`;
    default:
      throw new RangeError(`a task cannot be bound to a ${entity}`);
  }
}

/** bizproc DOCUMENT_ID triple. */
export function workflowDocumentId(entity: EntityName, id: string | number, entityTypeId?: number): [string, string, string] {
  switch (entity) {
    case 'lead':
      return ['crm', 'CCrmDocumentLead', `LEAD_${id}`];
    case 'deal':
      return ['crm', 'CCrmDocumentDeal', `DEAL_${id}`];
    case 'contact':
      return ['crm', 'CCrmDocumentContact', `CONTACT_${id}`];
    case 'company':
      return ['crm', 'CCrmDocumentCompany', `COMPANY_${id}`];
    case 'item':
      // bizproc-workflow-start.md: an invoice is its own document type.
      if (entityTypeId === INVOICE_ENTITY_TYPE_ID) return ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice', `SMART_INVOICE_${id}`];
      return ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', `DYNAMIC_${entityTypeId ?? 0}_${id}`];
    default:
      throw new RangeError(`a workflow cannot run on a ${entity}`);
  }
}
