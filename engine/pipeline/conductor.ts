/**
 * The conductor: one path from the inbox to batched REST calls.
 *
 *   recover ─► 1 match ─► 2 load ─► 3 evaluate ─► 4 plan ─► 5 ledger ─► 6 execute ─► 7 finish
 *
 * `tick()` runs the whole path once; a dry-run (`planItems`, `rules test`,
 * `rules dry-run`, `rules apply`'s plan) is the same stage functions stopped
 * after plan. Every step that changes state is a store transaction, so the
 * process may die anywhere and the next engine on the same file continues
 * (docs/engine.md).
 */
import type { InboxItemInput } from '../store/index.js';
import { recoverInDoubt } from './0-recover.js';
import { match } from './1-match.js';
import { load, loadUpdateTargets } from './2-load.js';
import { evaluate, factsOf } from './3-evaluate.js';
import { plan } from './4-plan.js';
import { reactivateWaiting, resultsOf, storeRound, storeRuns } from './5-ledger.js';
import { executeEffects, mergeSnapshot } from './6-execute.js';
import { deadLetter, finishItems, finishRun } from './7-finish.js';
import { ConcurrencyGate } from './concurrency.js';
import { evalContext, volatileFacts, type Tick } from './context.js';
import { evaluated, failedFiring, firingOf, planned, toPlan } from './firings.js';
import { decodeRun, type Run, type RunItem } from './run.js';
import { callsFailed, matchFailed, settleLoaded } from './settle.js';
import type { Plan, PlanFiringOut, TickReport } from './types.js';

/** One round of the whole path. */
export async function tick(t: Tick): Promise<TickReport> {
  const { store, report, tuning } = t;
  t.stats.ticks += 1;
  const onDone = mergeSnapshot(t.store, t.records);
  report.recovered = await recoverInDoubt({ store, client: t.client, logger: t.logger, lookupMarginMs: tuning.lookupMarginMs, onDone });
  t.stats.effectsRecovered += report.recovered;

  // 1 match: the runs are durable (one commit) before anything is sent.
  const ready = store.inbox.ready(tuning.maxItemsPerTick);
  report.items = ready.length;
  const matched = await match(ready, [...t.rules.values()], t.reader, (rule) => volatileFacts(t, rule));
  for (const m of matched) if (m.failures.length) matchFailed(t, m);
  report.runsCreated = storeRuns(store, matched.filter((m) => m.failures.length === 0));
  reactivateWaiting(store, tuning.maxRunsPerTick);

  // 2 load and 3 evaluate the new runs that the concurrency gate lets through.
  await startRuns(t);

  // 4 plan, 5 ledger, 6 execute, in rounds: a call that needs an earlier call's result is planned once it is back.
  for (let round = 0; round < tuning.maxStagesPerTick; round++) {
    planRound(t);
    const pending = store.effects.pendingOfActiveRuns();
    if (pending.length === 0) break;
    const ex = await executeEffects(pending, { store, client: t.client, ...(t.http ? { http: t.http } : {}), logger: t.logger, stats: t.stats, httpConcurrency: tuning.httpConcurrency, onDone });
    report.calls += ex.calls;
    report.batches += ex.batches;
    report.httpRequests += ex.httpRequests;
    if (ex.transportError) break;
    if (round === tuning.maxStagesPerTick - 1) planRound(t);
  }

  // 7 finish the items whose runs are all final.
  report.itemsFinished += finishItems(t);
  report.calls += t.reader.commands;
  report.batches += t.reader.requests;
  t.stats.loadRequests += t.reader.requests;
  report.depth = store.inbox.depth();
  return report;
}

async function startRuns(t: Tick): Promise<void> {
  const { store } = t;
  const gate = new ConcurrencyGate(store.runs.inFlightKeys());
  const runs: Run[] = [];
  const items = new Map<number, RunItem>();
  for (const row of store.runs.due(['new'], t.tuning.maxRunsPerTick)) {
    const item = items.get(row.itemId) ?? store.inbox.get(row.itemId);
    if (!item) continue;
    items.set(item.id, item);
    const rule = t.rules.get(row.ruleId);
    if (!rule) {
      finishRun(t, row.id, 'skipped', { reason: `rule ${row.ruleId} is no longer loaded` });
      continue;
    }
    const run = decodeRun(row, rule, item);
    const g = gate.beforeLoad(run);
    if (g === 'hold') t.report.held += 1;
    else if (g === 'skip') finishRun(t, row.id, 'skipped', { reason: `concurrency: a run for ${run.recordKey} is in flight (mode skip)` });
    else runs.push(run);
  }
  if (runs.length === 0) return;
  const loaded = await load(runs, t.reader, t.records, (run) => volatileFacts(t, run.rule));
  const ctx = evalContext(t, true);
  const acting: Run[] = [];
  store.transaction(() => {
    for (const l of loaded) {
      const run = settleLoaded(t, l, gate, ctx);
      if (run) acting.push(run);
    }
  });
  const err = await loadUpdateTargets(acting.map((run) => ({ run, facts: factsOf(run, ctx) })), t.reader, t.records);
  if (err) t.logger.warn({ err }, 'loading update targets failed');
}

