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
  /** Field names of the record as `get` returns them, for comparing with UPPER_CASE update fields. */
  recordField(field: string): string;
}

const identity = (f: string) => f;
/** tasks.task.get answers camelCase (`responsibleId`) while tasks.task.update takes `RESPONSIBLE_ID`. */
export const camelField = (f: string): string => (/^[A-Z0-9_]+$/.test(f) && !f.startsWith('UF_') ? f.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) : f);

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function crm(name: 'lead' | 'deal' | 'contact' | 'company', ownerTypeId: number): EntityDef {
  return {
    name,
    ownerTypeId,
    get: (id) => ({ method: `crm.${name}.get`, params: { id }, unwrap: asRecord }),
    update: (id, fields) => ({ method: `crm.${name}.update`, params: { id, fields } }),
    add: (fields) => ({ method: `crm.${name}.add`, params: { fields } }),
    list: `crm.${name}.list`,
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
    recordField: camelField,
  },
  user: {
    name: 'user',
    get: (id) => ({ method: 'user.get', params: { ID: id }, unwrap: (r) => (Array.isArray(r) ? asRecord(r[0]) : asRecord(r)) }),
    list: 'user.get',
    recordField: identity,
  },
  item: {
    name: 'item',
    get: (id, entityTypeId) => ({ method: 'crm.item.get', params: { entityTypeId, id }, unwrap: (r) => asRecord(asRecord(r)?.item) }),
    update: (id, fields, entityTypeId) => ({ method: 'crm.item.update', params: { entityTypeId, id, fields } }),
    add: (fields, entityTypeId) => ({ method: 'crm.item.add', params: { entityTypeId, fields } }),
    list: 'crm.item.list',
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

/** `ENTITY_TYPE` of crm.timeline.comment.add. */
export function timelineEntityType(entity: EntityName, entityTypeId?: number): string {
  if (entity === 'item') return `dynamic_${entityTypeId ?? 0}`;
  return entity;
}

/** A UF_CRM_TASK binding: L_4, D_10, C_7, CO_5, T{hex type}_{id}. */
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
      return `T${(entityTypeId ?? 0).toString(16)}_${id}`;
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
      return ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', `DYNAMIC_${entityTypeId ?? 0}_${id}`];
    default:
      throw new RangeError(`a workflow cannot run on a ${entity}`);
  }
}
