/**
 * The `actions:` of one rule: each action's kind, `when:` condition and
 * templated options, with the names an action's `as:` adds for the actions after it.
 */
import { compileCondition } from '../logic/index.js';
import { actionKind } from './action-kind.js';
import { compileDelay } from './compile-time.js';
import { joinPointer } from './json-pointer.js';
import { requireEnvValue } from './require-env.js';
import type { RawDelay, RawRule } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import { Scope } from './scope.js';
import type { ActionSpec, Condition } from './types.js';

/** Compile `actions:` in a scope of their own (what the rule read and derived, then each `as:`). */
export function compileActions(raw: RawRule, scope: Scope, check: RuleChecker): ActionSpec[] {
  const actions: ActionSpec[] = [];
  const actionScope = new Scope(scope);
  raw.actions.forEach((item, index) => {
    const kind = actionKind(item);
    if (!kind) return;
    const ptr = joinPointer('/actions', index);
    const opts = (item[kind] ?? {}) as Record<string, unknown>;
    const where = `actions[${index}] (${kind})`;
    if (kind === 'call' && typeof opts.method === 'string') check.checkMethod(opts.method, joinPointer(ptr, kind, 'method'), false, where);
    if ((kind === 'update' || kind === 'create') && opts.entity === 'item' && opts.entity_type_id === undefined) {
      check.report('SCHEMA', joinPointer(ptr, kind), `${kind} of smart-process items needs entity_type_id`, 'e.g. entity_type_id: 128');
    }
    let when: Condition | undefined;
    if (item.when !== undefined) {
      const node = check.logic(item.when, joinPointer(ptr, 'when'), actionScope, `${where} when:`);
      if (node) when = compileCondition(item.when, node);
    }
    const delay = kind === 'delay' ? compileDelay(item.delay as RawDelay, joinPointer(ptr, kind), actionScope, where, check) : undefined;
    // A delay's one template (until:) is compiled by compileDelay; its refs still order it after the calls it reads.
    const config = delay ? { render: () => ({}), refs: delay.until?.refs ?? [] } : requireEnvValue(check.templated(opts, joinPointer(ptr, kind), actionScope, where), check.ruleId);
    const pos = check.doc.locate(ptr);
    const spec: ActionSpec = { kind, index, config, raw: typeof item.delay === 'object' || kind !== 'delay' ? opts : { for: item.delay }, location: { file: check.ctx.file, line: pos.line, col: pos.col } };
    if (when) spec.when = when;
    if (delay) spec.delay = delay;
    if (typeof opts.as === 'string') {
      spec.as = opts.as;
      check.claim(actionScope, opts.as, `actions[${index}].as`, joinPointer(ptr, kind), 'as');
    }
    actions.push(spec);
  });
  return actions;
}
