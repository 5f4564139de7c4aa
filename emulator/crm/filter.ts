/**
 * List filters as portals read them (API-FACTS §6.5): one key per condition
 * with an operator prefix (`>=DATE_CREATE`, `!@STAGE_ID`, `%TITLE`...), keys
 * AND-ed, and for `crm.item.list` nested groups with `logic: OR`.
 * Values compare by the field's type: numbers as numbers, dates as instants
 * (a date without an offset is portal local time), strings case-insensitively
 * (MySQL's default collation).
 */
import { parseDate } from '../clock.js';
import { PortalError } from '../types.js';

export type Op = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'in' | '!in' | 'like' | '!like' | 'wlike' | '!wlike';

/** Prefixes longest first, so `!@` wins over `!` and `>=` over `>`. */
const PREFIXES: Array<[string, Op]> = [
  ['!=%', '!wlike'],
  ['!%=', '!wlike'],
  ['!@', '!in'],
  ['>=', '>='],
  ['<=', '<='],
  ['!=', '!='],
  ['=%', 'wlike'],
  ['%=', 'wlike'],
  ['!%', '!like'],
  ['@', 'in'],
  ['%', 'like'],
  ['>', '>'],
  ['<', '<'],
  ['!', '!='],
  ['=', '='],
];

/** Split `>=DATE_CREATE` into `['>=', 'DATE_CREATE']`. */
export function splitOp(key: string): [Op, string] {
  for (const [p, op] of PREFIXES) if (key.startsWith(p) && key.length > p.length) return [op, key.slice(p.length)];
  return ['=', key];
}

export type ValueKind = 'number' | 'date' | 'string' | 'multi';

export interface FilterSchema {
  /** Kind of a field, or undefined for a field the object does not have. */
  kindOf(field: string): ValueKind | undefined;
  /** The value to compare (arrays match when any element does). */
  valueOf(row: Record<string, unknown>, field: string): unknown;
  /**
   * The row property `valueOf` returns as it is, when it does (not for multi-value fields): lets a list query
   * use the table's indexes (crm/list-query.ts). @default none: the field is never looked up in an index
   */
  columnOf?(field: string): string | undefined;
  /** Unknown fields: `ignore` (legacy methods) or `error` (crm.item: 400 INVALID_ARG_VALUE). @default 'ignore' */
  unknown?: 'ignore' | 'error';
  /** Whether nested `logic: OR` groups are allowed (crm.item.list). @default false */
  groups?: boolean;
  offsetMinutes: number;
}

export type Predicate = (row: Record<string, unknown>) => boolean;

/** Whether a filter compares `v` as an empty value (null, '', false, []). */
export function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || v === false || (Array.isArray(v) && v.length === 0);
}

/** A value as a number filters and sorts compare it (booleans 1/0; empty values NaN). */
export function num(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined || v === '') return NaN;
  return Number(v);
}

function truthy(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'Y' || v === 'y' || v === 'true') return true;
  if (v === 0 || v === '0' || v === 'N' || v === 'n' || v === 'false' || v === '') return false;
  return undefined;
}

