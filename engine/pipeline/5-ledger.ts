/**
 * Stage 5, the ledger: the only writer of run and effect rows. A run matched
 * this tick gets its row when it is settled, in the commit that also marks its
 * item running, before anything is sent; every planned call is an effect row
 * with a stable key before the executor may send it, so a key already there (a
 * retry, a DLQ retry, a run sharing a dedupe key) is never sent twice. The
 * trace is not written here: the run carries it in memory and it is written
 * when the run finishes (7-finish.ts) or its tick ends (`storeTraces`).
 */
import type { Facts } from '../rules/index.js';
import type { EffectsTable, NewRun, StateStore } from '../store/index.js';
import type { PlannedEffect, StagePlan } from './4-plan.js';
import { encodeFacts, newRunRow, type Run } from './run.js';
import { shadowResult } from './shadow.js';

/** A run's call as planning and finishing read it (EffectsTable.outcomesOfRun): no params; result and meta only when the run names the result. */
export type CallOutcome = ReturnType<EffectsTable['outcomesOfRun']>[number];

/** Runs whose retry time has come go back to active; their failed calls will be sent again. */
export function reactivateWaiting(store: StateStore, limit: number): void {
  const ids = store.runs.dueWaiting(limit);
  if (ids.length === 0) return;
  store.transaction(() => {
    for (const id of ids) {
      store.effects.resetFailed(id);
      store.runs.update(id, { status: 'active' });
    }
  });
}

/**
 * A run that has not acted yet and must wait (held by its concurrency key, a read to
 * retry): stored `new` with its facts, to be decoded by a later tick. Call inside
 * the tick's start commit.
 */
export function storeWaitingStart(store: StateStore, run: Run, row: Pick<NewRun, 'attempts' | 'nextAttemptAt' | 'error'> = {}): void {
  if (run.id === null) {
    run.id = store.runs.create(newRunRow(run, { ...row, facts: encodeFacts(run) }));
    return;
  }
  store.runs.update(run.id, { ...row, concurrencyKey: run.concurrencyKey });
}

/** The journal entry of runs still in flight when their tick ends: the next tick decodes them with it. */
export function storeTraces(store: StateStore, runs: Iterable<Run>): void {
  store.transaction(() => {
    for (const run of runs) if (run.id !== null) store.runs.update(run.id, { trace: run.trace });
  });
}

/** The values of the run's `as` names: a done call's result (a shadow call's placeholder), null for one failed or not done. */
export function resultsOf(effects: CallOutcome[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of effects) if (e.asName) out[e.asName] = e.state === 'done' ? resultValue(e) : e.state === 'shadow' ? e.result : null;
  return out;
}

/**
 * Record a run's first round of planning with the run itself: the run becomes active
 * (a row now, for a run matched this tick) at the round's cursor, then its calls go
 * in as effects. Its facts are stored whole only when a later round plans from them;
 * a run planned to its end keeps only its change set. Returns how many calls the run
 * must wait for (0 with a finished plan: the run is done). Call inside the start commit.
 */
export function storeFirstRound(store: StateStore, run: Run, round: StagePlan): number {
  applyRound(run, round);
  const facts = encodeFacts(run, !round.finished);
  if (run.id === null) run.id = store.runs.create(newRunRow(run, { status: 'active', cursor: run.cursor, facts }));
  else store.runs.update(run.id, { status: 'active', cursor: run.cursor, facts, dedupeKey: run.dedupeKey, concurrencyKey: run.concurrencyKey });
  const { waitFor, adopted } = recordRound(store, run.id, 0, round, run.shadow);
  if (adopted && !round.finished) {
    Object.assign(run.facts, adopted);
    store.runs.update(run.id, { facts: encodeFacts(run) });
  }
  return waitFor;
}

/**
 * Record a later round of planning: its calls as effects after the run's existing
 * ones, and the run's cursor (and facts, when a later round needs what this one
 * assigned). Returns how many calls the run must wait for (0 with a finished plan:
 * the run is done).
 */
