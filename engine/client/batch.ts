/**
 * The pieces of `batch` that do not touch the network: normalising commands,
 * splitting them into chunks of at most 50, `$result[key][...]` references
 * (found, and resolved client-side when the referenced command ran in an
 * earlier chunk, the way the portal resolves them: API-FACTS §3.1), what each
 * chunk sends and what a failure before it means (halt, a failed reference), and reading
 * each command's outcome out of `result`, `result_error`, `result_total` and
 * `result_next` (any of which may be `[]`, PHP's empty array).
 */
import { B24RulesError } from '../errors.js';
import type { BatchCommand, BatchItemResult, Params } from './types.js';

/** At most this many commands per batch request (API-FACTS §2.4). */
export const MAX_BATCH = 50;

export interface KeyedCommand {
  key: string;
  method: string;
  params: Params;
}

/** Commands in order with their keys (array positions become '0', '1', ...). */
export function normalizeCommands(commands: Record<string, BatchCommand> | BatchCommand[]): KeyedCommand[] {
  const entries: Array<[string, BatchCommand]> = Array.isArray(commands) ? commands.map((c, i) => [String(i), c]) : Object.entries(commands);
  return entries.map(([key, c]) => {
    if (!c || typeof c.method !== 'string' || !c.method.trim()) {
      throw new B24RulesError('BATCH_INVALID', `batch command '${key}' has no method; each command is {method: 'crm.lead.get', params: {...}}`, { kind: 'user' });
    }
    if (!/^[\w.-]+$/.test(key)) {
      throw new B24RulesError('BATCH_INVALID', `batch command key '${key}' may only contain letters, digits, '_', '.', '-'`, { kind: 'user' });
    }
    return { key, method: c.method.trim(), params: c.params ?? {} };
  });
}

/** Split items, in order, into consecutive chunks of at most `size` (MAX_BATCH: one `batch` request each). */
export function chunk<T>(items: readonly T[], size = MAX_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const REF = /\$result\[([^\]]+)\]((?:\[[^\]]+\])*)/g;

/** Keys of the commands a value references through `$result[key]...`. */
export function referencedKeys(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(REF)) if (m[1] !== undefined) out.add(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) referencedKeys(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) referencedKeys(v, out);
  }
  return out;
}

function walkPath(root: unknown, path: string): { found: boolean; value: unknown } {
  let cur = root;
  for (const m of path.matchAll(/\[([^\]]+)\]/g)) {
    const seg = m[1] as string;
    if (cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/**
 * Replace references to commands of earlier chunks by their values. A value
 * that is one whole reference takes the referenced value as is (object,
 * array, number); a reference inside a longer string is replaced by its text.
 * Returns the key of the first reference that cannot be resolved (the command
 * failed, or the path is not in its result) instead of guessing.
 */
export function resolveReferences(params: Params, earlier: Map<string, unknown>): { params: Params; unresolved?: string } {
  let unresolved: string | undefined;
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\$result\[([^\]]+)\]((?:\[[^\]]+\])*)$/.exec(value);
      if (whole && earlier.has(whole[1] as string)) {
        const r = walkPath(earlier.get(whole[1] as string), whole[2] ?? '');
        if (!r.found) unresolved ??= value;
        return r.value;
      }
      return value.replace(REF, (all, key: string, path: string) => {
        if (!earlier.has(key)) return all;
        const r = walkPath(earlier.get(key), path);
        if (!r.found || (r.value !== null && typeof r.value === 'object')) {
          unresolved ??= all;
          return all;
        }
        return String(r.value ?? '');
      });
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  const out = visit(params) as Params;
  return unresolved === undefined ? { params: out } : { params: out, unresolved };
}

function pick(container: unknown, key: string): { has: boolean; value: unknown } {
  if (container !== null && typeof container === 'object' && Object.prototype.hasOwnProperty.call(container, key)) {
    return { has: true, value: (container as Record<string, unknown>)[key] };
  }
  return { has: false, value: undefined };
}

