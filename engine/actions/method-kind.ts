/** Whether a REST method reads or writes, from catalog/methods.json (kind null = treat as write). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../paths.js';

let kinds: Map<string, 'read' | 'write' | null> | undefined;

function load(): Map<string, 'read' | 'write' | null> {
  if (!kinds) {
    const doc = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: Array<{ method: string; kind: 'read' | 'write' | null }> };
    kinds = new Map(doc.methods.map((m) => [m.method.toLowerCase(), m.kind]));
  }
  return kinds;
}

/** 'read' only when the catalog says so or the name is a plain getter; everything else is a write. */
export function methodKind(method: string): 'read' | 'write' {
  const m = method.toLowerCase();
  const k = load().get(m);
  if (k === 'read') return 'read';
  if (k === 'write') return 'write';
  return /\.(get|list|fields|current|instances)$/.test(m) ? 'read' : 'write';
}

/** Writes that set fixed values: sending them twice leaves the same state. */
export function isIdempotentWrite(method: string): boolean {
  return /\.(update|set|setfields|bind|unbind|delete|complete|renew)$/i.test(method);
}
