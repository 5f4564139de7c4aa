/** The official method catalog (catalog/methods.json): tells a real-but-unimplemented method from an unknown one. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../engine/paths.js';

export interface CatalogMethod {
  method: string;
  /** One scope, or a comma list of which any one is enough. */
  scope: string;
  kind: 'read' | 'write' | null;
  deprecated: boolean;
  api: string;
  page: string;
}

let cache: Map<string, CatalogMethod> | undefined;

/** Catalog entries by lowercase method name. */
export function catalog(): Map<string, CatalogMethod> {
  if (!cache) {
    const raw = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: CatalogMethod[] };
    cache = new Map(raw.methods.map((m) => [m.method.toLowerCase(), m]));
  }
  return cache;
}

/** Every scope code the catalog names, plus `basic`: what "all scopes" grants. */
export function allScopes(): string[] {
  const set = new Set<string>(['basic']);
  for (const m of catalog().values()) for (const s of m.scope.split(',')) if (s.trim()) set.add(s.trim());
  return [...set].sort();
}
