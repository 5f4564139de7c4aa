/**
 * Stage 3, evaluate: a loaded run against the snapshot of its record (what
 * changed, and whether the trigger holds), then `let`, the dedupe key and the
 * condition. Pure but for the context it is given: the daemon's context keeps
 * snapshots in the store, dry-run's only in memory.
 */
import { entityOfEvent, eventRecordId, runRecordKey, snapshotEntity } from '../facts/index.js';
import { checkCondition, ConditionSkip } from '../logic/index.js';
import { redactValue } from '../redact.js';
import type { Facts } from '../rules/index.js';
import { changedMatches, diffRecord, isRealChange, type Changes } from './changes.js';
import { outsideRollout } from './rollout.js';
import { changesFacts, type Run } from './run.js';
import { shadowSnapshotEntity, shadowSpace } from './shadow.js';
import { firedFor, forTrigger, timerHold, type TimerEvaluation } from './timer-logic.js';

export type Evaluation =
  | { kind: 'act' }
  | { kind: 'skip'; reason: string; /** The event did not hold as the trigger asks (`changed:`, or no real change): the rule did not fire. */ triggerHeld?: false }
  | { kind: 'error'; message: string }
  | TimerEvaluation;

export interface EvalContext {
  /** The record's previous snapshot (this tick's, or the store's); `entity` is the snapshot entity (`deal`, `item:147`). */
  previous(entity: string, id: string): Record<string, unknown> | undefined;
  /** The same for a shadow run of a rule: the newer of the live snapshot and the rule's shadow runs' own (`shadow:<rule id>:<entity>`). */
  previousShadow(ruleId: string, entity: string, id: string): Record<string, unknown> | undefined;
  /** Remember the record as the new snapshot. */
  remember(entity: string, id: string, record: Record<string, unknown>): void;
  dedupeUsed(ruleId: string, key: string): boolean;
  /** Facts added fresh for every evaluation: `now`, `env`. */
  volatile(run: Run): Facts;
  /**
   * Changes already computed for an item and record (several rules on one event
   * see the same change), and whether there was a snapshot to compare with: the
   * first rule stores the record as the new snapshot, so the next one must not
   * take that for the one the change was computed against.
   */
  changeCache: Map<string, { changes: Changes; hadSnapshot: boolean; facts?: Record<string, { from: unknown; to: unknown }>; traced?: unknown }>;
  /**
   * The change set an earlier run of the same item was evaluated with. An item
   * sent back from the DLQ is evaluated again, but the snapshot already holds
   * the record it brought: the change its first run saw still applies.
   */
  earlierChanges?(run: Run): Changes | 'first-sight' | undefined;
}

/** The facts templates see: the run's, plus `now` and `env`. */
export function factsOf(run: Run, ctx: Pick<EvalContext, 'volatile'>): Facts {
  return { ...run.facts, ...ctx.volatile(run) };
}

