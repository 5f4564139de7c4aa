/**
 * A list method's rows for one page: filter, order and `start` paging, read
 * through the table's index (table-index.ts) instead of filtering and sorting
 * the whole table for every page.
 *
 * - Ordered by ID (the default of most lists, and what a keyset scan asks:
 *   `order {ID: ASC}`, `filter {>ID: last}`, `start: -1`): the ids are walked
 *   in order from the `>ID`/`<ID` bound and the walk stops at the page's
 *   last row, so a keyset page reads about one page of rows. An offset page
 *   (`start: N`) also counts the matches for `total`: without other
 *   conditions than the ID bounds that count is the size of the id range.
 * - Equality on an indexed column (STAGE_ID, STATUS_ID, CATEGORY_ID,
 *   ASSIGNED_BY_ID) or on ID (`ID: [..]`, `@ID`) reads only the rows of those
 *   values.
 * - Any other order: the matching rows are sorted, as before.
 * - Offset pages that must see every match (another order, or a filter no
 *   index answers) keep the sorted matches of the query (`memoKey`) until a
 *   write changes the table: the following pages of the same query are slices.
 *
 * The answer is the one the plain way gives (`listQueryReference`): an index
 * only narrows the candidates, the full filter still decides each row, and
 * rows reach the sort in the table's own order.
 */
import type { Row, Store } from '../store.js';
import type { CrmEntity } from './entities.js';
import { bound, INDEXED_COLUMNS, type TableIndex } from '../table-index.js';
import {
  compileFilter,
  filterList,
  groupLogic,
  isEmpty,
  isGroupEntry,
  num,
  orderComparator,
  orderKeys,
  pageWindow,
  paginate,
  PAGE_SIZE,
  splitOp,
  type FilterSchema,
  type Predicate,
} from './filter.js';

/** What a list method asks. */
export interface ListQuery {
  filter: unknown;
  order: unknown;
  /** Order keys after the caller's (the method's default order); should end with the unique id. */
  fallback: Array<[string, 'ASC' | 'DESC']>;
  /** crm.item.list: a bad order is 400 INVALID_ARG_VALUE. @default false */
  strictOrder?: boolean;
  start: unknown;
  schema: FilterSchema;
  /**
   * Names the schema (which method, entity and naming): with it, the sorted matches of a filter and order are kept
   * until the table or its user fields change, so the next offset page of the same query is a slice.
   * @default none: nothing is kept
   */
  memoKey?: string;
}

/** One page of a list: its rows (the store's own objects: read only), `total` (0 for `start=-1`) and `next`. */
export interface ListPage {
  page: Row[];
  total: number;
  next?: number;
}

/** Candidate ids: `source[lo..hi)`, ascending. */
interface Candidates {
  source: readonly number[];
  lo: number;
  hi: number;
  /** Every candidate matches the filter: no need to run it. */
  exact: boolean;
  /** Narrower than the whole table. */
  narrowed: boolean;
}

/** The row property a legacy (UPPER_CASE) filter field of a CRM record reads as it is: a standard field that is not multi-value. */
export function legacyColumn(entity: CrmEntity, field: string): string | undefined {
  const upper = field.toUpperCase();
  const def = entity.fields[upper];
  return def && def.type !== 'crm_multifield' ? upper : undefined;
}

/** `schema` telling which row property a field reads as it is (FilterSchema.columnOf). */
export function withColumns(schema: FilterSchema, columnOf: (field: string) => string | undefined): FilterSchema {
  return { ...schema, columnOf };
}

/** The page as filtering and sorting the whole table gives it: the reference the indexed way must equal. */
export function listQueryReference(store: Store, entity: string, q: ListQuery): ListPage {
  const pred = compileFilter(q.filter, q.schema);
  const rows = store.scan(entity).filter(pred);
  rows.sort(orderComparator(orderKeys(q.order, q.schema, q.fallback, q.strictOrder), q.schema));
  return paginate(rows, q.start);
}

/** One page of a list query on `entity`'s table. Throws PortalError for a malformed filter or (strict) order. */
export function listQuery(store: Store, entity: string, q: ListQuery): ListPage {
  const pred = compileFilter(q.filter, q.schema);
  const keys = orderKeys(q.order, q.schema, q.fallback, q.strictOrder);
  const index = store.index(entity);
  if (!index.valid || index.idKey === undefined) return listQueryReference(store, entity, q);
  const idKey = index.idKey;
  const first = keys[0];
  const byId = first !== undefined && first.kind === 'number' && q.schema.columnOf?.(first.field) === idKey;
  const c = candidates(index, idKey, q.filter, q.schema);
  const memo = memoFor(store, entity, q);
  const kept = memo?.get();
  if (kept) return paginate(kept, q.start);
  if (byId) {
    if (c.exact || pageWindow(q.start).keyset || !memo) return walkById(index, c, pred, first.sign, q.start);
    return paginate(memo.set(matchesById(index, c, pred, first.sign)), q.start);
  }
  // Another order: sort the matches. The candidates, when an index narrowed them and they come in the table's
  // own order (so even a comparator that is not a total order sorts them as the reference does); else the table.
  const rows: Row[] = [];
  if (c.narrowed && index.inIdOrder) {
    for (let i = c.lo; i < c.hi; i++) {
      const row = index.row(c.source[i] as number) as Row;
      if (c.exact || pred(row)) rows.push(row);
    }
  } else for (const row of store.scan(entity)) if (pred(row)) rows.push(row);
  rows.sort(orderComparator(keys, q.schema));
  return paginate(memo ? memo.set(rows) : rows, q.start);
}

