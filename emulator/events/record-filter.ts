/**
 * The `filter` and `order` params of `event.offline.get` / `event.offline.list`:
 * validated the way the portal's `sanitizeFilter`/`sanitizeOrder` do (same
 * ERROR_ARGUMENT texts as api-reference/events/event-offline-get.md lists) and
 * compiled into a predicate and a comparator over queue records.
 */
import { parseDate } from '../clock.js';
import { PortalError } from '../types.js';
import type { OfflineRecord } from './offline-queue.js';

export type RecordField = 'ID' | 'TIMESTAMP_X' | 'EVENT_NAME' | 'MESSAGE_ID' | 'PROCESS_ID' | 'ERROR';

/** Fields `event.offline.get` filters and sorts by. */
export const GET_FIELDS: readonly RecordField[] = ['ID', 'TIMESTAMP_X', 'EVENT_NAME', 'MESSAGE_ID'];
/** `event.offline.list` adds the reservation and error marks. */
export const LIST_FIELDS: readonly RecordField[] = [...GET_FIELDS, 'PROCESS_ID', 'ERROR'];

const OPERATIONS = new Set(['', '=', '>', '<', '>=', '<=', '@', '%']);

interface Condition {
  field: RecordField;
  op: string;
  value: unknown;
}

function argumentError(description: string): PortalError {
  return new PortalError(400, 'ERROR_ARGUMENT', description);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Compile a `filter` param. `allowArrays` is false for `event.offline.get`
 * (its marking query takes scalars only) and true for `list`, where `@` takes a list.
 */
export function compileFilter(
  filter: unknown,
  fields: readonly RecordField[],
  offsetMinutes: number,
  allowArrays: boolean,
): (r: OfflineRecord) => boolean {
  if (filter === undefined || filter === null || filter === '') return () => true;
  // An empty PHP array arrives as [] from JSON clients.
  if (Array.isArray(filter) && filter.length === 0) return () => true;
  if (!isPlainObject(filter)) throw argumentError('The filter is not an array.');
  const conditions: Condition[] = [];
  for (const [rawKey, value] of Object.entries(filter)) {
    const m = /^(\W{1,2})(.+)$/.exec(rawKey);
    const op = m ? m[1]! : '';
    const field = (m ? m[2]! : rawKey).toUpperCase();
    if (!OPERATIONS.has(op)) throw argumentError(`Filter operation not allowed: ${op}`);
    if (!(fields as readonly string[]).includes(field)) throw argumentError(`Filter field not allowed: ${field}`);
    if ((isPlainObject(value) || Array.isArray(value)) && !(allowArrays && op === '@' && Array.isArray(value))) {
      throw argumentError(`The value of an argument '${rawKey}' has an invalid type`);
    }
    conditions.push({ field: field as RecordField, op, value });
  }
  return (r) => conditions.every((c) => test(r, c, offsetMinutes));
}

function fieldValue(r: OfflineRecord, field: RecordField): number | string {
  switch (field) {
    case 'ID':
      return r.id;
    case 'TIMESTAMP_X':
      // The portal stores seconds.
      return Math.floor(r.timestamp / 1000) * 1000;
    case 'EVENT_NAME':
      return r.eventName;
    case 'MESSAGE_ID':
      return r.messageId;
    case 'PROCESS_ID':
      return r.processId;
    case 'ERROR':
      return r.error;
  }
}

function normalize(field: RecordField, value: unknown, offsetMinutes: number): number | string {
  if (field === 'TIMESTAMP_X') return parseDate(value, offsetMinutes);
  if (field === 'ID' || field === 'ERROR') return Number(value);
  // MySQL's default collation compares strings case-insensitively.
  return String(value ?? '').toLowerCase();
}

function test(r: OfflineRecord, c: Condition, offsetMinutes: number): boolean {
  const raw = fieldValue(r, c.field);
  const actual = typeof raw === 'string' ? raw.toLowerCase() : raw;
  if (c.op === '@') {
    const list = Array.isArray(c.value) ? c.value : [c.value];
    return list.some((v) => normalize(c.field, v, offsetMinutes) === actual);
  }
  if (c.op === '%') return String(actual).includes(String(c.value ?? '').toLowerCase());
  const expected = normalize(c.field, c.value, offsetMinutes);
  switch (c.op) {
    case '':
    case '=':
      return actual === expected;
    case '>':
      return actual > expected;
    case '<':
      return actual < expected;
    case '>=':
      return actual >= expected;
    default:
      return actual <= expected;
  }
}

/** Compile an `order` param into a comparator; ties fall back to ID ascending. */
export function compileOrder(
  order: unknown,
  fields: readonly RecordField[],
  fallback: Record<string, 'ASC' | 'DESC'>,
): (a: OfflineRecord, b: OfflineRecord) => number {
  let spec: Record<string, unknown> = fallback;
  if (order !== undefined && order !== null && order !== '' && !(Array.isArray(order) && order.length === 0)) {
    if (!isPlainObject(order)) throw argumentError('The order is not an array.');
    spec = order;
  }
  const keys: Array<{ field: RecordField; dir: 1 | -1 }> = [];
  for (const [rawField, rawDir] of Object.entries(spec)) {
    const field = rawField.toUpperCase();
    if (!(fields as readonly string[]).includes(field)) throw argumentError(`Order field not allowed: ${field}`);
    const dir = String(rawDir).toUpperCase();
    if (dir !== 'ASC' && dir !== 'DESC') throw argumentError('Order direction should be one of {ASC|DESC}');
    keys.push({ field: field as RecordField, dir: dir === 'ASC' ? 1 : -1 });
  }
  return (a, b) => {
    for (const { field, dir } of keys) {
      const x = fieldValue(a, field);
      const y = fieldValue(b, field);
      if (x < y) return -dir;
      if (x > y) return dir;
    }
    return a.id - b.id;
  };
}
