/**
 * Looking things up in the catalog: a search over methods and events, one
 * method's facts (scope, read or write, parameters, doc page) and one
 * event's (scope, the record it names). What `rules mcp` answers for
 * catalog_search, method_info and list_events.
 */
import { methodKind } from '../client/index.js';
import { eventEntity } from '../rules/index.js';
import { closest } from '../suggest.js';
import { catalog, DOCS_BASE_URL, scopeAlternatives, type MethodEntry, type MethodParam } from './catalog-data.js';
import { eventScope } from './event-scopes.js';

/** A method as looked up: the catalog's facts and what the engine's client makes of it. */
export interface MethodInfo {
  method: string;
  scope: string;
  /** The scopes any one of which allows the method. */
  scopes: string[];
  /** The docs' classification (null: not classified). */
  kind: 'read' | 'write' | null;
  /** What the client treats it as: a read-only client (dry-run) refuses a `write`. */
  clientKind: 'read' | 'write';
  deprecated: boolean;
  api: string;
  page: string;
  url: string;
  params: MethodParam[];
}

/** An event as looked up. */
export interface EventInfo {
  event: string;
  scope: string | null;
  scopes: string[];
  /** The record the engine loads for it (ONCRMDEALUPDATE → deal), if any. */
  entity: string | null;
  /** Whether a rule on it gets the record loaded as `{{ deal }}` etc. */
  autoload: boolean;
}

function methodInfoOf(m: MethodEntry): MethodInfo {
  return {
    method: m.method,
    scope: m.scope,
    scopes: scopeAlternatives(m.scope),
    kind: m.kind,
    clientKind: methodKind(m.method),
    deprecated: m.deprecated,
    api: m.api,
    page: m.page,
    url: `${DOCS_BASE_URL}${m.page}`,
    params: [...(catalog().params.get(m.method.toLowerCase()) ?? [])],
  };
}

/** One method's facts, or the closest known name. */
export function methodInfo(name: string): { found: true; info: MethodInfo } | { found: false; suggestion?: string } {
  const m = catalog().byName.get(name.trim().toLowerCase());
  if (m) return { found: true, info: methodInfoOf(m) };
  const guess = closest(name.trim(), catalog().methods.map((x) => x.method));
  return guess ? { found: false, suggestion: guess } : { found: false };
}

/** One event's facts, or the closest known name. Per-type names (ONCRMDYNAMICITEMUPDATE_147) are their family's. */
export function eventInfo(name: string): { found: true; info: EventInfo } | { found: false; suggestion?: string } {
  const upper = name.trim().toUpperCase();
  const known = catalog().events.includes(upper.replace(/_\d+$/, ''));
  if (!known) {
    const guess = closest(upper, catalog().events);
    return guess ? { found: false, suggestion: guess } : { found: false };
  }
  const s = eventScope(upper);
  const e = eventEntity(upper.replace(/_\d+$/, ''));
  return { found: true, info: { event: upper, scope: s.scope ?? null, scopes: s.scope ? scopeAlternatives(s.scope) : [], entity: e.entity ?? null, autoload: e.autoload } };
}

/** Events whose name contains `query` (case-insensitive) and, when given, that need `scope`. */
export function listEvents(options: { query?: string; scope?: string } = {}): EventInfo[] {
  const q = options.query?.trim().toUpperCase() ?? '';
  const out: EventInfo[] = [];
  for (const name of catalog().events) {
    if (q && !name.includes(q)) continue;
    const r = eventInfo(name);
    if (!r.found) continue;
    if (options.scope && !r.info.scopes.includes(options.scope)) continue;
    out.push(r.info);
  }
  return out;
}

/** A search hit: a method or an event, best first. */
export type SearchHit = { type: 'method'; method: string; scope: string; kind: 'read' | 'write' | null; api: string; deprecated: boolean; url: string } | { type: 'event'; event: string; scope: string | null };

function score(name: string, words: string[]): number {
  const n = name.toLowerCase();
  let s = 0;
  for (const w of words) {
    if (!n.includes(w)) return -1;
    s += n.split(/[.]/).includes(w) ? 3 : 1;
  }
  if (words.join('.') === n || words.join('') === n) s += 10;
  return s * 1000 - n.length;
}

/**
 * Methods and events whose names hold every word of `query` ("deal update",
 * "timeline comment", "ONCRMDEAL"), best first: whole name segments before
 * parts of them, shorter names before longer ones, a deprecated method after a current one of the same length.
 */
export function searchCatalog(query: string, options: { type?: 'method' | 'event' | 'any'; scope?: string; limit?: number } = {}): SearchHit[] {
  const words = query
    .toLowerCase()
    .split(/[\s,;]+|(?<=\w)\.(?=\w)/)
    .map((w) => w.trim())
    .filter((w) => w !== '');
  const type = options.type ?? 'any';
  const scored: Array<{ s: number; hit: SearchHit }> = [];
  if (type !== 'event') {
    for (const m of catalog().methods) {
      if (options.scope && !scopeAlternatives(m.scope).includes(options.scope)) continue;
      const s = words.length === 0 ? 0 : score(m.method, words);
      if (s < 0) continue;
      scored.push({ s: s - (m.deprecated ? 5 : 0), hit: { type: 'method', method: m.method, scope: m.scope, kind: m.kind, api: m.api, deprecated: m.deprecated, url: `${DOCS_BASE_URL}${m.page}` } });
    }
  }
  if (type !== 'method') {
    for (const e of catalog().events) {
      const scope = eventScope(e).scope ?? null;
      if (options.scope && !(scope ? scopeAlternatives(scope) : []).includes(options.scope)) continue;
      const s = words.length === 0 ? 0 : score(e, [words.join('')].filter((w) => w !== ''));
      if (s < 0) continue;
      scored.push({ s, hit: { type: 'event', event: e, scope } });
    }
  }
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, options.limit ?? 20).map((x) => x.hit);
}
