/**
 * The Bitrix24 catalog the project carries (catalog/methods.json,
 * catalog/method-params.json, catalog/events.txt) with everything an agent or
 * a person looks a method up for: its scope, read or write, parameters, API
 * version and doc page. The rule loader keeps its own lean index
 * (engine/rules/catalog.ts) for name checks; this one is read on first use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../paths.js';

/** Where the catalog's doc pages live (`page` is a path on it). */
export const DOCS_BASE_URL = 'https://apidocs.bitrix24.com';

/** One parameter of a method, as the official docs list it. */
export interface MethodParam {
  name: string;
  type: string;
  required: boolean;
}

/** One method of the catalog. */
export interface MethodEntry {
  method: string;
  /** The scope the webhook or app needs; `a,b` means any one of them. */
  scope: string;
  /** `read`, `write`, or null when the docs do not classify it (the client then decides by its verb). */
  kind: 'read' | 'write' | null;
  deprecated: boolean;
  /** `v1` (/rest/), `v3` (/rest/api/) or `v1+v3`. */
  api: string;
  /** The doc page's path under DOCS_BASE_URL. */
  page: string;
}

/** The catalog, indexed. */
export interface Catalog {
  methods: readonly MethodEntry[];
  /** Lower-case method name → entry. */
  byName: ReadonlyMap<string, MethodEntry>;
  /** Lower-case method name → its parameters (absent when the docs list none). */
  params: ReadonlyMap<string, readonly MethodParam[]>;
  /** Event names, upper case, in file order. */
  events: readonly string[];
}

let cached: Catalog | undefined;

/** The package's catalog (read once). */
export function catalog(): Catalog {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: MethodEntry[] };
  const rawParams = JSON.parse(readFileSync(join(CATALOG_DIR, 'method-params.json'), 'utf8')) as { methods: Array<{ method: string; params: MethodParam[] }> };
  const events = readFileSync(join(CATALOG_DIR, 'events.txt'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim().toUpperCase())
    .filter((l) => l !== '' && !l.startsWith('#'));
  cached = {
    methods: raw.methods,
    byName: new Map(raw.methods.map((m) => [m.method.toLowerCase(), m])),
    params: new Map(rawParams.methods.map((m) => [m.method.toLowerCase(), m.params])),
    events,
  };
  return cached;
}

/** The scopes a catalog scope string allows (`user,user_brief,user_basic` → any of three). */
export function scopeAlternatives(scope: string): string[] {
  return scope
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
