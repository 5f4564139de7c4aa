/**
 * The `actions:` of one rule: each action's kind, `when:` condition and
 * templated options, with the names an action's `as:` adds for the actions after it.
 * The `on_timeout` actions of a `wait_for` follow the main ones in the compiled
 * list (their index is their place there, part of their effect keys), each
 * marked with the wait_for it belongs to.
 */
import { compileCondition } from '../logic/index.js';
import { actionKind } from './action-kind.js';
import { compileDelay, compileWaitFor } from './compile-time.js';
import { eventEntity } from './event-entity.js';
import { joinPointer } from './json-pointer.js';
import { requireEnvValue } from './require-env.js';
import type { RawDelay, RawRule, RawWaitFor } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import { Scope } from './scope.js';
import type { ActionSpec, Condition } from './types.js';

/** Compile `actions:` in a scope of their own (what the rule read and derived, then each `as:`). */
export function compileActions(raw: RawRule, scope: Scope, check: RuleChecker): ActionSpec[] {
  const actions: ActionSpec[] = [];
  const branches: ActionSpec[] = [];
  const actionScope = new Scope(scope);
  const entity = recordEntity(raw);
  raw.actions.forEach((item, index) => {
    const ptr = joinPointer('/actions', index);
    const spec = compileAction(item, index, ptr, actionScope, check);
    if (!spec) return;
    if (spec.kind === 'wait_for') {
      const opts = item.wait_for as RawWaitFor;
      const wait = compileWaitFor(opts, joinPointer(ptr, 'wait_for'), entity, actionScope, `actions[${index}] (wait_for)`, check);
      // The on_timeout actions see the names before the wait_for, in a scope of their own.
      const branchScope = new Scope(actionScope);
      const start = raw.actions.length + branches.length;
      (opts.on_timeout ?? []).forEach((sub, j) => {
        const label = `actions[${index}].wait_for.on_timeout[${j}]`;
        const subPtr = joinPointer(ptr, 'wait_for', 'on_timeout', j);
        const sk = actionKind(sub);
        if (sk === 'wait_for') {
          check.report('WAIT_FOR_NESTED', subPtr, 'a wait_for inside on_timeout is not supported', 'end the on_timeout actions with what to do; start another rule for a second wait');
          return;
        }
        const subSpec = compileAction(sub, raw.actions.length + branches.length, subPtr, branchScope, check, label);
        if (subSpec) branches.push({ ...subSpec, branchOf: index });
      });
      if (wait) spec.waitFor = { ...wait, timeoutStart: start, timeoutEnd: raw.actions.length + branches.length };
    }
    actions.push(spec);
  });
  return [...actions, ...branches];
}

/** The entity of the record a run of this rule is about (a wait_for waits for an event about it). */
function recordEntity(raw: RawRule): string | undefined {
  if (raw.trigger.event !== undefined) {
    const { entity, autoload } = eventEntity(raw.trigger.event);
    return entity && autoload ? entity : undefined;
  }
  return raw.foreach?.entity && raw.foreach.entity !== 'user' ? raw.foreach.entity : undefined;
}

/** Actions that take `entity: item` and need its smart-process type. */
const ITEM_ACTIONS: ReadonlySet<string> = new Set(['update', 'create', 'comment', 'todo', 'workflow']);

/** One action at `ptr` (`label` names it in messages: `actions[3]`), in `actionScope` (its `as:` is added there). */
function compileAction(item: Record<string, unknown>, index: number, ptr: string, actionScope: Scope, check: RuleChecker, label = `actions[${index}]`): ActionSpec | undefined {
  const kind = actionKind(item);
  if (!kind) return undefined;
  const opts = (item[kind] ?? {}) as Record<string, unknown>;
  const where = `${label} (${kind})`;
  if (kind === 'call' && typeof opts.method === 'string') check.checkMethod(opts.method, joinPointer(ptr, kind, 'method'), false, where);
  if (ITEM_ACTIONS.has(kind) && opts.entity === 'item' && opts.entity_type_id === undefined) {
    check.report('SCHEMA', joinPointer(ptr, kind), `${kind} of smart-process items needs entity_type_id`, 'e.g. entity_type_id: 128 (invoices: 31)');
  }
  let when: Condition | undefined;
  if (item.when !== undefined) {
    const node = check.logic(item.when, joinPointer(ptr, 'when'), actionScope, `${where} when:`);
    if (node) when = compileCondition(item.when, node);
  }
  const delay = kind === 'delay' ? compileDelay(item.delay as RawDelay, joinPointer(ptr, kind), actionScope, where, check) : undefined;
  // A delay's one template (until:) is compiled by compileDelay; its refs still order it after the calls it reads.
  // A wait_for has none: its parts are compiled by compileWaitFor.
  const config =
    kind === 'wait_for' ? { render: () => ({}), refs: [] } : delay ? { render: () => ({}), refs: delay.until?.refs ?? [] } : requireEnvValue(check.templated(opts, joinPointer(ptr, kind), actionScope, where), check.ruleId);
  const pos = check.doc.locate(ptr);
  const spec: ActionSpec = { kind, index, config, raw: typeof item.delay === 'object' || kind !== 'delay' ? opts : { for: item.delay }, location: { file: check.ctx.file, line: pos.line, col: pos.col } };
  if (when) spec.when = when;
  if (delay) spec.delay = delay;
  if (typeof opts.as === 'string') {
    spec.as = opts.as;
    check.claim(actionScope, opts.as, `${label}.as`, joinPointer(ptr, kind), 'as');
  }
  return spec;
}
