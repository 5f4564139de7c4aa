/** The kind of a raw rule action and whether it writes outside the engine. */
import { isReadMethod, type CatalogIndex } from './catalog.js';

const ACTION_KINDS = ['update', 'create', 'comment', 'task', 'todo', 'notify', 'workflow', 'call', 'http', 'round_robin', 'stop', 'delay', 'wait_for'] as const;

/** One of the action keys a rule's `actions:` item may hold. */
export type ActionKind = (typeof ACTION_KINDS)[number];

/** The action's kind: its one key besides `when`. */
export function actionKind(item: Record<string, unknown>): ActionKind | undefined {
  return ACTION_KINDS.find((k) => Object.hasOwn(item, k));
}

/** Whether an action changes something outside the engine (REST writes, notifications, non-GET http). */
export function isWriteAction(item: Record<string, unknown>, catalog: CatalogIndex): boolean {
  const kind = actionKind(item);
  if (!kind || kind === 'stop' || kind === 'round_robin' || kind === 'delay') return false;
  const opts = (item[kind] ?? {}) as Record<string, unknown>;
  // A wait writes nothing itself; its on_timeout actions may.
  if (kind === 'wait_for') return Array.isArray(opts.on_timeout) && opts.on_timeout.some((a) => a !== null && typeof a === 'object' && isWriteAction(a as Record<string, unknown>, catalog));
  if (kind === 'call') return typeof opts.method !== 'string' || !isReadMethod(catalog.get(opts.method));
  if (kind === 'http') {
    const method = typeof opts.method === 'string' ? opts.method : opts.body !== undefined ? 'POST' : 'GET';
    return method !== 'GET';
  }
  return true;
}