/** Plan the next round of every active run whose calls are all answered; one commit puts every planned call in the ledger before any is sent. */
function planRound(t: Tick): void {
  const { store } = t;
  store.transaction(() => {
    for (const row of store.runs.settledActive(100_000)) {
      const rule = t.rules.get(row.ruleId);
      if (!rule) {
        finishRun(t, row.id, 'failed', { reason: `rule ${row.ruleId} is no longer loaded` });
        continue;
      }
      const effects = store.effects.forRun(row.id);
      const failed = effects.filter((e) => e.state === 'failed' && !e.final);
      if (failed.length) {
        callsFailed(t, row, rule, failed);
        continue;
      }
      const run = decodeRun(row, rule, store.inbox.get(row.itemId)!);
      const round = plan(run, { facts: factsOf(run, { volatile: () => volatileFacts(t, rule) }), results: resultsOf(effects), records: t.records, pick: (r, k, u) => store.positions.next(r, k, u) });
      const waitFor = storeRound(store, run, round, effects);
      if (round.error) deadLetter(t, row.id, run.item, rule.id, round.error.message);
      else if (round.finished && waitFor === 0) finishRun(t, row.id, 'done', round.stopReason ? { reason: `stop: ${round.stopReason}` } : {});
    }
  });
}

/** Plan mode's tick: the ready items' plan; nothing is written. */
export async function planTick(t: Tick): Promise<TickReport> {
  t.stats.ticks += 1;
  const ready = t.store.inbox.ready(t.tuning.maxItemsPerTick);
  t.report.items = ready.length;
  t.report.plan = await planItems(t, ready);
  t.report.depth = t.store.inbox.depth();
  return t.report;
}

/** Dry-run: the same stages stopped after plan. Reads happen (batched); round-robin turns advance within the plan only. */
export async function planItems(t: Tick, inputs: InboxItemInput[]): Promise<Plan> {
  const items: RunItem[] = inputs.map((input, i) => ({ ...input, id: 'id' in input && typeof input.id === 'number' ? input.id : -(i + 1) }));
  const firings: PlanFiringOut[] = [];
  const runs: Run[] = [];
  for (const m of await match(items, [...t.rules.values()], t.reader, (rule) => volatileFacts(t, rule))) {
    for (const f of m.failures) firings.push(failedFiring(m.item, f.rule, f.error));
    runs.push(...m.runs);
  }
  const firingOfRun = new Map(runs.map((run) => [run, firingOf(run)]));
  firings.push(...firingOfRun.values());
  const ctx = evalContext(t, false);
  const acting: Run[] = [];
  for (const l of await load(runs, t.reader, t.records, (run) => volatileFacts(t, run.rule))) {
    const firing = firingOfRun.get(l.run)!;
    if (l.error) {
      firing.error = { code: 'LOAD_FAILED', message: l.error };
      continue;
    }
    const ev = evaluate(l.run, ctx);
    evaluated(firing, l.run, ev);
    if (ev.kind === 'act') acting.push(l.run);
  }
  // Without the records, plans show every field of such updates as sent.
  await loadUpdateTargets(acting.map((run) => ({ run, facts: factsOf(run, ctx) })), t.reader, t.records);
  const turns = new Map<string, number>();
  const pick = (ruleId: string, key: string, users: unknown[]) => {
    const k = `${ruleId}\u0000${key}`;
    const ahead = turns.get(k) ?? 0;
    turns.set(k, ahead + 1);
    return t.store.positions.peek(ruleId, key, users, ahead);
  };
  for (const run of acting) planned(firingOfRun.get(run)!, plan(run, { facts: factsOf(run, ctx), results: {}, records: t.records, pick }));
  return toPlan(t.now(), firings, t.reader.requests);
}
