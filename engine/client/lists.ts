/**
 * Reading whole lists (API-FACTS §2.5). Three ways, fastest first:
 *
 * - `listAllBatched`: keyset paging chained inside one `batch` request: page k
 *   filters `>ID` by `$result[p{k-1}][49][ID]` (for crm.item.list
 *   `$result[p{k-1}][items][49][id]`), so one request returns up to 50 pages
 *   (2,500 rows). The first page is read alone for its `total`, which sizes
 *   the chains so no empty page past the end is queried. The portal resolves a
 *   reference to a missing row to garbage, so the client stops at the first
 *   short page and ignores what follows it.
 * - `listAll`: the official fast full scan, one page per request: `start=-1`
 *   (no COUNT), `order {ID: ASC}`, `filter {>ID: last}`; stops at a short page.
 * - `listPaged`: plain `start`/`next` offsets, for methods that cannot order
 *   or filter by ID. The first page says `total`; the remaining offsets are
 *   then fetched 50 pages per batch. Rows can shift if records change during
 *   the scan (the portal's offsets are not stable).
 */
import { B24RulesError } from '../errors.js';
import { B24ApiError } from './errors.js';
import { encodeCommand } from './query-string.js';
import type { B24Envelope, BatchItemResult, ListOptions, ListShapeOptions, Params } from './types.js';

/** Rows per page of a v1 list method. */
export const PAGE_SIZE = 50;

export interface ListContext {
  call(method: string, params: Params): Promise<B24Envelope>;
  /** Send one batch of already-encoded commands (at most 50); per-key outcomes. */
  rawBatch(cmd: Record<string, string>, methods: string[]): Promise<Record<string, BatchItemResult>>;
}

export interface ListAllOptions extends ListOptions, ListShapeOptions {}

export interface ListAllBatchedOptions extends ListAllOptions {
  /** Pages chained per batch request (1-50). @default 50 */
  pagesPerRequest?: number;
}

export interface ListPagedOptions extends ListAllOptions {
  /** Sort order passed through as is. */
  order?: Record<string, 'ASC' | 'DESC' | 'asc' | 'desc'>;
}

interface Shape {
  itemsKey: string | null;
  idKey: string;
  cursorKey: string;
}

const KNOWN_SHAPES: Record<string, Shape> = {
  'crm.item.list': { itemsKey: 'items', idKey: 'id', cursorKey: 'id' },
  'tasks.task.list': { itemsKey: 'tasks', idKey: 'id', cursorKey: 'ID' },
};

/** Where rows and IDs are for a list method (crm.item.list and tasks.task.list known; options override). */
export function listShape(method: string, options: ListShapeOptions = {}): Shape {
  const known = KNOWN_SHAPES[method.toLowerCase()] ?? { itemsKey: null, idKey: 'ID', cursorKey: 'ID' };
  const idKey = options.idKey ?? known.idKey;
  return {
    itemsKey: options.itemsKey !== undefined ? options.itemsKey : known.itemsKey,
    idKey,
    cursorKey: options.cursorKey ?? (options.idKey !== undefined ? options.idKey : known.cursorKey),
  };
}

/** The rows of a list answer's `result`. */
export function rowsOf<T>(result: unknown, shape: Shape, method: string): T[] {
  let rows: unknown = result;
  if (shape.itemsKey !== null) {
    rows = result && typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>)[shape.itemsKey] : result;
  }
  if (Array.isArray(rows)) return rows as T[];
  if (rows && typeof rows === 'object') return Object.values(rows) as T[];
  if (rows === undefined || rows === null) return [];
  throw new B24RulesError('LIST_SHAPE', `${method}: expected a list of rows${shape.itemsKey ? ` under result.${shape.itemsKey}` : ''}; got ${typeof rows}. Set itemsKey for this method.`, { kind: 'user' });
}

function cursorOf(row: unknown, shape: Shape, method: string): number {
  const v = row && typeof row === 'object' ? (row as Record<string, unknown>)[shape.idKey] : undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw new B24RulesError('LIST_NO_ID', `${method}: rows carry no numeric '${shape.idKey}' to page by; set idKey (and cursorKey) or use listPaged()`, { kind: 'user' });
  }
  return n;
}

function withCursorSelect(select: string[] | undefined, shape: Shape): string[] | undefined {
  if (!select || select.length === 0) return select;
  const has = select.some((f) => f === '*' || f.toLowerCase() === shape.idKey.toLowerCase() || f.toLowerCase() === shape.cursorKey.toLowerCase());
  return has ? select : [...select, shape.cursorKey];
}

function keysetParams(options: ListAllOptions, shape: Shape): { base: Params; start: number } {
  const filter: Params = { ...(options.filter ?? {}) };
  const gtKey = `>${shape.cursorKey}`;
  const given = Number(filter[gtKey] ?? 0);
  delete filter[gtKey];
  const select = withCursorSelect(options.select, shape);
  const base: Params = { ...(options.params ?? {}), filter, order: { [shape.cursorKey]: 'ASC' }, start: -1 };
  if (select) base.select = select;
  return { base, start: Number.isFinite(given) ? given : 0 };
}

function failed(method: string, item: BatchItemResult): B24ApiError {
  return new B24ApiError('B24_API_ERROR', { method, status: 0, error: item.error?.error ?? '', errorDescription: item.error?.error_description ?? '' });
}

