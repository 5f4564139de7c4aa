/**
 * The Bitrix24 method catalog (catalog/methods.json) and event list
 * (catalog/events.txt) as the loader uses them: method lookup is
 * case-insensitive (Bitrix24 method names are), and a method the catalog does
 * not classify counts as a write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../paths.js';

export interface CatalogMethod {
  method: string;
  kind: 'read' | 'write' | null;
  deprecated?: boolean;
}

/** What `loadRules` checks method and event names against. */
export interface MethodCatalog {
  methods: CatalogMethod[];
  /** Known event names (upper case). When absent, event names are not checked. */
  events?: string[];
}

/** The catalog indexed for lookups. */
export interface CatalogIndex {
  get(method: string): CatalogMethod | undefined;
  names: string[];
  events?: Set<string>;
}

let defaultIndex: CatalogIndex | undefined;

/** Index a catalog. */
export function indexCatalog(catalog: MethodCatalog): CatalogIndex {
  const byName = new Map(catalog.methods.map((m) => [m.method.toLowerCase(), m]));
  const index: CatalogIndex = { get: (m) => byName.get(m.toLowerCase()), names: catalog.methods.map((m) => m.method) };
  if (catalog.events) index.events = new Set(catalog.events.map((e) => e.toUpperCase()));
  return index;
}

/** The package's own catalog (read once). */
export function defaultCatalog(): CatalogIndex {
  if (defaultIndex) return defaultIndex;
  const raw = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: CatalogMethod[] };
  const events = readFileSync(join(CATALOG_DIR, 'events.txt'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  defaultIndex = indexCatalog({ methods: raw.methods, events });
  return defaultIndex;
}

/** Whether a catalog entry is a read (only `kind: read` is; null means unknown, treated as a write). */
export function isReadMethod(m: CatalogMethod | undefined): boolean {
  return m?.kind === 'read';
}
