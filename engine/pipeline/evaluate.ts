/**
 * Evaluation of a loaded run: change detection against the snapshot, `let`,
 * the dedupe key, the condition. Shared by `tick` and `planItems`.
 */
import { entityOfEvent } from '../facts/entities.js';
import { redactValue } from '../redact.js';
import type { Facts } from '../rules/types.js';
import { changedMatches, diffRecord, isRealChange, type Changes } from './changes.js';
import type { RunWork } from './work.js';

export type EvalOutcome =
  | { kind: 'act' }
  | { kind: 'skip'; reason: string; condition?: { value: boolean; reason?: string }; /** The event did not hold as the trigger asks (`changed:`, or no real change). */ triggerHeld?: false }
  | { kind: 'error'; message: string };

export interface EvalContext {
  /** The record's previous snapshot (this tick's, or the store's). */
  previous(entity: string, id: string): Record<string, unknown> | undefined;
  /** Remember the record as the new snapshot. */
  remember(entity: string, id: string, record: Record<string, unknown>): void;
  dedupeUsed(ruleId: string, key: string): boolean;
  /** Facts added fresh for every evaluation: `now`, `env`. */
  volatile(work: RunWork): Facts;
  /** Changes already computed for this item and record (several rules on one event see the same change). */
  changeCache: Map<string, Changes>;
}

/** Names a template may not see in the journal. */
export function withVolatile(work: RunWork, ctx: EvalContext): Facts {
  return { ...work.facts, ...ctx.volatile(work) };
}

export function evaluateRun(work: RunWork, ctx: EvalContext): EvalOutcome {
  const { rule } = work;
  const trace = work.trace;
  const ref = work.meta.record;
  try {
    if (rule.trigger.kind === 'event' && !ref && (rule.trigger.entity ?? entityOfEvent(String(work.item.event ?? '')))) {
      return { kind: 'skip', reason: 'the event names no record ID (data.FIELDS.ID is missing)' };
    }
    if (rule.trigger.kind === 'event' && ref && ref.load !== false) {
      const record = work.facts[ref.entity];
      const event = String(work.item.event ?? '').toUpperCase();
      if (record === null || record === undefined) {
        if (!/DELETE$/.test(event)) return { kind: 'skip', reason: `${ref.entity} ${ref.id} was not found on the portal` };
      } else {
        const ck = `${work.item.id}|${ref.entity}:${ref.id}`;
        let changes = ctx.changeCache.get(ck);
        const previous = ctx.previous(ref.entity, ref.id);
        if (!changes) {
          changes = diffRecord(previous, record as Record<string, unknown>);
          ctx.changeCache.set(ck, changes);
          ctx.remember(ref.entity, ref.id, record as Record<string, unknown>);
        }
        work.meta.changes = changes;
        work.facts.changes = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, { from: v.from ?? null, to: v.to }]));
        trace.changes = redactValue(previous ? changes : { note: 'no snapshot yet: every field counts as changed' });
        if (rule.trigger.changed) {
          const m = changedMatches(rule.trigger.changed, changes);
          if (!m.ok) return { kind: 'skip', reason: `changed: ${m.reason}`, triggerHeld: false };
        } else if (previous && /UPDATE$/.test(event) && !isRealChange(changes)) {
          return { kind: 'skip', reason: 'record unchanged since the last snapshot (a repeat, or the engine’s own write)', triggerHeld: false };
        }
      }
    }
    const facts = withVolatile(work, ctx);
    const lets: Record<string, unknown> = {};
    for (const l of rule.let) {
      const v = l.expr.evaluate(facts);
      facts[l.name] = v;
      work.facts[l.name] = v;
      lets[l.name] = v;
    }
    if (rule.let.length) trace.let = redactValue(lets);
    if (rule.dedupe) {
      const key = rule.dedupe.render(facts);
      const k = key === undefined || key === null ? '' : String(key);
      if (k !== '') {
        work.dedupeKey = k;
        trace.dedupe = k;
        if (ctx.dedupeUsed(rule.id, k)) return { kind: 'skip', reason: `dedupe: key ${JSON.stringify(k)} was used by an earlier run` };
      }
    }
    if (rule.condition) {
      const c = rule.condition.evaluate(facts);
      trace.condition = c;
      if (!c.value) return { kind: 'skip', reason: `condition false${c.reason ? `: ${c.reason}` : ''}`, condition: c };
    }
    return { kind: 'act' };
  } catch (err) {
    return { kind: 'error', message: `evaluating the rule: ${(err as Error).message}` };
  }
}
