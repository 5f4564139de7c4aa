/**
 * Whole-rule checks of what a rule writes: bulk writes (schedule, foreach)
 * need a dedupe key, and an event rule that creates the kind of record that
 * triggers it feeds itself.
 */
import { actionKind, isWriteAction } from './action-kind.js';
import { joinPointer } from './json-pointer.js';
import type { RawRule } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import type { ForeachSpec, TriggerSpec } from './types.js';

/** UNSAFE_BULK_WRITE: a schedule or foreach rule that writes without a dedupe key, at its first write. */
export function checkBulkWrites(raw: RawRule, trigger: TriggerSpec, foreach: ForeachSpec | undefined, check: RuleChecker): void {
  if ((trigger.kind === 'schedule' || raw.foreach) && raw.dedupe === undefined) {
    const firstWrite = raw.actions.findIndex((a) => isWriteAction(a, check.ctx.catalog));
    if (firstWrite >= 0) {
      const kind = actionKind(raw.actions[firstWrite]!);
      const what = trigger.kind === 'schedule' ? 'a schedule rule' : 'a foreach rule';
      check.report(
        'UNSAFE_BULK_WRITE',
        joinPointer('/actions', firstWrite),
        `${what} writes (${kind} at actions[${firstWrite}]) but has no dedupe key: a re-run after a crash or an overlapping tick would repeat the write`,
        foreach ? `add a key naming the row and the state it acts on, e.g. dedupe: "${raw.id}:{{ ${foreach.as}.ID }}"` : `add a key naming what the run acts on, e.g. dedupe: "${raw.id}:{{ schedule.at }}"`,
      );
    }
  }
}

/**
 * LOOP_RISK (warning): records the engine creates come back as *ADD events (creations carry no
 * auth_connector, so other rules can act on them): a rule that creates a record of the kind that
 * triggers it feeds itself.
 */
export function checkLoopRisk(raw: RawRule, trigger: TriggerSpec, check: RuleChecker): void {
  if (trigger.kind === 'event' && /ADD$/i.test(trigger.event) && trigger.entity) {
    const entity = trigger.entity;
    raw.actions.forEach((a, index) => {
      const kind = actionKind(a);
      const opts = (kind ? a[kind] : undefined) as Record<string, unknown> | undefined;
      const creates =
        (kind === 'create' && opts?.entity === entity) ||
        (kind === 'task' && entity === 'task') ||
        (kind === 'call' && typeof opts?.method === 'string' && opts.method.toLowerCase() === (entity === 'task' ? 'tasks.task.add' : `crm.${entity}.add`));
      if (creates) {
        check.report(
          'LOOP_RISK',
          joinPointer('/actions', index),
          `this rule runs on ${trigger.event} and creates a ${entity} (actions[${index}]): each record it creates raises ${trigger.event} again and runs this rule again`,
          'add a condition that is false for the records this rule creates (e.g. on SOURCE_ID or a marker field it sets), or a dedupe key',
          { severity: 'warning' },
        );
      }
    });
  }
}
