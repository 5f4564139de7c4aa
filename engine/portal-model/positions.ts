/**
 * Where a rule writes something of the portal's: a field code (a key of
 * `changed:`, `fields:`, `filter:` and `order:`, an item of `select:`, the
 * path of a json-logic `var`), a field's value (`changed:` from/to, `fields:`
 * and `filter:` values, a literal compared with a field in a condition) and a
 * user ID (notify, task and todo users, round_robin's list). `walkRule` visits
 * each with the record type it is about; a visitor may return a replacement
 * (the name resolution writes IDs for names this way).
 */
import type { EntityRef } from './model.js';

/** A field code at a mapping key (`key` as written) or in a string (a `select:` item, a `var` path). */
export interface FieldSite {
  /** JSON pointer of the mapping whose key it is, or of the string. */
  pointer: string;
  /** For a mapping key: the key as written (with an operator prefix in filters). */
  key?: string;
  /** The field as written, without operator prefix or record name. */
  code: string;
  entity: EntityRef;
}

/** A value written for a field (or compared with one). `field` is the resolved code; undefined when the field is not known here. */
export interface ValueSite {
  pointer: string;
  entity?: EntityRef;
  field?: string;
  value: unknown;
}

/** A user ID position. */
export interface UserSite {
  pointer: string;
  value: unknown;
}

/** What a walk calls; a return value other than undefined replaces what was written. */
export interface Visitor {
  field(site: FieldSite): string | undefined;
  value(site: ValueSite): unknown;
  user(site: UserSite): unknown;
}

/** The record type of an event (ONCRMDEALUPDATE → deal) and whether the engine loads its record. */
export type EventEntityFn = (event: string) => { entity?: string; entityTypeId?: number; autoload: boolean };

type Obj = Record<string, unknown>;

const FILTER_PREFIX = /^(!@|>=|<=|!=%|!%=|!=|=%|%=|!%|@|%|>|<|!|=)?(.*)$/s;
const COMPARISONS = new Set(['==', '===', '!=', '!==']);
const USER_KEYS: Record<string, string> = { notify: 'user', task: 'responsible', todo: 'responsible' };

/** A name reference: `{ name: X }` or `{ pipeline: P, name: X }` where an ID is expected. */
export function isNameRef(v: unknown): v is { name: string; pipeline?: string | number } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const o = v as Obj;
  return typeof o.name === 'string' && keys.every((k) => k === 'name' || (k === 'pipeline' && (typeof o.pipeline === 'string' || typeof o.pipeline === 'number')));
}

/** A field written by its label: `label:Region` (after any filter operator). */
export const LABEL_PREFIX = 'label:';

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function ptr(base: string, ...segs: Array<string | number>): string {
  return base + segs.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function entityOf(o: Obj): EntityRef | undefined {
  if (typeof o.entity !== 'string') return undefined;
  return typeof o.entity_type_id === 'number' ? { entity: o.entity, entityTypeId: o.entity_type_id } : { entity: o.entity };
}

/** Rebuild `map` in place with the keys the visitor renamed, in their order. */
function renameKeys(map: Obj, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  const entries = Object.entries(map);
  for (const k of Object.keys(map)) delete map[k];
  for (const [k, v] of entries) Object.defineProperty(map, renames.get(k) ?? k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Visit the keys of a `fields:`/`changed:`/`filter:`/`order:` mapping; `values` also visits each value with its field. */
function mapping(map: unknown, pointer: string, entity: EntityRef, visitor: Visitor, values: 'value' | 'change' | 'none', prefixes: boolean): void {
  if (!isObj(map)) return;
  const renames = new Map<string, string>();
  for (const key of Object.keys(map)) {
    const m = prefixes ? FILTER_PREFIX.exec(key) : null;
    const prefix = m?.[1] ?? '';
    const code = m ? (m[2] ?? '') : key;
    if (!/^[A-Za-z_]/.test(code) || (prefixes && code === 'logic')) continue;
    const replaced = visitor.field({ pointer, key, code, entity });
    const field = replaced ?? code;
    if (replaced !== undefined && replaced !== code) renames.set(key, prefix + replaced);
    const v = map[key];
    const at = ptr(pointer, key);
    if (values === 'value') visitValues(map, key, at, entity, field, visitor);
    else if (values === 'change' && isObj(v)) for (const side of ['from', 'to']) if (side in v) visitValues(v, side, ptr(at, side), entity, field, visitor);
  }
  renameKeys(map, renames);
}

/** A value, or each value of a list, of `holder[key]`. */
function visitValues(holder: Obj | unknown[], key: string | number, pointer: string, entity: EntityRef | undefined, field: string | undefined, visitor: Visitor): void {
  const v = (holder as Obj)[key as string];
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const r = visitor.value({ pointer: ptr(pointer, i), value: x, ...(entity ? { entity } : {}), ...(field !== undefined ? { field } : {}) });
      if (r !== undefined) v[i] = r;
    });
    return;
  }
  const r = visitor.value({ pointer, value: v, ...(entity ? { entity } : {}), ...(field !== undefined ? { field } : {}) });
  if (r !== undefined) (holder as Obj)[key as string] = r;
}