export function storeRound(store: StateStore, run: Run, round: StagePlan, existing: CallOutcome[]): number {
  const assigned = applyRound(run, round);
  const base = existing.length ? Math.max(...existing.map((e) => e.seq)) + 1 : 0;
  const { waitFor, adopted } = recordRound(store, run.id!, base, round, run.shadow);
  if (adopted) Object.assign(run.facts, adopted);
  // The cursor goes with the calls; the facts only when a later round plans from them (past the last action nothing does).
  const factsChanged = assigned || adopted !== undefined;
  store.runs.update(run.id!, { cursor: run.cursor, ...(factsChanged && !round.finished ? { facts: encodeFacts(run) } : {}) });
  return waitFor;
}

/** A round's effect on the run in memory: picks into its facts, the cursor, the trace. Returns whether facts were assigned. */
function applyRound(run: Run, round: StagePlan): boolean {
  const assigned = Object.keys(round.assigned).length > 0;
  if (assigned) Object.assign(run.facts, round.assigned);
  run.cursor = round.cursor;
  run.trace = { ...run.trace, actions: [...((run.trace.actions as unknown[]) ?? []), ...round.trace], ...(round.waitingFor ? { waitingFor: round.waitingFor } : {}) };
  if (round.error) run.trace.error = round.error.message;
  return assigned;
}

/**
 * A round's calls into the ledger from sequence `base`; results adopted from an earlier run with the same key become facts.
 * A shadow run's calls are journaled final (state `shadow`, their result a placeholder): nothing waits for them.
 */
function recordRound(store: StateStore, runId: number, base: number, round: StagePlan, shadow: boolean | undefined): { waitFor: number; adopted?: Facts } {
  let waitFor = 0;
  let adopted: Facts | undefined;
  round.effects.forEach((pe, n) => {
    const r = recordEffect(store, runId, base + n, pe, shadow);
    if (r.wait) waitFor++;
    if (r.result) (adopted ??= {})[r.result.name] = r.result.value;
  });
  return { waitFor, ...(adopted ? { adopted } : {}) };
}

function recordEffect(store: StateStore, runId: number, seq: number, pe: PlannedEffect, shadow: boolean | undefined): { wait: boolean; result?: { name: string; value: unknown } } {
  const meta: Record<string, unknown> = {};
  if (pe.call?.lookup) meta.lookup = pe.call.lookup;
  if (pe.call?.before) meta.before = pe.call.before;
  if (pe.call?.after) meta.after = pe.call.after;
  if (pe.call?.snapshot) meta.snapshot = pe.call.snapshot;
  if (pe.call?.resultPath) meta.resultPath = pe.call.resultPath;
  const { effect, existed } = store.effects.record({
    effectKey: pe.effectKey,
    runId,
    seq,
    actionIndex: pe.actionIndex,
    kind: pe.kind,
    method: pe.method,
    params: pe.params,
    asName: pe.asName,
    recovery: pe.http ? 'resend' : (pe.call?.recovery ?? 'none'),
    meta,
    ...(shadow ? { shadow: { result: shadowResult(pe.effectKey) } } : {}),
  });
  if (effect.state === 'shadow') return { wait: false, ...(pe.asName && existed ? { result: { name: pe.asName, value: effect.result } } : {}) };
  if (!existed) return { wait: true };
  if (effect.state === 'done') return { wait: false, ...(pe.asName ? { result: { name: pe.asName, value: resultValue(effect) } } : {}) };
  if (effect.state === 'failed') {
    store.effects.adopt(effect.id, runId, seq);
    return { wait: true };
  }
  // Pending or sent under another run (same dedupe key, still in flight): that run carries it.
  return { wait: false };
}

/** The value of an effect's `as`: the result, or the part named by the call's resultPath. */
function resultValue(e: CallOutcome): unknown {
  const path = e.meta?.resultPath as string[] | undefined;
  let v: unknown = e.result;
  if (path) for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v ?? null;
}
