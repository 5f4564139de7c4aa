/**
 * Stage 7, finish: runs reach their final state (done, skipped, failed, dead)
 * with their journal entry, dead letters are written, and items whose runs are
 * all final are finished, so their source can acknowledge them.
 */
import { redact, redactValue } from '../redact.js';
import type { RunStatus, StateStore } from '../store/index.js';
import type { RunItem } from './run.js';
import type { EngineStats, TickReport } from './types.js';

export type FinalStatus = 'done' | 'skipped' | 'failed' | 'dead';

const FINAL: readonly RunStatus[] = ['done', 'skipped', 'failed', 'dead'];

/** Where finishing writes and counts. */
export interface FinishContext {
  store: StateStore;
  report: TickReport;
  stats: EngineStats;
  logger: { warn(obj: object, msg: string): void };
}

/** Put a run in a final state with its journal entry: every call it made, redacted. A run already final is left alone. */
export function finishRun(ctx: FinishContext, runId: number, status: FinalStatus, note: { reason?: string; error?: string } = {}): void {
  const { store } = ctx;
  store.transaction(() => {
    const run = store.runs.get(runId);
    if (!run || FINAL.includes(run.status)) return;
    const effects = store.effects.forRun(runId).map((e) => ({
      key: e.effectKey,
      method: e.method,
      params: redactValue(e.params),
      state: e.state,
      ...(e.result !== null ? { result: redactValue(e.result) } : {}),
      ...(e.error ? { error: redact(e.error) } : {}),
      ...(e.errorCode ? { code: e.errorCode } : {}),
      attempts: e.attempts,
    }));
    const trace = { ...run.trace, effects, outcome: status, ...(note.reason ? { reason: note.reason } : {}), ...(note.error ? { error: redact(note.error) } : {}) };
    store.runs.update(runId, { status, trace, ...(note.error ? { error: redact(note.error) } : {}) });
    if (status === 'done' && run.dedupeKey) store.dedupe.put(run.ruleId, run.dedupeKey, runId);
  });
  ctx.report.finished[status] += 1;
  ctx.stats.runs[status] += 1;
}

/** Dead-letter a run: the DLQ keeps its item's payload (redacted) for `rules dlq retry`. */
export function deadLetter(ctx: FinishContext, runId: number, item: RunItem, ruleId: string, error: string): void {
  ctx.store.transaction(() => {
    ctx.store.dlq.add({ itemId: item.id, runId, ruleId, error: redact(error), payload: redactValue(item.payload) });
    finishRun(ctx, runId, 'dead', { error });
  });
  ctx.logger.warn({ run: runId, rule: ruleId, item: item.id, error }, 'run dead-lettered');
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