/** A list query (`foreach:`, a `load:`): filter keys and values, select items, order keys. */
function read(r: unknown, pointer: string, visitor: Visitor): void {
  if (!isObj(r)) return;
  const entity = entityOf(r);
  if (!entity) return;
  mapping(r.filter, ptr(pointer, 'filter'), entity, visitor, 'value', true);
  mapping(r.order, ptr(pointer, 'order'), entity, visitor, 'none', false);
  if (Array.isArray(r.select)) {
    r.select.forEach((s, i) => {
      if (typeof s !== 'string' || !/^[A-Za-z_]/.test(s) || s.includes('*')) return;
      const replaced = visitor.field({ pointer: ptr(pointer, 'select', i), code: s, entity });
      if (replaced !== undefined) (r.select as unknown[])[i] = replaced;
    });
  }
}

function action(item: unknown, pointer: string, visitor: Visitor, logic: (expr: unknown, at: string) => void): void {
  if (!isObj(item)) return;
  if (item.when !== undefined) logic(item.when, ptr(pointer, 'when'));
  for (const [kind, opts] of Object.entries(item)) {
    if (!isObj(opts)) continue;
    const at = ptr(pointer, kind);
    if (kind === 'update' || kind === 'create') {
      const entity = entityOf(opts);
      if (entity) mapping(opts.fields, ptr(at, 'fields'), entity, visitor, 'value', false);
    }
    const userKey = USER_KEYS[kind];
    if (userKey && userKey in opts) {
      const r = visitor.user({ pointer: ptr(at, userKey), value: opts[userKey] });
      if (r !== undefined) opts[userKey] = r;
    }
    if (kind === 'round_robin' && Array.isArray(opts.users)) {
      opts.users.forEach((u, i) => {
        const r = visitor.user({ pointer: ptr(at, 'users', i), value: u });
        if (r !== undefined) (opts.users as unknown[])[i] = r;
      });
    }
    if (kind === 'wait_for' && Array.isArray(opts.on_timeout)) opts.on_timeout.forEach((sub, j) => action(sub, ptr(at, 'on_timeout', j), visitor, logic));
  }
}

