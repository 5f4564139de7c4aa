/**
 * The daemon's side of each stage's outcome: what a failed match, a failed
 * read, an evaluation and failed calls mean for the stored run or item, by the
 * retry policy and the rule's `on_error`. Dry-run never settles: it reports.
 */
import { redact } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import type { ActiveRunRef, EffectRecord } from '../store/index.js';
import type { MatchedItem } from './1-match.js';
import type { Loaded } from './2-load.js';
import { evaluate, factsOf, type EvalContext } from './3-evaluate.js';
import { storeActing, storeWaitingStart } from './5-ledger.js';
import { deadLetter, deadLetterItem, finishRun, skipRun } from './7-finish.js';
import type { ConcurrencyGate } from './concurrency.js';
import type { Tick } from './context.js';
import { afterCallsFailed, afterRunFailed, backoff, busyWait } from './retry-policy.js';
import type { Run } from './run.js';

/** An item whose matching failed: a user error or a bug dead-letters it, a busy portal retries it later. */
export function matchFailed(t: Tick, m: MatchedItem): void {
  const { error } = m.failures[0]!;
  if (error.kind !== 'operational') deadLetterItem(t, m.item, m.item.ruleId, error.message);
  else t.store.inbox.retryLater(m.item.id, t.now() + backoff(Math.min((m.item.attempts ?? 0) + 1, 4), t.tuning), error.message);
  t.logger.warn({ item: m.item.id, err: error }, 'matching an inbox item failed');
}

/**
 * A loaded run: through the concurrency gate and evaluation to its next state,
 * written in the caller's transaction (the tick's start commit). Returns the run
 * when it will act (stored active), else undefined.
 */
export function settleLoaded(t: Tick, l: Loaded, gate: ConcurrencyGate, ctx: EvalContext): Run | undefined {
  const { run } = l;
  if (l.error) {
    // A busy or unreachable portal: read again later without spending the rule's retries.
    if (l.transient) storeWaitingStart(t.store, run, { nextAttemptAt: t.now() + busyWait(t.tuning), error: redact(l.error) });
    else runFailed(t, run, l.error, 'operational');
    return undefined;
  }
  const c = gate.afterLoad(run, factsOf(run, ctx));
  if (c?.gate === 'hold') {
    // The key needed a read: look again a little later, not on every tick.
    storeWaitingStart(t.store, run, { nextAttemptAt: t.now() + t.tuning.backoffBaseMs });
    t.report.held += 1;
    return undefined;
  }
  if (c?.gate === 'skip') {
    skipRun(t, run, `concurrency: a run for key ${c.key} is in flight (mode skip)`);
    return undefined;
  }
  const ev = evaluate(run, ctx);
  if (ev.kind === 'error') {
    runFailed(t, run, ev.message, 'user');
    return undefined;
  }
  if (ev.kind === 'skip') {
    skipRun(t, run, ev.reason);
    return undefined;
  }
  storeActing(t.store, run);
  return run;
}

/** A run that failed before its first action. */
function runFailed(t: Tick, run: Run, message: string, kind: 'user' | 'operational'): void {
  const v = afterRunFailed(run.attempts, run.rule, kind, t.now(), t.tuning);
  if (v.kind === 'retry') {
    storeWaitingStart(t.store, run, { attempts: v.attempts, nextAttemptAt: v.at, error: redact(message) });
    return;
  }
  const fresh = run.id === null;
  storeWaitingStart(t.store, run, { attempts: v.attempts });
  run.trace = { ...run.trace, error: redact(message) };
  deadLetter(t, run, run.item, run.rule.id, message, fresh ? [] : undefined);
}

/** Some of a run's calls failed: wait, retry them, or give up as the rule's `on_error.then` says. */
export function callsFailed(t: Tick, ref: ActiveRunRef, rule: CompiledRule, failed: EffectRecord[]): void {
  const { store } = t;
  const error = failed.map((e) => `${e.method}: ${e.error ?? 'failed'}`).join('; ');
  const v = afterCallsFailed(ref.attempts, rule, failed, t.now(), t.tuning);
  if (v.kind === 'wait') {
    store.runs.update(ref.id, { status: 'waiting', nextAttemptAt: v.at, error: redact(error) });
    return;
  }
  if (v.kind === 'retry') {
    store.runs.update(ref.id, { status: 'waiting', attempts: v.attempts, nextAttemptAt: v.at, error: redact(error) });
    return;
  }
  store.transaction(() => {
    store.effects.finalizeFailed(ref.id);
    store.runs.update(ref.id, { attempts: v.attempts, error: redact(error) });
  });
  switch (rule.onError.then) {
    case 'continue':
      // The failed calls' results are null; planning goes on with the next action.
      break;
    case 'stop':
      finishRun(t, ref.id, 'failed', { error });
      break;
    default:
      deadLetter(t, ref.id, t.live.get(ref.id)?.item ?? store.inbox.get(ref.itemId)!, rule.id, error);
  }
}
