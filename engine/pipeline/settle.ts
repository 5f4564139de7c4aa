/**
 * The daemon's side of each stage's outcome: what a failed match, a failed
 * read, an evaluation and failed calls mean for the stored run or item, by the
 * retry policy and the rule's `on_error`. Dry-run never settles: it reports.
 */
import { redact } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import type { ActiveRunRef } from '../store/index.js';
import type { MatchedItem } from './1-match.js';
import type { Loaded } from './2-load.js';
import { evaluate, factsOf, type EvalContext } from './3-evaluate.js';
import { storeWaitingStart, type CallOutcome } from './5-ledger.js';
import { deadLetter, deadLetterItem, failShadowMatch, finishRun, skipRun } from './7-finish.js';
import type { ConcurrencyGate } from './concurrency.js';
import type { Tick } from './context.js';
import { afterCallsFailed, afterRunFailed, backoff, busyWait } from './retry-policy.js';
import type { Run } from './run.js';
import type { TimerEvaluation } from './timer-logic.js';
import { armFor, leaveFor } from './timers.js';

/**
 * An item whose matching failed for some rules: a live rule's failure settles the item (matchFailed); a shadow
 * rule's ends that rule's part in a failed shadow run. Returns whether the item's runs go on.
 */
export function settleMatch(t: Tick, m: MatchedItem): boolean {
  const live = m.failures.filter((f) => f.rule.mode !== 'shadow');
  if (live.length > 0) {
    matchFailed(t, { ...m, failures: live });
    return false;
  }
  for (const f of m.failures) failShadowMatch(t, m.item, f.rule, f.error.message);
  return true;
}

/** An item whose matching failed: a user error or a bug dead-letters it, a busy portal retries it later. */
export function matchFailed(t: Tick, m: MatchedItem): void {
  const { error } = m.failures[0]!;
  if (error.kind !== 'operational') deadLetterItem(t, m.item, m.item.ruleId, error.message);
  else t.store.inbox.retryLater(m.item.id, t.now() + backoff(Math.min((m.item.attempts ?? 0) + 1, 4), t.tuning), error.message);
  t.logger.warn({ item: m.item.id, err: error }, 'matching an inbox item failed');
}

/** What a loaded run's start comes to, decided in memory (the gate, evaluation); `settleStart` writes it. */
export type Verdict =
  | { kind: 'act'; run: Run }
  | { kind: 'read-later'; run: Run; error: string }
  | { kind: 'failed'; run: Run; message: string; failure: 'user' | 'operational' }
  | { kind: 'hold'; run: Run }
  | { kind: 'skip'; run: Run; why: { readonly reason: string } }
  | { kind: 'timer'; run: Run; ev: TimerEvaluation };

/** A loaded run through the concurrency gate and evaluation: nothing is written (snapshots wait in `ctx`). */
export function judge(l: Loaded, gate: ConcurrencyGate, ctx: EvalContext): Verdict {
  const { run } = l;
  if (l.error) {
    // A busy or unreachable portal: read again later without spending the rule's retries.
    return l.transient ? { kind: 'read-later', run, error: l.error } : { kind: 'failed', run, message: l.error, failure: 'operational' };
  }
  const c = gate.afterLoad(run, factsOf(run, ctx));
  if (c?.gate === 'hold') return { kind: 'hold', run };
  if (c?.gate === 'skip') return { kind: 'skip', run, why: { reason: `concurrency: a run for key ${c.key} is in flight (mode skip)` } };
  const ev = evaluate(run, ctx);
  if (ev.kind === 'error') return { kind: 'failed', run, message: ev.message, failure: 'user' };
  if (ev.kind === 'skip') return { kind: 'skip', run, why: ev };
  if (ev.kind === 'timer') return { kind: 'timer', run, ev };
  return { kind: 'act', run };
}

/** Write a verdict other than `act` (the conductor stores acting runs with their first round). Call inside the start commit. */
export function settleStart(t: Tick, v: Exclude<Verdict, { kind: 'act' }>): void {
  switch (v.kind) {
    case 'read-later':
      storeWaitingStart(t.store, v.run, { nextAttemptAt: t.now() + busyWait(t.tuning), error: redact(v.error) });
      return;
    case 'failed':
      runFailed(t, v.run, v.message, v.failure);
      return;
    case 'hold':
      // The key needed a read: look again a little later, not on every tick.
      storeWaitingStart(t.store, v.run, { nextAttemptAt: t.now() + t.tuning.backoffBaseMs });
      t.report.held += 1;
      return;
    case 'timer':
      if (v.ev.op === 'start') armFor(t, v.run, v.ev.dueAt ?? t.now());
      else leaveFor(t, v.run, v.ev.reason);
      return;
    case 'skip':
      // A run woken by its delay has acted before: it ends with its journal, not as a compact row.
      if (v.run.resume) finishRun(t, v.run, 'skipped', { reason: `after the delay: ${v.why.reason}` });
      else skipRun(t, v.run, v.why.reason);
  }
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
export function callsFailed(t: Tick, ref: ActiveRunRef, rule: CompiledRule, failed: CallOutcome[]): void {
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
