/**
 * How records read back: legacy results (UPPER_CASE, strings, `select` masks
 * `*` and `UF_*`), `crm.item` results (camelCase, numbers, `fm`), the
 * `*.fields` descriptions, and the filter schemas of both.
 */
import type { Store, Row } from '../store.js';
import { PortalError } from '../types.js';
import { ID_TYPES, type CrmEntity, type FieldDef } from './entities.js';
import type { FilterSchema, ValueKind } from './filter.js';
import { toFm, type MultiValue } from './multifield.js';
import { ufCamel, ufDefs } from './uf.js';

export function kindOfType(type: string): ValueKind {
  if (ID_TYPES.has(type) || type === 'double' || type === 'integer') return 'number';
  if (type === 'datetime' || type === 'date') return 'date';
  if (type === 'crm_multifield') return 'multi';
  return 'string';
}

function ufKind(def: Row): ValueKind {
  const t = String(def.USER_TYPE_ID);
  if (t === 'integer' || t === 'double' || t === 'employee' || t === 'enumeration') return 'number';
  if (t === 'datetime' || t === 'date') return 'date';
  return 'string';
}

function multiValues(row: Row, name: string): string[] {
  return ((row[name] as MultiValue[] | undefined) ?? []).map((v) => v.VALUE);
}

/** Filter/order schema of a legacy list (UPPER names; unknown fields ignored). */
export function legacySchema(store: Store, entity: CrmEntity, offsetMinutes: number): FilterSchema {
  const defs = ufDefs(store, entity.ufEntityId);
  // Filters and sorts call valueOf per row and comparison: resolve each field name once.
  const resolved = new Map<string, { key: string; multi: boolean }>();
  const resolve = (field: string): { key: string; multi: boolean } => {
    let r = resolved.get(field);
    if (!r) {
      const key = field.toUpperCase();
      r = { key, multi: entity.fields[key]?.type === 'crm_multifield' };
      resolved.set(field, r);
    }
    return r;
  };
  return {
    offsetMinutes,
    kindOf(field) {
      const f = field.toUpperCase();
      const def = entity.fields[f];
      if (def) return kindOfType(def.type);
      const uf = defs.find((d) => d.FIELD_NAME === f);
      return uf ? ufKind(uf) : undefined;
    },
    valueOf(row, field) {
      const r = resolve(field);
      return r.multi ? multiValues(row, r.key) : row[r.key];
    },
  };
}

/** Legacy result of one record. `select` undefined = everything `get` returns. */
export function legacyView(store: Store, entity: CrmEntity, row: Row, select?: unknown): Row {
  const out: Row = {};
  for (const f of legacyPlan(store, entity, select)) {
    if (f.multifield) {
      if (Array.isArray(row[f.name]) && (row[f.name] as unknown[]).length > 0) out[f.name] = row[f.name];
      continue;
    }
    out[f.name] = row[f.name] ?? (f.multiple ? [] : null);
  }
  return out;
}

interface PlannedField {
  name: string;
  multifield: boolean;
  multiple: boolean;
}

/**
 * The fields a legacy answer carries for one select, in answer order. Worked
 * out once per (entity, select, user-field version) and reused for every row
 * of a page: rebuilding it per row was most of a 100,000-row scan's CPU.
 */
const plans = new WeakMap<Store, Map<string, PlannedField[]>>();

function legacyPlan(store: Store, entity: CrmEntity, select: unknown): PlannedField[] {
  let byKey = plans.get(store);
  if (!byKey) plans.set(store, (byKey = new Map()));
  const key = `${entity.name}\u0000${store.version('userfield')}\u0000${JSON.stringify(select ?? null)}`;
  let plan = byKey.get(key);
  if (!plan) {
    if (byKey.size > 256) byKey.clear();
    plan = buildLegacyPlan(store, entity, select);
    byKey.set(key, plan);
  }
  return plan;
}