/** Fast full scan, one page per request. */
export async function* listAll<T>(ctx: ListContext, method: string, options: ListAllOptions = {}): AsyncGenerator<T> {
  const shape = listShape(method, options);
  const { base, start } = keysetParams(options, shape);
  const limit = options.limit ?? Infinity;
  let last = start;
  let yielded = 0;
  while (yielded < limit) {
    const params = { ...base, filter: { ...(base.filter as Params), [`>${shape.cursorKey}`]: last } };
    const env = await ctx.call(method, params);
    const rows = rowsOf<T>(env.result, shape, method);
    for (const row of rows) {
      if (yielded >= limit) return;
      yield row;
      yielded++;
    }
    if (rows.length < PAGE_SIZE) return;
    last = cursorOf(rows[rows.length - 1], shape, method);
  }
}

/**
 * Fast full scan, up to 50 pages (2,500 rows) per batch request. The first page
 * is read alone with `start=0`, whose `total` (one COUNT) sizes the batches that
 * follow: a chain of 50 pages sent blindly would make the portal run (and charge
 * the method's time budget for) every empty page past the end.
 */
export async function* listAllBatched<T>(ctx: ListContext, method: string, options: ListAllBatchedOptions = {}): AsyncGenerator<T> {
  const shape = listShape(method, options);
  const { base, start } = keysetParams(options, shape);
  const limit = options.limit ?? Infinity;
  const perRequest = Math.max(1, Math.min(50, options.pagesPerRequest ?? 50));
  const gtKey = `>${shape.cursorKey}`;
  const rowPath = `${shape.itemsKey !== null ? `[${shape.itemsKey}]` : ''}[${PAGE_SIZE - 1}][${shape.idKey}]`;
  let yielded = 0;

  const first = await ctx.call(method, { ...base, start: 0, filter: { ...(base.filter as Params), [gtKey]: start } });
  const firstRows = rowsOf<T>(first.result, shape, method);
  for (const row of firstRows) {
    if (yielded >= limit) return;
    yield row;
    yielded++;
  }
  if (firstRows.length < PAGE_SIZE) return;
  let last = cursorOf(firstRows[firstRows.length - 1], shape, method);
  // Rows still expected by the count; pages that stay full beyond it (rows added meanwhile) are followed one chain at a time.
  let expected = typeof first.total === 'number' ? first.total - firstRows.length : Infinity;

  while (yielded < limit) {
    // When the count ends within this chain, one page more tells whether rows were added meanwhile.
    const byCount = expected > 0 ? Math.ceil(expected / PAGE_SIZE) + 1 : 1;
    const byLimit = Math.ceil((limit - yielded) / PAGE_SIZE);
    const pages = Math.max(1, Math.min(perRequest, byCount, byLimit));
    const cmd: Record<string, string> = {};
    for (let k = 0; k < pages; k++) {
      const cursor = k === 0 ? last : `$result[p${k - 1}]${rowPath}`;
      cmd[`p${k}`] = encodeCommand(method, { ...base, filter: { ...(base.filter as Params), [gtKey]: cursor } });
    }
    const results = await ctx.rawBatch(cmd, [method]);
    for (let k = 0; k < pages; k++) {
      const item = results[`p${k}`];
      if (!item || !item.ok) throw failed(method, item ?? { key: `p${k}`, ok: false });
      const rows = rowsOf<T>(item.result, shape, method);
      for (const row of rows) {
        if (yielded >= limit) return;
        yield row;
        yielded++;
      }
      expected -= rows.length;
      // The portal resolves a reference to a missing row to garbage: nothing after a short page counts.
      if (rows.length < PAGE_SIZE) return;
      last = cursorOf(rows[rows.length - 1], shape, method);
    }
  }
}

/** Offset paging (`start`/`next`) for methods that cannot be ordered by ID; pages after the first go 50 to a batch. */
export async function* listPaged<T>(ctx: ListContext, method: string, options: ListPagedOptions = {}): AsyncGenerator<T> {
  const shape = listShape(method, options);
  const base: Params = { ...(options.params ?? {}) };
  if (options.filter) base.filter = options.filter;
  if (options.select) base.select = options.select;
  if (options.order) base.order = options.order;
  const limit = options.limit ?? Infinity;
  let yielded = 0;
  const first = await ctx.call(method, { ...base, start: 0 });
  for (const row of rowsOf<T>(first.result, shape, method)) {
    if (yielded >= limit) return;
    yield row;
    yielded++;
  }
  let next = first.next;
  const total = first.total;
  if (typeof total !== 'number' || total <= 0) {
    // No total: follow `next` one page at a time.
    while (typeof next === 'number' && yielded < limit) {
      const env = await ctx.call(method, { ...base, start: next });
      for (const row of rowsOf<T>(env.result, shape, method)) {
        if (yielded >= limit) return;
        yield row;
        yielded++;
      }
      next = env.next;
    }
    return;
  }
  const offsets: number[] = [];
  for (let off = next ?? total; off < total && off < limit + PAGE_SIZE; off += PAGE_SIZE) offsets.push(off);
  for (let i = 0; i < offsets.length && yielded < limit; i += 50) {
    const group = offsets.slice(i, i + 50);
    const cmd: Record<string, string> = {};
    for (const off of group) cmd[`s${off}`] = encodeCommand(method, { ...base, start: off });
    const results = await ctx.rawBatch(cmd, [method]);
    for (const off of group) {
      const item = results[`s${off}`];
      if (!item || !item.ok) throw failed(method, item ?? { key: `s${off}`, ok: false });
      for (const row of rowsOf<T>(item.result, shape, method)) {
        if (yielded >= limit) return;
        yield row;
        yielded++;
      }
    }
  }
}
