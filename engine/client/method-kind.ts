/**
 * The one method classifier: whether a REST method reads or writes, and
 * whether a call may be re-sent when its first attempt's outcome is unknown.
 * The client (retries, dry-run's write guard, `auth_connector`), the actions
 * (recovery mode of a `call`) and dry-run's plans all ask here.
 *
 * The derived catalog (catalog/methods.json, 1,666 methods from the official
 * docs) decides first. 104 of its methods have `kind: null` (user.current,
 * app.info, *.fields, *.list ...); for those, and for methods the catalog does
 * not know, the name decides (see verbKind). An unknown name with no read verb
 * stays a write: dry-run's guard must fail closed. Names are looked up
 * case-insensitively (the portal treats them so).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../paths.js';
import type { MethodKind, Params } from './types.js';

/** Which REST API a method is in (catalog `api`): `/rest/` (v1), `/rest/api/` (v3), or both under one name. */
export type MethodApi = 'v1' | 'v3' | 'v1+v3';

interface CatalogEntry {
  method: string;
  kind: 'read' | 'write' | null;
  api?: MethodApi;
}

let kinds: Map<string, 'read' | 'write' | null> | undefined;
let apis: Map<string, MethodApi> | undefined;

function catalog(): Map<string, 'read' | 'write' | null> {
  if (!kinds) {
    const raw = JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: CatalogEntry[] };
    kinds = new Map(raw.methods.map((m) => [m.method.toLowerCase(), m.kind]));
    apis = new Map(raw.methods.map((m) => [m.method.toLowerCase(), m.api ?? 'v1']));
  }
  return kinds;
}

/** The catalog's API version of a method; undefined when the catalog does not know it. */
export function methodApi(method: string): MethodApi | undefined {
  catalog();
  return apis?.get(normal(method));
}

function normal(method: string): string {
  return method.trim().toLowerCase();
}

function verbOf(method: string): string {
  return normal(method).split('.').pop() ?? '';
}

/**
 * Last segments that only ever name a read: the ones of the catalog's
 * `kind: null` methods whose doc pages describe a read (`*.get`, `*.list`,
 * `*.fields`, catalog.*.getFields, user.current, app.info,
 * task.item.getmanifest, crm.product.property.types,
 * crm.requisite.preset.countries), and the read verbs the docs use elsewhere
 * (`getlist`, `count`, `search`, `instances`).
 */
const READ_VERBS = new Set(['get', 'list', 'getlist', 'fields', 'getfields', 'current', 'info', 'count', 'search', 'instances', 'getmanifest', 'types', 'countries']);

/**
 * Unclassified catalog methods whose last segment names a thing, not an
 * action, and whose doc page describes a read. Listed whole, so an unknown
 * `*.status` or `*.admin` is not taken for a read.
 */
const READ_METHODS = new Set(['server.time', 'scope', 'methods', 'events', 'profile', 'user.admin', 'crm.dealcategory.status']);

/** What the name alone says: `'read'` for READ_METHODS and READ_VERBS, else `'write'`. */
export function verbKind(method: string): MethodKind {
  return READ_METHODS.has(normal(method)) || READ_VERBS.has(verbOf(method)) ? 'read' : 'write';
}

/** The catalog's kind when it has one; otherwise the name decides (verbKind). */
export function methodKind(method: string): MethodKind {
  return catalog().get(normal(method)) ?? verbKind(method);
}

/** Whether the catalog knows the method at all. */
export function isKnownMethod(method: string): boolean {
  return catalog().has(normal(method));
}

/** Read or write for a call, params included: `event.offline.get` clears what it returns unless `clear=0`. */
export function callKind(method: string, params: Params = {}): MethodKind {
  if (normal(method) === 'event.offline.get') {
    const clear = params.clear ?? params.CLEAR;
    return clear === 0 || clear === '0' || clear === false || clear === 'N' ? 'read' : 'write';
  }
  return methodKind(method);
}

/**
 * Write verbs whose repetition leaves the portal as one call would, checked
 * against the docs (the former client and actions lists merged):
 * - `update`, `set`: fixed values; `delete`, `unset` (booking.v1.*.unset),
 *   `unbind`: what is gone stays gone; `bind`: a handler already bound is
 *   refused, not bound twice; `clear` (event.offline.clear): events already
 *   cleared stay cleared.
 * - `complete`, `renew`: they set a status on one record named by its id.
 *   task.checklistitem.complete documents that a repeat changes nothing and
 *   returns true; bizproc.task.complete answers a repeat with
 *   ERROR_TASK_COMPLETED; tasks.task.complete/renew move the task to a status
 *   it already has. No second effect, so re-sending beats an unknown outcome.
 * - `setfields` (in the former actions list) names no documented method: an
 *   unknown write is not re-sent.
 */
const IDEMPOTENT_VERBS = new Set(['update', 'set', 'unset', 'delete', 'bind', 'unbind', 'clear', 'complete', 'renew']);

/**
 * Writes with an idempotent verb that still must not be re-sent:
 * tasks.api.scrum.sprint.complete takes a group, not a sprint, and completes
 * whichever sprint is active then (moving its open tasks to the backlog).
 */
const NOT_IDEMPOTENT = new Set(['tasks.api.scrum.sprint.complete']);

/**
 * Whether a method may be re-sent blindly when its first attempt's outcome is
 * unknown. Reads always may. Writes may only when the last segment is one of
 * IDEMPOTENT_VERBS; every other write (`.add`, `send`, `start`, `move`,
 * anything unknown) creates something or has a side effect that could happen
 * twice, so the client throws OutcomeUnknownError instead.
 */
export function isIdempotentMethod(method: string): boolean {
  if (methodKind(method) === 'read') return true;
  return IDEMPOTENT_VERBS.has(verbOf(method)) && !NOT_IDEMPOTENT.has(normal(method));
}

/** isIdempotentMethod for one call, params included (`event.offline.get` without `clear=0` deletes what it returns). */
export function isIdempotentCall(method: string, params: Params = {}): boolean {
  if (normal(method) === 'event.offline.get') return callKind(method, params) === 'read';
  return isIdempotentMethod(method);
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