function buildLegacyPlan(store: Store, entity: CrmEntity, select: unknown): PlannedField[] {
  const defs = ufDefs(store, entity.ufEntityId);
  const names = Object.keys(entity.fields);
  // CONTACT_IDS / COMPANY_IDS are only returned when named (crm-lead-list.md and crm-deal-get.md examples lack them).
  const standard = names.filter((n) => entity.fields[n]?.type !== 'crm_multifield' && !entity.fields[n]?.isMultiple);
  const named = names.filter((n) => entity.fields[n]?.type !== 'crm_multifield');
  const wanted = new Set<string>();
  const list = selectList(select);
  if (list === undefined) {
    standard.forEach((n) => wanted.add(n));
    defs.forEach((d) => wanted.add(String(d.FIELD_NAME)));
    names.filter((n) => entity.fields[n]?.type === 'crm_multifield').forEach((n) => wanted.add(n));
  } else {
    const effective = list.length === 0 ? (entity.defaultSelectUf ? ['*', 'UF_*'] : ['*']) : list;
    wanted.add('ID');
    for (const s of effective) {
      const u = s.toUpperCase();
      if (u === '*') standard.forEach((n) => wanted.add(n));
      else if (u === 'UF_*') defs.filter((d) => d.MULTIPLE !== 'Y').forEach((d) => wanted.add(String(d.FIELD_NAME)));
      else if (entity.fields[u] || defs.some((d) => d.FIELD_NAME === u)) wanted.add(u);
    }
  }
  const plan: PlannedField[] = [];
  for (const n of [...named, ...defs.map((d) => String(d.FIELD_NAME)), ...names.filter((x) => entity.fields[x]?.type === 'crm_multifield')]) {
    if (!wanted.has(n)) continue;
    plan.push({ name: n, multifield: entity.fields[n]?.type === 'crm_multifield', multiple: entity.fields[n]?.isMultiple ?? false });
  }
  return plan;
}

/** `select` as a list of names; undefined when absent. */
export function selectList(select: unknown): string[] | undefined {
  if (select === undefined || select === null || select === '') return undefined;
  if (Array.isArray(select)) return select.map(String);
  if (typeof select === 'object') return Object.values(select).map(String);
  return [String(select)];
}

/** `crm.X.fields`: the field map with types and flags, user fields included. */
export function legacyFields(store: Store, entity: CrmEntity): Row {
  const out: Row = {};
  for (const [name, def] of Object.entries(entity.fields)) out[name] = describe(def);
  for (const d of ufDefs(store, entity.ufEntityId)) out[String(d.FIELD_NAME)] = describeUf(d, String(d.FIELD_NAME));
  return out;
}

function describe(def: FieldDef): Row {
  return {
    type: def.type,
    isRequired: def.isRequired ?? false,
    isReadOnly: def.isReadOnly ?? false,
    isImmutable: def.isImmutable ?? false,
    isMultiple: def.isMultiple ?? false,
    isDynamic: false,
    title: def.title,
    ...(def.statusType ? { statusType: def.statusType } : {}),
  };
}

function describeUf(d: Row, title: string): Row {
  return {
    type: d.USER_TYPE_ID,
    isRequired: d.MANDATORY === 'Y',
    isReadOnly: false,
    isImmutable: false,
    isMultiple: d.MULTIPLE === 'Y',
    isDynamic: true,
    title,
    listLabel: d.LIST_COLUMN_LABEL ?? title,
    formLabel: d.EDIT_FORM_LABEL ?? title,
    filterLabel: d.LIST_FILTER_LABEL ?? title,
    settings: d.SETTINGS ?? {},
    ...(d.LIST ? { items: d.LIST } : {}),
  };
}

// ---- crm.item (camelCase) -------------------------------------------------

const ITEM_NAMES: Record<string, string> = {
  ID: 'id',
  DATE_CREATE: 'createdTime',
  DATE_MODIFY: 'updatedTime',
  CREATED_BY_ID: 'createdBy',
  MODIFY_BY_ID: 'updatedBy',
  MOVED_BY_ID: 'movedBy',
  STATUS_ID: 'stageId',
  STAGE_ID: 'stageId',
  STATUS_SEMANTIC_ID: 'stageSemanticId',
  STAGE_SEMANTIC_ID: 'stageSemanticId',
  COMPANY_TYPE: 'typeId',
  BEGINDATE: 'begindate',
  CLOSEDATE: 'closedate',
};

