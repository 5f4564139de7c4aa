/**
 * `rollout:` of one rule: a sticky share of records (`percent`) and/or a
 * selector over the run's names (`where`, json-logic read like the
 * condition). A share is of records, so a rule whose runs are about no record
 * (a schedule or manual rule without foreach, a webhook, an event that names
 * no record) cannot have one: ROLLOUT_NO_RECORD.
 */
import { compileCondition } from '../logic/index.js';
import type { RawRule } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import type { Scope } from './scope.js';
import type { ForeachSpec, RolloutSpec, TriggerSpec } from './types.js';

/** What the runs of a rule are about, in words, when they are about no record. */
function noRecord(trigger: TriggerSpec): string {
  switch (trigger.kind) {
    case 'event':
      return `${trigger.event} names no record`;
    case 'schedule':
      return 'a schedule without foreach runs once per tick, about no record';
    case 'manual':
      return 'a manual rule without foreach runs once, about no record';
    case 'webhook':
      return 'a webhook request is about no record';
  }
}

/** Compile `rollout:` with the names the condition sees (`scope`). */
export function compileRollout(raw: RawRule, trigger: TriggerSpec, foreach: ForeachSpec | undefined, scope: Scope, check: RuleChecker): RolloutSpec | undefined {
  if (raw.rollout === undefined) return undefined;
  const about = trigger.kind === 'event' ? trigger.entity : foreach && trigger.kind !== 'webhook' ? (foreach.entity ?? foreach.method) : undefined;
  if (!about) {
    check.report(
      'ROLLOUT_NO_RECORD',
      '',
      `rollout: picks a share of records, and this rule's runs are about none (${noRecord(trigger)})`,
      'use rollout: on a rule on a record event (ONCRMDEALUPDATE, ONCRMLEADADD...) or with foreach, or remove it',
      { key: 'rollout' },
    );
    return undefined;
  }
  const out: RolloutSpec = {};
  if (raw.rollout.percent !== undefined) out.percent = raw.rollout.percent;
  if (raw.rollout.where !== undefined) {
    const node = check.logic(raw.rollout.where, '/rollout/where', scope, 'rollout.where');
    if (node) out.where = compileCondition(raw.rollout.where, node);
  }
  return out;
}