function toNumber(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Where a batch() stands between its requests. */
export interface BatchProgress {
  /** Each command's outcome so far, by key. */
  results: Record<string, BatchItemResult>;
  /** The results of the commands that succeeded, for references from later chunks. */
  succeeded: Map<string, unknown>;
  /** A command failed (or could not be sent) and halt is set: the rest do not run. */
  halted: boolean;
}

/** A fresh BatchProgress. */
export function startBatch(): BatchProgress {
  return { results: {}, succeeded: new Map(), halted: false };
}

/**
 * The commands of one chunk to send, with their references to commands of
 * earlier chunks resolved. A command whose reference cannot be resolved gets
 * BATCH_REFERENCE_FAILED (and halts the rest when `halt`); a command after a
 * halt gets BATCH_HALTED. `keys` are all the batch's command keys.
 */
export function chunkToSend(group: readonly KeyedCommand[], keys: ReadonlySet<string>, halt: boolean, progress: BatchProgress): KeyedCommand[] {
  const inGroup = new Set(group.map((c) => c.key));
  const toSend: KeyedCommand[] = [];
  for (const c of group) {
    if (progress.halted) {
      progress.results[c.key] = notRun(c.key, 'BATCH_HALTED', 'not run: an earlier command failed and halt was set');
      continue;
    }
    const earlier = [...referencedKeys(c.params)].filter((k) => !inGroup.has(k) && keys.has(k));
    if (earlier.length === 0) {
      toSend.push(c);
      continue;
    }
    const known = new Map([...progress.succeeded].filter(([k]) => earlier.includes(k)));
    const failedRef = earlier.find((k) => !known.has(k));
    const resolved = resolveReferences(c.params, known);
    if (failedRef !== undefined || resolved.unresolved !== undefined) {
      progress.results[c.key] = notRun(c.key, 'BATCH_REFERENCE_FAILED', `not run: it references ${failedRef !== undefined ? `command '${failedRef}', which failed or did not run` : `${resolved.unresolved}, which is not in that command's result`}`);
      if (halt) progress.halted = true;
      continue;
    }
    toSend.push({ ...c, params: resolved.params });
  }
  return toSend;
}

/** Record the outcomes of a chunk's commands; a failure halts the rest when `halt`. */
export function recordChunk(sent: readonly KeyedCommand[], chunkResults: Record<string, BatchItemResult>, halt: boolean, progress: BatchProgress): void {
  for (const c of sent) {
    const r = chunkResults[c.key] as BatchItemResult;
    progress.results[c.key] = r;
    if (r.ok) progress.succeeded.set(c.key, r.result);
    else if (halt) progress.halted = true;
  }
}

/** Per-command outcome of one batch answer. A key in neither `result` nor `result_error` did not run (halt). */
export function readBatchResult(result: unknown, keys: string[], halt: boolean): Record<string, BatchItemResult> {
  const r = (result ?? {}) as Record<string, unknown>;
  const out: Record<string, BatchItemResult> = {};
  for (const key of keys) {
    const err = pick(r.result_error, key);
    if (err.has) {
      const e = err.value as { error?: unknown; error_description?: unknown } | string;
      out[key] = {
        key,
        ok: false,
        error:
          typeof e === 'string'
            ? { error: e, error_description: '' }
            : { error: String(e?.error ?? ''), error_description: String(e?.error_description ?? '') },
      };
      continue;
    }
    const res = pick(r.result, key);
    if (res.has) {
      const item: BatchItemResult = { key, ok: true, result: res.value };
      const total = toNumber(pick(r.result_total, key).value);
      const next = toNumber(pick(r.result_next, key).value);
      if (total !== undefined) item.total = total;
      if (next !== undefined) item.next = next;
      out[key] = item;
      continue;
    }
    out[key] = notRun(key, halt ? 'BATCH_HALTED' : 'BATCH_NO_RESULT', halt ? 'not run: an earlier command failed and halt was set' : 'the portal returned neither a result nor an error for this command');
  }
  return out;
}

/** The outcome of a command that was not sent. */
export function notRun(key: string, error: string, description: string): BatchItemResult {
  return { key, ok: false, error: { error, error_description: description } };
}

/** `result_time[key]` of a batch answer (for the per-method execution budget). */
export function commandTime(result: unknown, key: string): Record<string, unknown> | undefined {
  const t = pick((result as Record<string, unknown> | undefined)?.result_time, key).value;
  return t && typeof t === 'object' ? (t as Record<string, unknown>) : undefined;
}
