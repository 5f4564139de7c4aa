/**
 * Stage 7, finish: runs reach their final state (done, skipped, failed, dead)
 * with their journal entry, written once here; dead letters are written, and
 * items whose runs are all final are finished, so their source can acknowledge
 * them. A run that does not act is journaled as one compact row (`skipRun`).
 */
import { redact, redactValue } from '../redact.js';
import type { RunStatus, StateStore } from '../store/index.js';
import type { CallOutcome } from './5-ledger.js';
import type { CompiledRule } from '../rules/index.js';
import { baseTrace, newRunRow, type Run, type RunItem } from './run.js';
import { triggerKeyOf } from './trigger.js';
import { shadowSpace, stateSpace } from './shadow.js';
import type { EngineStats, TickReport } from './types.js';

export type FinalStatus = 'done' | 'skipped' | 'failed' | 'dead';

const FINAL: readonly RunStatus[] = ['done', 'skipped', 'failed', 'dead'];

/** Where finishing writes and counts. */
export interface FinishContext {
  store: StateStore;
  report: TickReport;
  stats: EngineStats;
  logger: { warn(obj: object, msg: string): void };
  /** The runs the tick holds in memory, by id: a run finished by id is taken from here before its row is read. */
  live?: Map<number, Run>;
}

function count(ctx: FinishContext, status: FinalStatus): void {
  ctx.report.finished[status] += 1;
  ctx.stats.runs[status] += 1;
}

/**
 * Put a run in a final state with its journal entry: its trace (from memory, or from
 * its row when the tick never decoded it) and where each call it made ended. `effects`
 * are the run's ledger rows when the caller has just read them. A run already final is
 * left alone.
 */
export function finishRun(ctx: FinishContext, target: Run | number, status: FinalStatus, note: { reason?: string; error?: string } = {}, effects?: CallOutcome[]): void {
  const { store } = ctx;
  const id = typeof target === 'number' ? target : target.id;
  if (id === null) throw new Error('finishRun: the run has no row (skipRun journals a run that never acted)');
  const done = store.transaction(() => {
    const run = typeof target === 'number' ? ctx.live?.get(target) : target;
    let trace: Record<string, unknown>;
    let dedupe: { ruleId: string; key: string } | undefined;
    if (run) {
      trace = run.trace;
      if (run.dedupeKey) dedupe = { ruleId: stateSpace(run.rule, run.shadow), key: run.dedupeKey };
    } else {
      const row = store.runs.get(id);
      if (!row || FINAL.includes(row.status)) return false;
      trace = row.trace;
      if (row.dedupeKey) dedupe = { ruleId: row.mode === 'shadow' ? shadowSpace(row.ruleId) : row.ruleId, key: row.dedupeKey };
    }
    // Where each call ended; its params and answer are the ledger row's (rules trace shows them from there).
    const calls = (effects ?? store.effects.outcomesOfRun(id)).map((e) => ({
      key: e.effectKey,
      method: e.method,
      state: e.state,
      ...(e.error ? { error: redact(e.error) } : {}),
      ...(e.errorCode ? { code: e.errorCode } : {}),
      attempts: e.attempts,
    }));
    const reason = note.reason === undefined ? null : redact(note.reason);
    const error = note.error === undefined ? null : redact(note.error);
    const entry = { ...trace, effects: calls, outcome: status, ...(reason ? { reason } : {}), ...(error ? { error } : {}) };
    if (!store.runs.finish(id, { status, trace: entry, error, reason })) return false;
    if (status === 'done' && dedupe) store.dedupe.put(dedupe.ruleId, dedupe.key, id);
    return true;
  });
  ctx.live?.delete(id);
  if (done) count(ctx, status);
}

/**
 * Journal a run that does not act (trigger filter, `changed:`, dedupe, concurrency skip,
 * condition false) as one compact row: rule, item, record, dedupe key, reason, time; no
 * facts, no trace. A run matched this tick gets its row here; a stored one (held, retried)
 * is finished as such.
 */
export function skipRun(ctx: FinishContext, run: Run, reason: string): void {
  const text = redact(reason);
  if (run.id === null) {
    run.id = ctx.store.runs.create(newRunRow(run, { status: 'skipped', reason: text }));
  } else {
    if (!ctx.store.runs.finish(run.id, { status: 'skipped', trace: null, reason: text })) return;
    ctx.live?.delete(run.id);
  }
  count(ctx, 'skipped');
}

/**
 * Dead-letter a run: the DLQ keeps its item's payload (redacted) for `rules dlq retry`. A shadow run is never
 * dead-lettered: it ends failed with its error, so that it decides nothing about its item (a live run's outcome does).
 */
export function deadLetter(ctx: FinishContext, target: Run | number, item: RunItem, ruleId: string, error: string, effects?: CallOutcome[]): void {
  const runId = typeof target === 'number' ? target : target.id!;
  const shadow = typeof target === 'number' ? (ctx.live?.get(target)?.shadow ?? ctx.store.runs.get(target)?.mode === 'shadow') : target.shadow;
  if (shadow) {
    finishRun(ctx, target, 'failed', { error }, effects);
    ctx.logger.warn({ run: runId, rule: ruleId, item: item.id, error }, 'shadow run failed');
    return;
  }
  ctx.store.transaction(() => {
    ctx.store.dlq.add({ itemId: item.id, runId, ruleId, error: redact(error), payload: redactValue(item.payload) });
    finishRun(ctx, target, 'dead', { error }, effects);
  });
  ctx.logger.warn({ run: runId, rule: ruleId, item: item.id, error }, 'run dead-lettered');
}

/**
 * A shadow rule whose matching failed (its foreach read, or more rows than `max_records`): its part of the
 * item ends in one failed shadow run with the error; the item is not dead-lettered (a shadow run decides nothing about it).
 */
export function failShadowMatch(ctx: FinishContext, item: RunItem, rule: CompiledRule, error: string): void {
  const text = redact(error);
  const trace = { ...baseTrace(item, rule, true), effects: [], outcome: 'failed', error: text };
  const runId = ctx.store.runs.create({ itemId: item.id, ruleId: rule.id, ruleHash: rule.hash, triggerKey: triggerKeyOf(item), recordKey: '', status: 'failed', error: text, trace, mode: 'shadow' });
  count(ctx, 'failed');
  ctx.logger.warn({ run: runId, rule: rule.id, item: item.id, error: text }, 'shadow run failed');
}

/** Dead-letter an item that started no run (its matching failed for good). */
export function deadLetterItem(ctx: FinishContext, item: RunItem, ruleId: string | null, error: string): void {
  ctx.store.transaction(() => {
    ctx.store.dlq.add({ itemId: item.id, runId: null, ruleId, error: redact(error), payload: redactValue(item.payload) });
    ctx.store.inbox.finish(item.id, 'dead', error);
  });
  ctx.stats.eventsFailed += 1;
  ctx.report.itemsFinished += 1;
}

/** Finish the items whose runs are all final: dead when one of them was dead-lettered. Returns how many. */
export function finishItems(ctx: FinishContext): number {
  const settled = ctx.store.runs.settledItems();
  ctx.store.transaction(() => {
    for (const s of settled) {
      ctx.store.inbox.finish(s.itemId, s.dead > 0 ? 'dead' : 'done', s.dead > 0 ? 'a run was dead-lettered' : null);
      if (s.dead > 0) ctx.stats.eventsFailed += 1;
      else ctx.stats.eventsProcessed += 1;
    }
  });
  return settled.length;
}
