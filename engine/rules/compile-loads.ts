/**
 * What a rule reads and derives before it decides: `foreach` (the rows a
 * schedule or manual rule runs once for), `load` (records, lists, read
 * methods; the event's own record first) and `let` (json-logic values). Each
 * adds its names to the scope, in order, so a later part may use an earlier one.
 */
import { compileExpression } from '../logic/index.js';
import { compileTemplate } from '../template/index.js';
import { joinPointer } from './json-pointer.js';
import { DEFAULTS } from './limits.js';
import type { RawRead, RawRule } from './raw.js';
import { requireEnvValue } from './require-env.js';
import type { RuleChecker } from './rule-checker.js';
import type { Scope } from './scope.js';
import type { EntityName, Expression, ForeachSpec, LoadSpec, TriggerSpec } from './types.js';

/** Compile `foreach:` and add its row's name to `scope`. */
export function compileForeach(f: RawRead, trigger: TriggerSpec, scope: Scope, check: RuleChecker): ForeachSpec {
  if (trigger.kind !== 'schedule' && trigger.kind !== 'manual') {
    check.report('FOREACH_NOT_ALLOWED', '/foreach', `foreach is for schedule and manual rules; this rule has ${trigger.kind === 'event' ? 'an' : 'a'} ${trigger.kind} trigger`, 'drop foreach, or use a load: with a filter to read a list');
  }
  if (f.method !== undefined) check.checkMethod(f.method, '/foreach/method', true, 'foreach');
  const as = f.as ?? f.entity!;
  const foreach: ForeachSpec = { as, maxRecords: f.max_records ?? DEFAULTS.maxRecords };
  fillRead(foreach, f, '/foreach', scope, 'foreach', check);
  check.claim(scope, as, 'the foreach row', '/foreach', f.as !== undefined ? 'as' : 'entity');
  return foreach;
}

/**
 * Compile `load:`, after the record an event trigger loads automatically
 * (`autoload`), and add each load's name to `scope`.
 */
export function compileLoads(raw: RawRule, autoload: { entity: EntityName } | undefined, scope: Scope, check: RuleChecker): LoadSpec[] {
  const load: LoadSpec[] = [];
  // An item's type comes with each event, not with the rule: the run's record (pipeline/trigger.ts) loads it.
  if (autoload && autoload.entity !== 'item') {
    load.push({ name: autoload.entity, kind: 'record', entity: autoload.entity, id: compileTemplate('{{ event.id }}') });
  }
  for (const [name, l] of Object.entries(raw.load ?? {})) {
    const ptr = joinPointer('/load', name);
    if (l.method !== undefined) {
      check.checkMethod(l.method, joinPointer(ptr, 'method'), true, `load '${name}'`);
      load.push({ name, kind: 'method', method: l.method, params: check.templated(l.params ?? {}, joinPointer(ptr, 'params'), scope, `load '${name}'`) });
    } else if (l.id !== undefined) {
      const spec: LoadSpec = { name, kind: 'record', entity: l.entity as EntityName, id: check.template(l.id, joinPointer(ptr, 'id'), scope, `load '${name}'`) };
      if (l.entity_type_id !== undefined) spec.entityTypeId = l.entity_type_id;
      if (l.select) spec.select = l.select;
      load.push(spec);
    } else {
      const spec: Extract<LoadSpec, { kind: 'list' }> = { name, kind: 'list', entity: l.entity as EntityName, limit: l.limit ?? DEFAULTS.listLimit };
      if (l.entity_type_id !== undefined) spec.entityTypeId = l.entity_type_id;
      if (l.filter) spec.filter = check.templated(l.filter, joinPointer(ptr, 'filter'), scope, `load '${name}'`);
      if (l.select) spec.select = l.select;
      if (l.order) spec.order = normalizeOrder(l.order);
      load.push(spec);
    }
    if (l.entity === 'item' && l.entity_type_id === undefined) check.report('SCHEMA', ptr, `load '${name}' reads smart-process items and needs entity_type_id`, 'e.g. entity_type_id: 128');
    if (autoload && name === autoload.entity) {
      check.report('NAME_CONFLICT', '/load', `load '${name}' clashes with the record ${raw.trigger.event} loads automatically as '${name}'`, `use ${name}.FIELD directly, or give this load another name`, { key: name });
    } else check.claim(scope, name, `load '${name}'`, '/load', name);
  }
  return load;
}

/** Compile `let:` and add each name to `scope`; a `let` whose expression is invalid is left out. */
export function compileLets(raw: RawRule, scope: Scope, check: RuleChecker): Array<{ name: string; expr: Expression }> {
  const lets: Array<{ name: string; expr: Expression }> = [];
  for (const [name, expr] of Object.entries(raw.let ?? {})) {
    const node = check.logic(expr, joinPointer('/let', name), scope, `let '${name}'`);
    if (node) lets.push({ name, expr: compileExpression(expr, node) });
    check.claim(scope, name, `let '${name}'`, '/let', name);
  }
  return lets;
}

function fillRead(spec: ForeachSpec, f: RawRead, ptr: string, sc: Scope, where: string, check: RuleChecker): void {
  if (f.entity !== undefined) spec.entity = f.entity as EntityName;
  if (f.entity_type_id !== undefined) spec.entityTypeId = f.entity_type_id;
  if (f.method !== undefined) spec.method = f.method;
  if (f.params !== undefined) spec.params = requireEnvValue(check.templated(f.params, joinPointer(ptr, 'params'), sc, where), check.ruleId);
  if (f.filter !== undefined) spec.filter = requireEnvValue(check.templated(f.filter, joinPointer(ptr, 'filter'), sc, where), check.ruleId);
  if (f.select !== undefined) spec.select = f.select;
  if (f.order !== undefined) spec.order = normalizeOrder(f.order);
  if (f.entity === 'item' && f.entity_type_id === undefined) check.report('SCHEMA', ptr, `${where} reads smart-process items and needs entity_type_id`, 'e.g. entity_type_id: 128');
}

function normalizeOrder(order: Record<string, string>): Record<string, 'ASC' | 'DESC'> {
  const out: Record<string, 'ASC' | 'DESC'> = {};
  for (const [k, v] of Object.entries(order)) Object.defineProperty(out, k, { value: v.toUpperCase() as 'ASC' | 'DESC', enumerable: true, writable: true, configurable: true });
  return out;
}