function matchesById(index: TableIndex, c: Candidates, pred: Predicate, sign: 1 | -1): Row[] {
  const rows: Row[] = [];
  for (let k = 0; k < c.hi - c.lo; k++) {
    const row = index.row(sign === 1 ? (c.source[c.lo + k] as number) : (c.source[c.hi - 1 - k] as number)) as Row;
    if (c.exact || pred(row)) rows.push(row);
  }
  return rows;
}

/** Sorted matches kept per store: the last few queries, each valid while its table and the user fields are unchanged. */
const MEMOS = new WeakMap<Store, Map<string, Row[]>>();
const MEMO_QUERIES = 4;

function memoFor(store: Store, entity: string, q: ListQuery): { get(): Row[] | undefined; set(rows: Row[]): Row[] } | undefined {
  if (q.memoKey === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify([q.memoKey, q.filter ?? null, q.order ?? null, q.fallback, q.strictOrder ?? false]);
  } catch {
    return undefined;
  }
  const key = `${entity}:${store.version(entity)}:${store.version('userfield')}:${text}`;
  let memos = MEMOS.get(store);
  if (!memos) {
    memos = new Map();
    MEMOS.set(store, memos);
  }
  const m = memos;
  return {
    get() {
      const rows = m.get(key);
      if (rows) {
        m.delete(key);
        m.set(key, rows);
      }
      return rows;
    },
    set(rows) {
      for (const k of m.keys()) if (!k.startsWith(`${entity}:${store.version(entity)}:${store.version('userfield')}:`) && k.startsWith(`${entity}:`)) m.delete(k);
      m.set(key, rows);
      while (m.size > MEMO_QUERIES) m.delete(m.keys().next().value as string);
      return rows;
    },
  };
}

function walkById(index: TableIndex, c: Candidates, pred: Predicate, sign: 1 | -1, start: unknown): ListPage {
  const w = pageWindow(start);
  const at = (k: number): number => (sign === 1 ? (c.source[c.lo + k] as number) : (c.source[c.hi - 1 - k] as number));
  const size = c.hi - c.lo;
  const page: Row[] = [];
  if (w.keyset) {
    for (let k = 0; k < size && page.length < PAGE_SIZE; k++) {
      const row = index.row(at(k)) as Row;
      if (c.exact || pred(row)) page.push(row);
    }
    return { page, total: 0 };
  }
  let total: number;
  if (c.exact) {
    total = size;
    for (let k = w.offset; k < Math.min(size, w.offset + PAGE_SIZE); k++) page.push(index.row(at(k)) as Row);
  } else {
    total = 0;
    for (let k = 0; k < size; k++) {
      const row = index.row(at(k)) as Row;
      if (!pred(row)) continue;
      if (total >= w.offset && total < w.offset + PAGE_SIZE) page.push(row);
      total++;
    }
  }
  const out: ListPage = { page, total };
  if (w.offset + PAGE_SIZE < total) out.next = w.offset + PAGE_SIZE;
  return out;
}

/** The ids a filter can match, from the indexes: its top-level ID bounds, ID sets and equalities on indexed columns. */
function candidates(index: TableIndex, idKey: string, filter: unknown, schema: FilterSchema): Candidates {
  const all = index.ids();
  const whole: Candidates = { source: all, lo: 0, hi: all.length, exact: true, narrowed: false };
  if (filter === undefined || filter === null || filter === '' || Array.isArray(filter) || typeof filter !== 'object') return whole;
  const group = filter as Record<string, unknown>;
  if (groupLogic(group) === 'OR') return { ...whole, exact: false };
  let exact = true;
  let source: readonly number[] | undefined;
  const bounds: Array<[string, number]> = [];
  const narrow = (ids: readonly number[]): void => {
    if (source === undefined || ids.length < source.length) source = ids;
  };
  for (const [key, value] of Object.entries(group)) {
    if (key === 'logic' || key === 'LOGIC') continue;
    if (isGroupEntry(key, value)) {
      exact = false;
      continue;
    }
    const [op, field] = splitOp(key);
    const kind = schema.kindOf(field);
    if (kind === undefined) continue; // ignored by the filter too
    const column = schema.columnOf?.(field);
    if (column === idKey && kind === 'number' && (op === '>' || op === '>=' || op === '<' || op === '<=')) {
      bounds.push([op, num(value)]);
      continue;
    }
    exact = false;
    if (column === undefined || (op !== '=' && op !== 'in')) continue;
    const values = filterList(value) ?? [value];
    if (values.some((v) => isEmpty(v))) continue; // matches empty values: no index narrows that
    if (column === idKey && kind === 'number') {
      const ids = [...new Set(values.map(num))].filter((n) => Number.isSafeInteger(n) && n >= 0 && index.row(n) !== undefined).sort((a, b) => a - b);
      narrow(ids);
    } else if (INDEXED_COLUMNS.has(column) && (kind === 'number' || kind === 'string')) {
      const keys = kind === 'number' ? values.map(num).filter((n) => !Number.isNaN(n)).map(String) : values.map((v) => String(v).toLowerCase());
      narrow(index.lookup(column, kind, keys));
    }
  }
  const from = source ?? all;
  let lo = 0;
  let hi = from.length;
  for (const [op, b] of bounds) {
    // A bound that is not a number matches no row (compareScalar: NaN compares false).
    if (Number.isNaN(b)) hi = lo;
    else if (op === '>') lo = Math.max(lo, bound(from, b, true));
    else if (op === '>=') lo = Math.max(lo, bound(from, b, false));
    else if (op === '<') hi = Math.min(hi, bound(from, b, false));
    else hi = Math.min(hi, bound(from, b, true));
  }
  if (hi < lo) hi = lo;
  return { source: from, lo, hi, exact, narrowed: source !== undefined || lo > 0 || hi < from.length };
}
