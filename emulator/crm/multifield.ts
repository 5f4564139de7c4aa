/**
 * Multi-value fields (PHONE, EMAIL, WEB, IM, LINK), API-FACTS §6.3. Stored in
 * the legacy shape `{ID, VALUE_TYPE, VALUE, TYPE_ID}`; `crm.item` shows them
 * as `fm: [{id, typeId, valueType, value}]`.
 */
import type { Store } from '../store.js';
import { MULTIFIELD_TYPES } from './entities.js';

export interface MultiValue {
  ID: string;
  VALUE_TYPE: string;
  VALUE: string;
  TYPE_ID: string;
}

const DEFAULT_VALUE_TYPE: Record<string, string> = { PHONE: 'WORK', EMAIL: 'WORK', WEB: 'WORK', IM: 'OTHER', LINK: 'USER' };

function list(value: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(value)) return value.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object');
  if (value !== null && typeof value === 'object') return Object.values(value).filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object');
  return [];
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** Apply a legacy `fields.PHONE` (etc.) write: no ID adds; ID with a value changes it; ID with `DELETE: Y`, an empty VALUE or nothing else deletes it. */
export function applyLegacyMulti(store: Store, typeId: string, current: MultiValue[], write: unknown): MultiValue[] {
  const out = current.map((v) => ({ ...v }));
  for (const el of list(write)) {
    const id = str(el.ID);
    if (id === '') {
      const value = str(el.VALUE).trim();
      if (value === '') continue;
      out.push({ ID: String(store.nextId('multifield')), VALUE_TYPE: str(el.VALUE_TYPE) || (DEFAULT_VALUE_TYPE[typeId] ?? 'OTHER'), VALUE: value, TYPE_ID: typeId });
      continue;
    }
    const idx = out.findIndex((v) => v.ID === id);
    if (idx < 0) continue;
    const del = str(el.DELETE).toUpperCase() === 'Y' || ('VALUE' in el && str(el.VALUE).trim() === '') || (!('VALUE' in el) && !('VALUE_TYPE' in el));
    if (del) {
      out.splice(idx, 1);
      continue;
    }
    const cur = out[idx] as MultiValue;
    if ('VALUE' in el) cur.VALUE = str(el.VALUE).trim();
    if ('VALUE_TYPE' in el && str(el.VALUE_TYPE) !== '') cur.VALUE_TYPE = str(el.VALUE_TYPE);
  }
  return out;
}

/** Apply `crm.item` `fm`: on add an array of new values; on update an object keyed `n0`.. (new) or an existing id (change, or delete with an empty value). `typeId` is mandatory per element. */
export function applyItemFm(store: Store, row: Record<string, unknown>, fm: unknown, mode: 'add' | 'update'): void {
  const entries: Array<[string, Record<string, unknown>]> =
    Array.isArray(fm) || mode === 'add'
      ? list(fm).map((v, i) => [`n${i}`, v])
      : fm !== null && typeof fm === 'object'
        ? Object.entries(fm as Record<string, unknown>).filter((e): e is [string, Record<string, unknown>] => e[1] !== null && typeof e[1] === 'object')
        : [];
  for (const [key, el] of entries) {
    const typeId = str(el.typeId).toUpperCase();
    if (!(MULTIFIELD_TYPES as readonly string[]).includes(typeId)) continue;
    const current = (row[typeId] as MultiValue[] | undefined) ?? [];
    const numericId = /^\d+$/.test(key) ? key : str(el.id);
    if (!/^n\d*$/.test(key) && numericId !== '') {
      row[typeId] = applyLegacyMulti(store, typeId, current, [{ ID: numericId, VALUE: str(el.value), ...(el.valueType ? { VALUE_TYPE: el.valueType } : {}) }]);
    } else {
      row[typeId] = applyLegacyMulti(store, typeId, current, [{ VALUE: el.value, VALUE_TYPE: el.valueType }]);
    }
  }
}

/** All multi values of a record as `crm.item` shows them. */
export function toFm(row: Record<string, unknown>): Array<{ id: number; valueType: string; value: string; typeId: string }> {
  const out: Array<{ id: number; valueType: string; value: string; typeId: string }> = [];
  for (const t of MULTIFIELD_TYPES) {
    for (const v of (row[t] as MultiValue[] | undefined) ?? []) out.push({ id: Number(v.ID), valueType: v.VALUE_TYPE, value: v.VALUE, typeId: t });
  }
  return out;
}

/** Normalize seeded multi values (give each an ID and TYPE_ID). */
export function seedMulti(store: Store, typeId: string, value: unknown): MultiValue[] {
  return list(value).map((el) => {
    const id = str(el.ID);
    const fixed = id === '' ? String(store.nextId('multifield')) : id;
    if (id !== '' && /^\d+$/.test(id)) while (store.nextId('multifield') < Number(id)) { /* advance past seeded ids */ }
    return { ID: fixed, VALUE_TYPE: str(el.VALUE_TYPE) || (DEFAULT_VALUE_TYPE[typeId] ?? 'OTHER'), VALUE: str(el.VALUE), TYPE_ID: typeId };
  });
}