/** Visit every portal-specific position of a schema-valid rule document (changing it where the visitor replaces). */
export function walkRule(raw: Obj, eventEntity: EventEntityFn, visitor: Visitor): void {
  const records = new Map<string, EntityRef>();
  const trigger = isObj(raw.trigger) ? raw.trigger : {};
  if (typeof trigger.event === 'string') {
    const e = eventEntity(trigger.event);
    if (e.entity) {
      const ref: EntityRef = e.entityTypeId !== undefined ? { entity: e.entity, entityTypeId: e.entityTypeId } : { entity: e.entity };
      if (e.autoload) records.set(e.entity, ref);
      mapping(trigger.changed, '/trigger/changed', ref, visitor, 'change', false);
    }
  }
  if (isObj(raw.foreach)) {
    read(raw.foreach, '/foreach', visitor);
    const entity = entityOf(raw.foreach);
    if (entity) records.set(typeof raw.foreach.as === 'string' ? raw.foreach.as : entity.entity, entity);
  }
  if (isObj(raw.load)) {
    for (const [name, l] of Object.entries(raw.load)) {
      read(l, ptr('/load', name), visitor);
      const entity = isObj(l) && l.id !== undefined ? entityOf(l) : undefined;
      if (entity) records.set(name, entity);
    }
  }
  const logic = (expr: unknown, at: string): void => walkLogic(expr, at, records, visitor, 0);
  if (isObj(raw.let)) for (const [name, e] of Object.entries(raw.let)) logic(e, ptr('/let', name));
  if (raw.condition !== undefined) logic(raw.condition, '/condition');
  if (Array.isArray(raw.actions)) raw.actions.forEach((a, i) => action(a, ptr('/actions', i), visitor, logic));
}

/** A `var` operand naming a field of a known record: the record's type and the field. */
function varField(node: unknown, records: Map<string, EntityRef>): { entity: EntityRef; code: string } | undefined {
  if (!isObj(node) || Object.keys(node).length !== 1 || !('var' in node)) return undefined;
  const path = Array.isArray(node.var) ? node.var[0] : node.var;
  if (typeof path !== 'string') return undefined;
  const [root, code] = path.split('.');
  const entity = root !== undefined ? records.get(root) : undefined;
  return entity && code ? { entity, code } : undefined;
}

function walkLogic(node: unknown, pointer: string, records: Map<string, EntityRef>, visitor: Visitor, depth: number): void {
  if (depth > 64) return;
  if (Array.isArray(node)) {
    node.forEach((x, i) => walkLogic(x, ptr(pointer, i), records, visitor, depth + 1));
    return;
  }
  if (!isObj(node)) return;
  const keys = Object.keys(node);
  if (keys.length !== 1) return;
  const op = keys[0]!;
  const args = node[op];
  if (op === 'var') {
    const path = Array.isArray(args) ? args[0] : args;
    if (typeof path !== 'string') return;
    const parts = path.split('.');
    const entity = records.get(parts[0]!);
    if (!entity || parts[1] === undefined || /^\d/.test(parts[1])) return;
    const at = Array.isArray(args) ? ptr(pointer, 'var', 0) : ptr(pointer, 'var');
    const replaced = visitor.field({ pointer: at, code: parts[1], entity });
    if (replaced !== undefined && replaced !== parts[1]) {
      const next = [parts[0], replaced, ...parts.slice(2)].join('.');
      if (Array.isArray(args)) args[0] = next;
      else node.var = next;
    }
    return;
  }
  if (!Array.isArray(args)) {
    walkLogic(args, ptr(pointer, op), records, visitor, depth + 1);
    return;
  }
  const at = ptr(pointer, op);
  if ((COMPARISONS.has(op) || op === 'in_list' || op === 'in') && args.length === 2) {
    const [a, b] = args;
    const fa = varField(a, records);
    const fb = varField(b, records);
    const known = fa ?? fb;
    const literalAt = fa ? 1 : fb ? 0 : -1;
    // The literal side (a value, or the list of in_list / in) is a value of the field on the other side.
    for (const i of [0, 1]) {
      const x = args[i];
      if (i === literalAt || (!known && (isNameRef(x) || (Array.isArray(x) && x.some(isNameRef))))) {
        if (Array.isArray(x) && (op === 'in_list' || op === 'in')) visitValues(args, i, ptr(at, i), known?.entity, known?.code, visitor);
        else if (!isObj(x) || isNameRef(x)) visitValues(args, i, ptr(at, i), known?.entity, known?.code, visitor);
        else walkLogic(x, ptr(at, i), records, visitor, depth + 1);
      } else walkLogic(x, ptr(at, i), records, visitor, depth + 1);
    }
    return;
  }
  args.forEach((x, i) => walkLogic(x, ptr(at, i), records, visitor, depth + 1));
}