/** crm.item name of a legacy field. */
export function itemName(upper: string): string {
  if (upper.startsWith('UF_CRM_')) return ufCamel(upper);
  return ITEM_NAMES[upper] ?? upper.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Legacy field of a crm.item name, or undefined. */
export function upperName(store: Store, entity: CrmEntity, name: string, originalUf = false): string | undefined {
  if (name.toUpperCase().startsWith('UF_CRM_') && (originalUf || /^UF_/.test(name))) return name.toUpperCase();
  for (const n of Object.keys(entity.fields)) if (itemName(n) === name) return n;
  for (const d of ufDefs(store, entity.ufEntityId)) if (ufCamel(String(d.FIELD_NAME)) === name) return String(d.FIELD_NAME);
  return undefined;
}

function itemValue(def: FieldDef | undefined, name: string, v: unknown): unknown {
  if (!def) return v;
  if (def.isMultiple && def.type !== 'crm_multifield') return Array.isArray(v) ? v.map(Number) : [];
  if (ID_TYPES.has(def.type) || def.type === 'double') {
    if (v === null || v === undefined || v === '') return name === 'COMPANY_ID' || name === 'CONTACT_ID' ? 0 : null;
    return Number(v);
  }
  return v;
}

/** crm.item view of a record; `select` undefined or containing `*` = all fields with `fm`. */
export function itemView(store: Store, entity: CrmEntity, row: Row, select?: unknown, originalUf = false): Row {
  const list = selectList(select);
  const all = list === undefined || list.length === 0 || list.includes('*');
  const wanted = all ? undefined : new Set(list);
  const out: Row = {};
  for (const [n, def] of Object.entries(entity.fields)) {
    if (def.type === 'crm_multifield') continue;
    const name = itemName(n);
    if (wanted && !wanted.has(name) && n !== 'ID') continue;
    out[name] = itemValue(def, n, row[n]);
  }
  for (const d of ufDefs(store, entity.ufEntityId)) {
    const upper = String(d.FIELD_NAME);
    const name = originalUf ? upper : ufCamel(upper);
    if (wanted && !wanted.has(name) && !wanted.has(upper)) continue;
    out[name] = row[upper] ?? (d.MULTIPLE === 'Y' ? [] : null);
  }
  if (all) {
    if ('PHONE' in entity.fields) out.fm = toFm(row);
    out.observers = [];
    if (entity.name === 'lead' || entity.name === 'deal') out.contactIds = Array.isArray(row.CONTACT_IDS) ? (row.CONTACT_IDS as unknown[]).map(Number) : row.CONTACT_ID ? [Number(row.CONTACT_ID)] : [];
  }
  // crm-item-list.md: with an explicit select an item has exactly the selected fields.
  if (all || wanted?.has('entityTypeId')) out.entityTypeId = entity.entityTypeId;
  return out;
}

/** Filter/order schema of crm.item.list (camelCase names; an unknown field is 400 INVALID_ARG_VALUE). */
export function itemSchema(store: Store, entity: CrmEntity, offsetMinutes: number, originalUf = false): FilterSchema {
  const legacy = legacySchema(store, entity, offsetMinutes);
  const names = new Map<string, string | undefined>();
  const upper = (field: string): string | undefined => {
    if (!names.has(field)) names.set(field, upperName(store, entity, field, originalUf));
    return names.get(field);
  };
  return {
    offsetMinutes,
    unknown: 'error',
    groups: true,
    kindOf(field) {
      const u = upper(field);
      return u === undefined ? undefined : legacy.kindOf(u);
    },
    valueOf(row, field) {
      const u = upper(field);
      return u === undefined ? undefined : legacy.valueOf(row, u);
    },
  };
}

/** `crm.item.fields` entries. */
export function itemFields(store: Store, entity: CrmEntity, originalUf = false): Row {
  const out: Row = {};
  for (const [n, def] of Object.entries(entity.fields)) {
    if (def.type === 'crm_multifield') continue;
    out[itemName(n)] = { ...describe(def), upperName: n };
  }
  if ('PHONE' in entity.fields) out.fm = { type: 'crm_multifield', isRequired: false, isReadOnly: false, isImmutable: false, isMultiple: true, isDynamic: false, title: 'Multifields', upperName: 'FM' };
  for (const d of ufDefs(store, entity.ufEntityId)) {
    const upper = String(d.FIELD_NAME);
    out[originalUf ? upper : ufCamel(upper)] = { ...describeUf(d, upper), upperName: upper };
  }
  return out;
}

/** Convert crm.item `fields` (camelCase) to legacy UPPER_CASE fields; unknown keys are dropped, as the portal ignores them. */
export function fromItemFields(store: Store, entity: CrmEntity, fields: Row, originalUf = false): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'fm') continue;
    const upper = upperName(store, entity, k, originalUf);
    if (upper) out[upper] = v;
  }
  return out;
}

/** Throw the portal's crm.item error for a missing/invalid entityTypeId. */
export function requireItemEntity(entity: CrmEntity | undefined, raw: unknown): CrmEntity {
  if (raw === undefined || raw === null || raw === '') throw new PortalError(400, '100', 'Expected one of the following parameters: entityTypeId');
  if (!entity) throw new PortalError(400, 'NOT_FOUND', 'Smart process not found');
  return entity;
}