export function evaluate(run: Run, ctx: EvalContext): Evaluation {
  const { rule, trace } = run;
  const ref = run.record;
  try {
    if (rule.trigger.kind === 'event' && !ref) {
      const named = rule.trigger.entity ?? entityOfEvent(String(run.item.event ?? ''));
      if (named === 'item' && eventRecordId(run.item.payload) !== undefined) return { kind: 'skip', reason: 'the event names no smart-process type (data.FIELDS.ENTITY_TYPE_ID is missing)' };
      if (named) return { kind: 'skip', reason: 'the event names no record ID (data.FIELDS.ID is missing)' };
    }
    if (rule.trigger.kind === 'event' && ref && ref.load !== false) {
      const record = run.facts[ref.entity];
      const event = String(run.item.event ?? '').toUpperCase();
      if (record === null || record === undefined) {
        if (!/DELETE$/.test(event)) return { kind: 'skip', reason: `${ref.entity} ${ref.id} was not found on the portal` };
      } else if (run.resume || firedFor(run)) {
        const held = timerHold(run, record as Record<string, unknown>);
        if (held) return held;
      } else {
        const ck = `${run.item.id}|${runRecordKey(ref)}`;
        const snapEntity = snapshotEntity(ref.entity, ref.entityTypeId);
        // A shadow run takes a live run's change set for the event when there is one; its own never reaches a live run.
        const own = run.shadow ? `${shadowSpace(rule.id)}|${ck}` : ck;
        if (!ctx.changeCache.has(ck) && !ctx.changeCache.has(own) && (run.item.attempts ?? 0) >= 2) {
          // A retry: the change set an earlier attempt stored (a shadow run's may be its own rule's: kept under its own key).
          const earlier = ctx.earlierChanges?.(run);
          // A first sight is the record against nothing: the first run's change set, rebuilt.
          if (earlier === 'first-sight') ctx.changeCache.set(own, { changes: diffRecord(undefined, record as Record<string, unknown>), hadSnapshot: false });
          else if (earlier) ctx.changeCache.set(own, { changes: earlier, hadSnapshot: true });
        }
        let seen = ctx.changeCache.get(ck) ?? ctx.changeCache.get(own);
        if (!seen) {
          const previous = run.shadow ? ctx.previousShadow(rule.id, snapEntity, ref.id) : ctx.previous(snapEntity, ref.id);
          seen = { changes: diffRecord(previous, record as Record<string, unknown>), hadSnapshot: previous !== undefined };
          ctx.changeCache.set(own, seen);
          ctx.remember(run.shadow ? shadowSnapshotEntity(rule.id, snapEntity) : snapEntity, ref.id, record as Record<string, unknown>);
        }
        const { changes, hadSnapshot } = seen;
        run.changes = changes;
        if (!hadSnapshot) run.firstSight = true;
        // One copy for every rule on the event (templates only read it).
        run.facts.changes = seen.facts ??= changesFacts(changes);
        trace.changes = seen.traced ??= redactValue(hadSnapshot ? changes : { note: 'no snapshot yet: every field counts as changed' });
        if (rule.trigger.changed) {
          const m = changedMatches(rule.trigger.changed, changes);
          if (rule.trigger.for) return forTrigger(rule, m, record as Record<string, unknown>, Date.parse(String(ctx.volatile(run).now)));
          if (!m.ok) return { kind: 'skip', reason: `changed: ${m.reason}`, triggerHeld: false };
        } else if (hadSnapshot && /UPDATE$/.test(event) && !isRealChange(changes)) {
          return { kind: 'skip', reason: 'record unchanged since the last snapshot (a repeat, or the engine’s own write)', triggerHeld: false };
        }
      }
    }
    const facts = factsOf(run, ctx);
    const lets: Record<string, unknown> = {};
    for (const l of rule.let) {
      const v = l.expr.evaluate(facts);
      facts[l.name] = v;
      run.facts[l.name] = v;
      lets[l.name] = v;
    }
    if (rule.let.length) trace.let = redactValue(lets);
    if (rule.dedupe) {
      const key = rule.dedupe.render(facts);
      const k = key === undefined || key === null ? '' : String(key);
      if (k !== '') {
        run.dedupeKey = k;
        trace.dedupe = k;
        // A shadow run is stopped by a key its rule used live, and by its own; it stores only its own (7-finish.ts).
        if (ctx.dedupeUsed(rule.id, k) || (run.shadow && ctx.dedupeUsed(shadowSpace(rule.id), k))) return { kind: 'skip', reason: `dedupe: key ${JSON.stringify(k)} was used by an earlier run` };
      }
    }
    // A run woken by its delay checks the condition again only when the delay says `recheck`.
    if (rule.condition && (!run.resume || run.resume.recheck)) {
      // The fast path: why it is false is worked out only when the skip's reason or the trace is read.
      const c = checkCondition(rule.condition, facts);
      trace.condition = c;
      if (!c.value) return new ConditionSkip(c);
    }
    // Only a run's start decides: a run woken from a delay or a wait was inside its rollout.
    if (rule.rollout && !run.resume) {
      const outside = outsideRollout(run, facts);
      if (outside) return { kind: 'skip', reason: outside };
    }
    return { kind: 'act' };
  } catch (err) {
    return { kind: 'error', message: `evaluating the rule: ${(err as Error).message}` };
  }
}
