/**
 * Read or write, per method, from the derived catalog (catalog/methods.json,
 * 1,666 methods from the official docs). A method the catalog does not know,
 * or marks `kind: null`, counts as a write: dry-run's guard must fail closed.
 * Names are looked up case-insensitively (the portal treats them so).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../paths.js';
import type { MethodKind } from './types.js';

interface CatalogEntry {
  method: string;
  kind: 'read' | 'write' | null;
}

let kinds: Map<string, 'read' | 'write' | null> | undefined;

function catalog(): Map<string, 'read' | 'write' | null> {
  if (!kinds) {
    const raw = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: CatalogEntry[] };
    kinds = new Map(raw.methods.map((m) => [m.method.toLowerCase(), m.kind]));
  }
  return kinds;
}

/** `'read'` only when the catalog says so; unknown or unclassified methods are `'write'`. */
export function methodKind(method: string): MethodKind {
  return catalog().get(method.trim().toLowerCase()) === 'read' ? 'read' : 'write';
}

/** Whether the catalog knows the method at all. */
export function isKnownMethod(method: string): boolean {
  return catalog().has(method.trim().toLowerCase());
}

/**
 * Verbs whose repetition leaves the portal as one call would: setting fixed
 * values (`update`, `set`), removing (`delete`, `unset`, `unbind`), binding a
 * handler that is already bound, clearing offline events already cleared.
 */
const IDEMPOTENT_VERBS = new Set(['update', 'set', 'unset', 'delete', 'bind', 'unbind', 'clear']);

/**
 * Whether a write may be re-sent blindly when its first attempt's outcome is
 * unknown. Reads always may. Writes may only when the method's last segment is
 * one of IDEMPOTENT_VERBS; every other write (`.add`, `send`, `start`,
 * `complete`, `move`, anything unknown) creates something or has a side effect
 * that could happen twice, so the client throws OutcomeUnknownError instead.
 */
export function isIdempotentMethod(method: string): boolean {
  if (methodKind(method) === 'read') return true;
  const verb = method.trim().toLowerCase().split('.').pop() ?? '';
  return IDEMPOTENT_VERBS.has(verb);
}

/**
 * Methods that create a record (`*.add`). They are sent without the engine's
 * `auth_connector` on purpose: a record the engine creates (a lead from a web
 * form) must come back to the other rules as an *ADD event, like one a person
 * created. Updates carry the connector, so a rule never hears its own update.
 */
export function isCreateMethod(method: string): boolean {
  return /\.add$/i.test(method.trim());
}