function wildcard(pattern: string): RegExp {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${re}$`, 'is');
}

function digits(s: string): string {
  return s.replace(/\D/g, '');
}

function compareScalar(kind: ValueKind, op: Op, actual: unknown, expected: unknown, offset: number): boolean {
  switch (op) {
    case 'like':
    case '!like': {
      const hit = !isEmpty(actual) && String(actual).toLowerCase().includes(String(expected ?? '').toLowerCase());
      return op === 'like' ? hit : !hit;
    }
    case 'wlike':
    case '!wlike': {
      const hit = !isEmpty(actual) && wildcard(String(expected ?? '')).test(String(actual));
      return op === 'wlike' ? hit : !hit;
    }
    default:
  }
  if (typeof actual === 'boolean') {
    const t = truthy(expected);
    const eq = t !== undefined && t === actual;
    return op === '=' ? eq : op === '!=' ? !eq : false;
  }
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (isEmpty(expected)) eq = isEmpty(actual) || (kind === 'number' && num(actual) === 0 && (expected === 0 || expected === '0'));
    else if (kind === 'number') eq = num(actual) === num(expected);
    else if (kind === 'date') eq = parseDate(actual, offset) === parseDate(expected, offset);
    else if (kind === 'multi') eq = String(actual).toLowerCase() === String(expected).toLowerCase() || (digits(String(expected)) !== '' && digits(String(actual)) === digits(String(expected)) && /^[\d\s()+-]+$/.test(String(expected)));
    else eq = String(actual ?? '').toLowerCase() === String(expected).toLowerCase();
    return op === '=' ? eq : !eq;
  }
  if (isEmpty(actual)) return false;
  let c: number;
  if (kind === 'number') {
    const a = num(actual);
    const b = num(expected);
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    c = a - b;
  } else if (kind === 'date') {
    const a = parseDate(actual, offset);
    const b = parseDate(expected, offset);
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    c = a - b;
  } else {
    c = String(actual).localeCompare(String(expected));
  }
  return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
}

/** The values of a list filter value (an array, or an object's values); undefined for a scalar. */
export function filterList(expected: unknown): unknown[] | undefined {
  return Array.isArray(expected) ? expected : expected !== null && typeof expected === 'object' ? Object.values(expected) : undefined;
}

function condition(kind: ValueKind, op: Op, field: string, expected: unknown, schema: FilterSchema): Predicate {
  const list = filterList(expected);
  return (row) => {
    const raw = schema.valueOf(row, field);
    const values = Array.isArray(raw) ? raw : [raw];
    const anyMatch = (o: Op, exp: unknown): boolean =>
      values.length === 0 ? compareScalar(kind, o, null, exp, schema.offsetMinutes) : values.some((v) => compareScalar(kind, o, v, exp, schema.offsetMinutes));
    if (op === 'in' || (op === '=' && list)) return (list ?? [expected]).some((e) => anyMatch('=', e));
    if (op === '!in' || (op === '!=' && list)) return !(list ?? [expected]).some((e) => anyMatch('=', e));
    if (op === '!=' || op === '!like' || op === '!wlike') {
      const positive: Op = op === '!=' ? '=' : op === '!like' ? 'like' : 'wlike';
      return !anyMatch(positive, expected);
    }
    return anyMatch(op, expected);
  };
}

/** Compile a filter object into a predicate; throws PortalError for a malformed filter. */
export function compileFilter(filter: unknown, schema: FilterSchema): Predicate {
  if (filter === undefined || filter === null || filter === '' || (Array.isArray(filter) && filter.length === 0)) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new PortalError(400, '', "Parameter 'filter' must be array.");
  return compileGroup(filter as Record<string, unknown>, schema);
}

/** `AND` or `OR`: how a filter group combines its keys. */
export function groupLogic(group: Record<string, unknown>): string {
  return String(group.logic ?? group.LOGIC ?? 'AND').toUpperCase();
}

/** Whether a filter key is a nested group (crm.item.list) rather than a condition. */
export function isGroupEntry(key: string, value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && (/^\d+$/.test(key) || 'logic' in value || 'LOGIC' in value);
}

function compileGroup(group: Record<string, unknown>, schema: FilterSchema): Predicate {
  const logic = groupLogic(group);
  const parts: Predicate[] = [];
  for (const [key, value] of Object.entries(group)) {
    if (key === 'logic' || key === 'LOGIC') continue;
    if (isGroupEntry(key, value)) {
      if (!schema.groups) continue;
      parts.push(compileGroup(value as Record<string, unknown>, schema));
      continue;
    }
    const [op, field] = splitOp(key);
    const kind = schema.kindOf(field);
    if (kind === undefined) {
      if (schema.unknown === 'error') throw new PortalError(400, 'INVALID_ARG_VALUE', `Invalid filter: field '${field}' is not allowed in filter`);
      continue;
    }
    parts.push(condition(kind, op, field, value, schema));
  }
  if (logic === 'OR') return (row) => parts.length === 0 || parts.some((p) => p(row));
  return (row) => parts.every((p) => p(row));
}

/** One key of a list's order, its field resolved. */
export interface OrderKey {
  field: string;
  kind: ValueKind;
  /** 1 ascending, -1 descending. */
  sign: 1 | -1;
}

/** The keys of `order: {FIELD: 'ASC'|'DESC'}` then `fallback`; `strict` refuses a bad direction or an unknown field as crm.item.list does. */
export function orderKeys(order: unknown, schema: FilterSchema, fallback: Array<[string, 'ASC' | 'DESC']>, strict = false): OrderKey[] {
  const keys: Array<[string, 'ASC' | 'DESC']> = [];
  if (order && typeof order === 'object' && !Array.isArray(order)) {
    for (const [field, dir] of Object.entries(order as Record<string, unknown>)) {
      const d = String(dir).toUpperCase();
      if (d !== 'ASC' && d !== 'DESC') {
        if (strict) throw new PortalError(400, 'INVALID_ARG_VALUE', `Invalid order: allowed sort directions are ASC, DESC. But got '${String(dir)}' for field '${field}'`);
        continue;
      }
      if (schema.kindOf(field) === undefined) {
        if (strict) throw new PortalError(400, 'INVALID_ARG_VALUE', `Invalid order: field '${field}' is not allowed in order`);
        continue;
      }
      keys.push([field, d]);
    }
  }
  keys.push(...fallback);
  return keys.map(([field, dir]) => ({ field, kind: schema.kindOf(field) ?? 'string', sign: dir === 'ASC' ? 1 : -1 }));
}

/** The comparator of resolved order keys; NULLs sort first ascending, as in MySQL. */
export function orderComparator(keys: readonly OrderKey[], schema: FilterSchema): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  return (a, b) => {
    for (const { field, kind, sign } of keys) {
      const c = compareValues(kind, schema.valueOf(a, field), schema.valueOf(b, field), schema.offsetMinutes);
      if (c !== 0) return sign * c;
    }
    return 0;
  };
}

/** Comparator for `order: {FIELD: 'ASC'|'DESC'}`; NULLs sort first ascending, as in MySQL. */
export function compileOrder(order: unknown, schema: FilterSchema, fallback: Array<[string, 'ASC' | 'DESC']>, strict = false): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  // Resolve each key's kind once: the comparator runs n·log n times.
  return orderComparator(orderKeys(order, schema, fallback, strict), schema);
}

function compareValues(kind: ValueKind, a: unknown, b: unknown, offset: number): number {
  const ea = isEmpty(a) && a !== false;
  const eb = isEmpty(b) && b !== false;
  if (ea || eb) return ea === eb ? 0 : ea ? -1 : 1;
  if (kind === 'number') return num(a) - num(b);
  if (kind === 'date') return parseDate(a, offset) - parseDate(b, offset);
  return String(a).localeCompare(String(b));
}

/** Page size of every list method. */
export const PAGE_SIZE = 50;

/** Which page `start` asks for: `-1` is the first page without the count (total 0, no next), else an offset. */
export function pageWindow(start: unknown): { keyset: true } | { keyset: false; offset: number } {
  const s = Number(start ?? 0);
  if (s === -1) return { keyset: true };
  return { keyset: false, offset: Number.isFinite(s) && s > 0 ? Math.floor(s) : 0 };
}

/** Apply `start` paging: `-1` skips the count (total 0, no next). */
export function paginate<T>(rows: T[], start: unknown): { page: T[]; total: number; next?: number } {
  const w = pageWindow(start);
  if (w.keyset) return { page: rows.slice(0, PAGE_SIZE), total: 0 };
  const offset = w.offset;
  const page = rows.slice(offset, offset + PAGE_SIZE);
  const out: { page: T[]; total: number; next?: number } = { page, total: rows.length };
  if (offset + PAGE_SIZE < rows.length) out.next = offset + PAGE_SIZE;
  return out;
}

/** Schema for a flat table whose fields have fixed kinds (statuses, activities, tasks...). Names compare case-insensitively. */
export function tableSchema(kinds: Record<string, ValueKind>, offsetMinutes: number, alias: (field: string) => string = (f) => f): FilterSchema {
  const upper = new Map(Object.entries(kinds).map(([k, v]) => [k.toUpperCase(), [k, v] as const]));
  const find = (field: string): readonly [string, ValueKind] | undefined => upper.get(alias(field).toUpperCase());
  return {
    offsetMinutes,
    kindOf: (field) => find(field)?.[1],
    columnOf: (field) => find(field)?.[0],
    valueOf: (row, field) => {
      const f = find(field);
      return f ? row[f[0]] : undefined;
    },
  };
}
