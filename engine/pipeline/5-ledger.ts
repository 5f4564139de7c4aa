/**
 * Stage 5, the ledger: the only writer of run rows and effect rows. Runs are
 * stored when matched, before anything is sent; every planned call is an
 * effect row with a stable key before the executor may send it, so a key
 * already there (a retry, a DLQ retry, a run sharing a dedupe key) is never
 * sent twice.
 */
import type { Facts } from '../rules/index.js';
import type { EffectRecord, StateStore } from '../store/index.js';
import type { MatchedItem } from './1-match.js';
import type { PlannedEffect, StagePlan } from './4-plan.js';
import { encodeFacts, newRunRow, type Run } from './run.js';

/** Store the runs of matched items and mark the items running (one commit). Returns how many runs. */
export function storeRuns(store: StateStore, matched: MatchedItem[]): number {
  let n = 0;
  store.transaction(() => {
    for (const m of matched) {
      for (const run of m.runs) {
        run.id = store.runs.create(newRunRow(run));
        n++;
      }
      store.inbox.markRunning(m.item.id);
    }
  });
  return n;
}

/** Runs whose retry time has come go back to active; their failed calls will be sent again. */
export function reactivateWaiting(store: StateStore, limit: number): void {
  store.transaction(() => {
    for (const run of store.runs.due(['waiting'], limit)) {
      store.effects.resetFailed(run.id);
      store.runs.update(run.id, { status: 'active' });
    }
  });
}

/** A run that will act: active from its first action. */
export function storeActing(store: StateStore, run: Run): void {
  store.runs.update(run.id!, { status: 'active', cursor: 0, facts: encodeFacts(run), trace: run.trace, dedupeKey: run.dedupeKey, concurrencyKey: run.concurrencyKey });
}

/** The values of the run's `as` names: a done call's result, null for one failed or not done. */
export function resultsOf(effects: EffectRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of effects) if (e.asName) out[e.asName] = e.state === 'done' ? resultValue(e) : null;
  return out;
}

/**
 * Record a round of planning: its calls as effects after the run's existing
 * ones, and the run's cursor, facts and trace. Returns how many calls this run
 * must wait for (0 with a finished plan: the run is done).
 */
export function storeRound(store: StateStore, run: Run, round: StagePlan, existing: EffectRecord[]): number {
  let waitFor = 0;
  const adopted: Record<string, unknown> = {};
  const base = existing.length ? Math.max(...existing.map((e) => e.seq)) + 1 : 0;
  round.effects.forEach((pe, n) => {
    const r = recordEffect(store, run.id!, base + n, pe);
    if (r.wait) waitFor++;
    if (r.result) adopted[r.result.name] = r.result.value;
  });
  // Picks and results adopted from an earlier run with the same key become the run's facts.
  const assigned: Facts = { ...round.assigned, ...adopted };
  const factsChanged = Object.keys(assigned).length > 0;
  Object.assign(run.facts, assigned);
  run.cursor = round.cursor;
  run.trace = { ...run.trace, actions: [...((run.trace.actions as unknown[]) ?? []), ...round.trace], ...(round.waitingFor ? { waitingFor: round.waitingFor } : {}) };
  if (round.error) run.trace.error = round.error.message;
  store.runs.update(run.id!, { cursor: run.cursor, ...(factsChanged ? { facts: encodeFacts(run) } : {}), trace: run.trace });
  return waitFor;
}

function recordEffect(store: StateStore, runId: number, seq: number, pe: PlannedEffect): { wait: boolean; result?: { name: string; value: unknown } } {
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
  });
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
function resultValue(e: EffectRecord): unknown {
  const path = e.meta?.resultPath as string[] | undefined;
  let v: unknown = e.result;
  if (path) for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v ?? null;
}
