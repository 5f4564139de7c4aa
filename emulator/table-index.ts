/**
 * Indexes of one store table, so a list query reads the rows of its page and
 * not the whole table: the ids in ascending order (keyset pages `>ID` and
 * offset pages ordered by ID), and per indexed column the ids of each value
 * (equality filters). Built on the first query that needs them, then kept
 * up to date by every write of the table.
 *
 * An index only narrows the candidates: the list query still runs the full
 * filter on each one, so an index may hold more ids than match (the `odd`
 * ids of a column), never fewer.
 */
import type { Row } from './store.js';

/** How a column's values compare in an equality filter: as numbers or as case-insensitive strings (crm/filter.ts). */
export type IndexKind = 'number' | 'string';

/** Columns worth a value index: the equality filters of pipelines, stages and owners that lists use most. */
export const INDEXED_COLUMNS: ReadonlySet<string> = new Set(['STAGE_ID', 'STATUS_ID', 'CATEGORY_ID', 'ASSIGNED_BY_ID']);

/** Ids the index can hold: canonical non-negative integers, so `Number(id)` and `String(n)` are inverses. */
const CANONICAL_ID = /^(?:0|[1-9]\d{0,14})$/;

/** First position in ascending `arr` whose value is >= x (`strict`: > x). */
export function bound(arr: readonly number[], x: number, strict: boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = arr[mid] as number;
    if (v < x || (strict && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(arr: number[], n: number): void {
  const last = arr[arr.length - 1];
  if (last === undefined || n > last) {
    arr.push(n);
    return;
  }
  const at = bound(arr, n, false);
  if (arr[at] !== n) arr.splice(at, 0, n);
}

function removeSorted(arr: number[], n: number): void {
  const at = bound(arr, n, false);
  if (arr[at] === n) arr.splice(at, 1);
}

/**
 * The bucket of a stored value, the way an equality filter of `kind` compares it (crm/filter.ts compareScalar):
 * numbers by `Number()`, strings lower-cased, empty values as `''` or `NaN`. Undefined for a value such a
 * filter does not compare as one scalar (a boolean, an array, an object): its row goes to the column's `odd` ids.
 */
export function bucketKey(kind: IndexKind, v: unknown): string | undefined {
  if (typeof v === 'boolean' || (v !== null && typeof v === 'object')) return undefined;
  if (kind === 'number') return v === null || v === undefined || v === '' ? 'NaN' : String(Number(v));
  return String(v ?? '').toLowerCase();
}

class ColumnIndex {
  readonly buckets = new Map<string, number[]>();
  /** Rows whose value has no bucket: every lookup includes them. */
  readonly odd: number[] = [];

  constructor(
    readonly column: string,
    readonly kind: IndexKind,
  ) {}

  add(n: number, row: Row): void {
    const key = bucketKey(this.kind, row[this.column]);
    if (key === undefined) return insertSorted(this.odd, n);
    let b = this.buckets.get(key);
    if (!b) {
      b = [];
      this.buckets.set(key, b);
    }
    insertSorted(b, n);
  }

  remove(n: number, row: Row): void {
    const key = bucketKey(this.kind, row[this.column]);
    if (key === undefined) return removeSorted(this.odd, n);
    const b = this.buckets.get(key);
    if (!b) return;
    removeSorted(b, n);
    if (b.length === 0) this.buckets.delete(key);
  }
}

export class TableIndex {
  readonly #table: ReadonlyMap<string, Row>;
  readonly #ids: number[] = [];
  readonly #columns = new Map<string, ColumnIndex>();
  #idKey: 'ID' | 'id' | undefined;
  #valid = true;
  #inIdOrder = true;

  /** Index the rows of `table` as they are now. */
  constructor(table: ReadonlyMap<string, Row>) {
    this.#table = table;
    for (const [id, row] of table) {
      if (!this.#accepts(id, row)) break;
      const n = Number(id);
      const last = this.#ids[this.#ids.length - 1];
      if (last !== undefined && n < last) this.#inIdOrder = false;
      this.#ids.push(n);
    }
    if (this.#table.size === 0) this.#valid = false;
    if (this.#valid && !this.#inIdOrder) this.#ids.sort((a, b) => a - b);
  }

  /** Whether the table's own order (the order rows were first stored in) is ascending id order. */
  get inIdOrder(): boolean {
    return this.#inIdOrder;
  }

  /**
   * Whether the index holds every row: false when the table is empty or has an id that is not a canonical integer,
   * or a row whose id field (`ID`, or `id` for tasks and categories) is not its key. A store drops an invalid index
   * at the next write.
   */
  get valid(): boolean {
    return this.#valid;
  }

  /** The row field holding the id, shared by every row. */
  get idKey(): 'ID' | 'id' | undefined {
    return this.#idKey;
  }

  /** All ids, ascending. */
  ids(): readonly number[] {
    return this.#ids;
  }

  /** The live row of an id (not a copy: read only). */
  row(n: number): Row | undefined {
    return this.#table.get(String(n));
  }

  /**
   * Ids, ascending, of the rows whose `column` may equal one of `keys` (bucket keys, see bucketKey) under an
   * equality filter of `kind`, plus the column's odd ids.
   */
  lookup(column: string, kind: IndexKind, keys: readonly string[]): readonly number[] {
    const index = this.#column(column, kind);
    const lists: number[][] = [];
    if (index.odd.length > 0) lists.push(index.odd);
    for (const k of new Set(keys)) {
      const b = index.buckets.get(k);
      if (b) lists.push(b);
    }
    if (lists.length <= 1) return lists[0] ?? [];
    // Buckets are disjoint: concatenate and sort.
    return lists.flat().sort((a, b) => a - b);
  }

  /** @internal A row was stored under `id`, replacing `before` if any. */
  onPut(id: string, before: Row | undefined, row: Row): void {
    if (!this.#valid) return;
    if (!this.#accepts(id, row)) return;
    const n = Number(id);
    if (before === undefined) {
      const last = this.#ids[this.#ids.length - 1];
      if (last !== undefined && n < last) this.#inIdOrder = false;
      insertSorted(this.#ids, n);
    }
    for (const c of this.#columns.values()) {
      if (before !== undefined) {
        if (bucketKey(c.kind, before[c.column]) === bucketKey(c.kind, row[c.column])) continue;
        c.remove(n, before);
      }
      c.add(n, row);
    }
  }

  /** @internal The row stored under `id` was deleted. */
  onDelete(id: string, before: Row): void {
    if (!this.#valid) return;
    const n = Number(id);
    removeSorted(this.#ids, n);
    for (const c of this.#columns.values()) c.remove(n, before);
  }

  #accepts(id: string, row: Row): boolean {
    const key = 'ID' in row || !('id' in row) ? 'ID' : 'id';
    this.#idKey ??= key;
    if (!CANONICAL_ID.test(id) || key !== this.#idKey || String(row[key]) !== id) this.#valid = false;
    return this.#valid;
  }

  #column(column: string, kind: IndexKind): ColumnIndex {
    const name = `${kind}:${column}`;
    let c = this.#columns.get(name);
    if (!c) {
      c = new ColumnIndex(column, kind);
      for (const n of this.#ids) c.add(n, this.#table.get(String(n)) as Row);
      this.#columns.set(name, c);
    }
    return c;
  }
}
