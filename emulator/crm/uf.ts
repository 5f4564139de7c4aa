/** CRM user fields (UF_CRM_*): definitions in the `userfield` table, value formats, and crm.item's camelCase names (API-FACTS §6.4). */
import { formatIso, parseDate } from '../clock.js';
import type { Store, Row } from '../store.js';

/** Definitions of one UF entity (`CRM_LEAD`...). */
export function ufDefs(store: Store, ufEntityId: string): Row[] {
  return store
    .scan('userfield')
    .filter((u) => u.ENTITY_ID === ufEntityId)
    .sort((a, b) => Number(a.SORT ?? 100) - Number(b.SORT ?? 100) || Number(a.ID) - Number(b.ID));
}

/** `UF_CRM_3_1747309727` → `ufCrm3_1747309727`, `UF_CRM_3_DIGIT` → `ufCrm3Digit`, `UF_CRM_1747309879` → `ufCrm_1747309879`. */
export function ufCamel(name: string): string {
  const rest = name.replace(/^UF_CRM_/, '');
  let m = /^(\d+)_(\d+)$/.exec(rest);
  if (m) return `ufCrm${m[1]}_${m[2]}`;
  m = /^(\d+)_([A-Z]+(?:_[A-Z]+)*)$/.exec(rest);
  if (m) return `ufCrm${m[1]}${(m[2] as string).split('_').map((p) => p.charAt(0) + p.slice(1).toLowerCase()).join('')}`;
  return `ufCrm_${rest}`;
}

function one(type: string, v: unknown, offset: number): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean':
      return v === true || v === 1 || v === '1' || v === 'Y' || v === 'y' || v === 'true';
    case 'datetime':
    case 'date': {
      if (v === '') return '';
      const ms = parseDate(v, offset);
      return Number.isNaN(ms) ? String(v) : formatIso(ms, offset);
    }
    default:
      return typeof v === 'object' ? v : String(v);
  }
}

/** Format a written UF value by its definition (multiple fields keep arrays). */
export function ufValue(def: Row, v: unknown, offset: number): unknown {
  const type = String(def.USER_TYPE_ID ?? 'string');
  if (def.MULTIPLE === 'Y') {
    const arr = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v) : v === null || v === undefined || v === '' ? [] : [v];
    return arr.map((x) => one(type, x, offset));
  }
  return one(type, v, offset);
}

/** A user-field definition row with the portal's defaults. */
export function ufDefinition(store: Store, entityId: string, fields: Row): Row {
  let name = String(fields.FIELD_NAME ?? '').toUpperCase();
  if (!name.startsWith('UF_CRM_')) name = `UF_CRM_${name.replace(/^UF_/, '')}`;
  const label = typeof fields.EDIT_FORM_LABEL === 'string' ? fields.EDIT_FORM_LABEL : (fields.LABEL ?? name);
  return {
    ID: String(fields.ID ?? store.nextId('userfield')),
    ENTITY_ID: entityId,
    FIELD_NAME: name,
    USER_TYPE_ID: String(fields.USER_TYPE_ID ?? 'string'),
    XML_ID: fields.XML_ID ?? null,
    SORT: String(fields.SORT ?? 100),
    MULTIPLE: fields.MULTIPLE === 'Y' || fields.MULTIPLE === true ? 'Y' : 'N',
    MANDATORY: fields.MANDATORY === 'Y' || fields.MANDATORY === true ? 'Y' : 'N',
    SHOW_FILTER: String(fields.SHOW_FILTER ?? 'N'),
    SHOW_IN_LIST: String(fields.SHOW_IN_LIST ?? 'Y'),
    EDIT_IN_LIST: String(fields.EDIT_IN_LIST ?? 'Y'),
    IS_SEARCHABLE: String(fields.IS_SEARCHABLE ?? 'N'),
    SETTINGS: fields.SETTINGS ?? {},
    EDIT_FORM_LABEL: label,
    LIST_COLUMN_LABEL: fields.LIST_COLUMN_LABEL ?? label,
    LIST_FILTER_LABEL: fields.LIST_FILTER_LABEL ?? label,
    ...(fields.LIST ? { LIST: enumItems(fields.LIST) } : {}),
  };
}

function enumItems(list: unknown): Row[] {
  const arr = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.values(list) : [];
  return arr.map((x, i) => {
    const r = (x && typeof x === 'object' ? x : { VALUE: x }) as Row;
    return { ID: String(r.ID ?? i + 1), VALUE: String(r.VALUE ?? ''), SORT: String(r.SORT ?? (i + 1) * 10), DEF: r.DEF ?? 'N', XML_ID: r.XML_ID ?? null };
  });
}
