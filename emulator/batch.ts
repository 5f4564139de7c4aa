/**
 * `batch` (API-FACTS §3): up to 50 commands in query-string form, run in
 * order, with `$result[cmd][field]...` references to earlier results, `halt`,
 * and the five result containers (`[]` when empty, as PHP encodes them).
 */
import type { B24BatchResult, B24ErrorBody, B24Time, PhpMap } from '../engine/wire/index.js';
import type { Outcome } from './dispatch.js';
import { flag, param } from './methods/params.js';
import { parsePhpQuery, stringifyPhpQuery } from './php-query.js';
import { PortalError, type Params } from './types.js';

export const MAX_BATCH = 50;

interface Containers {
  result: Map<string, unknown>;
  result_error: Map<string, B24ErrorBody>;
  result_total: Map<string, number>;
  result_next: Map<string, number>;
  result_time: Map<string, B24Time>;
}

/** PHP's json_encode of an array: a list when its keys are 0..n-1, `[]` when empty, else an object. */
export function phpMap<T>(m: Map<string, T>): PhpMap<T> {
  const keys = [...m.keys()];
  if (keys.length === 0) return [];
  if (keys.every((k, i) => k === String(i))) return [...m.values()];
  return Object.fromEntries(m);
}

const REF = /\$(result_error|result_total|result_next|result_time|result)((?:\[[^\]]*\])+)/g;

function lookup(c: Containers, container: string, path: string): { found: boolean; value: unknown } {
  const segs = [...path.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string);
  let cur: unknown = c[container as keyof Containers].get(segs[0] ?? '');
  if (cur === undefined) return { found: false, value: undefined };
  for (const s of segs.slice(1)) {
    if (cur === null || typeof cur !== 'object') return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[s];
    if (cur === undefined) return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

function scalar(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Replace `$result[...]` references in a command's query string. A value that is only a reference to an array expands into `key[i]=...`. */
export function substitute(qs: string, c: Containers): string {
  return qs
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const rawKey = pair.slice(0, eq);
      const value = safeDecode(pair.slice(eq + 1));
      if (!value.includes('$result')) return pair;
      const whole = new RegExp(`^${REF.source}$`).exec(value);
      if (whole) {
        const hit = lookup(c, whole[1] as string, whole[2] as string);
        if (!hit.found) return pair;
        if (hit.value !== null && typeof hit.value === 'object') return stringifyPhpQuery({ [safeDecode(rawKey)]: hit.value });
        return `${rawKey}=${encodeURIComponent(scalar(hit.value))}`;
      }
      const replaced = value.replace(REF, (m, container: string, path: string) => {
        const hit = lookup(c, container, path);
        return hit.found ? scalar(hit.value) : m;
      });
      return `${rawKey}=${encodeURIComponent(replaced)}`;
    })
    .join('&');
}

export type SubCall = (method: string, params: Params, key: string) => Promise<Outcome>;

/** Run a batch; returns the `result` object and the summed cost of its commands. */
export async function runBatch(params: Params, call: SubCall): Promise<{ result: B24BatchResult; cost: number }> {
  const cmd = param(params, 'cmd');
  const entries: Array<[string, unknown]> = Array.isArray(cmd) ? cmd.map((v, i) => [String(i), v]) : cmd && typeof cmd === 'object' ? Object.entries(cmd) : [];
  if (entries.length > MAX_BATCH) throw new PortalError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
  const halt = flag(param(params, 'halt'));
  const c: Containers = { result: new Map(), result_error: new Map(), result_total: new Map(), result_next: new Map(), result_time: new Map() };
  let cost = 0;
  for (const [key, raw] of entries) {
    const text = String(raw ?? '');
    const q = text.indexOf('?');
    const method = (q < 0 ? text : text.slice(0, q)).trim();
    const qs = q < 0 ? '' : substitute(text.slice(q + 1), c);
    const sub = parsePhpQuery(qs);
    delete sub.auth;
    const out = await call(method, sub, key);
    cost += out.cost;
    if (out.ok) {
      c.result.set(key, out.result);
      if (out.total !== undefined) c.result_total.set(key, out.total);
      if (out.next !== undefined) c.result_next.set(key, out.next);
      // batch.md: a command's time has no operating/operating_reset_at (only the outer call's would).
      const { operating: _o, operating_reset_at: _r, ...time } = out.time;
      c.result_time.set(key, time);
    } else {
      c.result_error.set(key, { error: out.error, error_description: out.error_description });
      if (halt) break;
    }
  }
  return {
    result: {
      result: phpMap(c.result),
      result_error: phpMap(c.result_error),
      result_total: phpMap(c.result_total),
      result_next: phpMap(c.result_next),
      result_time: phpMap(c.result_time),
    },
    cost,
  };
}
