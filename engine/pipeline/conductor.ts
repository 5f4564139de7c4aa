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
import type { InboxItemInput, RunRecord } from '../store/index.js';
import { recoverInDoubt } from './0-recover.js';
import { match, type MatchedItem } from './1-match.js';
import { load, loadUpdateTargets } from './2-load.js';
import { evaluate, factsOf, type Evaluation } from './3-evaluate.js';
import { plan, type StagePlan } from './4-plan.js';
import { reactivateWaiting, resultsOf, storeFirstRound, storeRound, storeTraces, storeWaitingStart, type CallOutcome } from './5-ledger.js';
import { executeEffects } from './6-execute.js';
import { deadLetter, finishItems, finishRun, skipRun } from './7-finish.js';
import { ConcurrencyGate } from './concurrency.js';
import { evalContext, mergeDone, volatileFacts, type Tick } from './context.js';
import { evaluated, failedFiring, firingOf, planned, toPlan } from './firings.js';
import { decodeRun, encodeFacts, type Run, type RunItem } from './run.js';
import { callsFailed, judge, settleMatch, settleStart, type Verdict } from './settle.js';
import { groupOf, GroupStart, judgeInGroups, loserReason, lostTo, waitsFor, whyItActed, type GroupStep } from './groups.js';
import { deliverWaits, fireDueTimers, ruleChanged, startDelay, startWait } from './timers.js';
import type { Plan, PlanFiringOut, TickReport } from './types.js';

/** One round of the whole path. */
export async function tick(t: Tick): Promise<TickReport> {
  const { store, report, tuning } = t;
  t.stats.ticks += 1;
  const onDone = mergeDone(t);
  const recovery = await recoverInDoubt({ store, client: t.client, logger: t.logger, now: t.now, lookupMarginMs: tuning.lookupMarginMs, inDoubtSettleMs: tuning.inDoubtSettleMs, lookedUp: t.lookedUp, onDone });
  report.recovered = recovery.resolved;
  if (recovery.waiting) report.inDoubt = recovery.waiting;
  t.stats.effectsRecovered += report.recovered;
  // Events runs wait for (wait_for) wake them first, so they start in this tick; before the due
  // timers fire, so that an awaited event already in the inbox beats a timeout that fell due meanwhile.
  let ready = store.inbox.ready(tuning.maxItemsPerTick);
  report.waitsEnded = await deliverWaits(t, ready);
  // Timers due now become work (delayed runs go on, for: timers become items) in the commit that marks them fired.
  report.timersFired = fireDueTimers(t, tuning.maxItemsPerTick);

  // 1 match, in memory: the runs of fresh items get rows when they are settled (below). Stored runs
  // still to start (held, retried) come first and count against the tick's runs.
  if (report.timersFired) ready = store.inbox.ready(tuning.maxItemsPerTick);
  const stored = store.runs.due(['new'], tuning.maxRunsPerTick);
  const matched = await match(ready, [...t.rules.values()], t.reader, (rule) => volatileFacts(t, rule), tuning.maxRunsPerTick - stored.length);
  report.items = matched.length;
  const fresh: MatchedItem[] = [];
  for (const m of matched) {
    if (m.failures.length === 0 || settleMatch(t, m)) fresh.push(m);
  }
  for (const m of fresh) {
    report.runsCreated += m.runs.length;
    // What the start commit's markRunning writes: evaluation tells a DLQ retry by it.
    m.item.attempts = (m.item.attempts ?? 0) + 1;
  }
  reactivateWaiting(store, tuning.maxRunsPerTick);

  // 2 load and 3 evaluate the runs the concurrency gate lets through; one commit stores the outcome.
  await startRuns(t, stored, fresh);

  try {
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
  } finally {
    // Runs still in flight keep their journal entry for the tick that continues them.
    if (t.live.size) storeTraces(store, t.live.values());
  }

  // 7 finish the items whose runs are all final.
  report.itemsFinished += finishItems(t);
  report.calls += t.reader.commands;
  report.batches += t.reader.requests;
  t.stats.loadRequests += t.reader.requests;
  report.depth = store.inbox.depth();
  const nextDue = store.timers.nextDue();
  report.nextTimerAt = recovery.settleAt === null ? nextDue : Math.min(nextDue ?? Infinity, recovery.settleAt);
  return report;
}

/**
 * Through the concurrency gate, load and evaluate: the stored runs still to start,
 * then the runs matched now. Everything up to the commit is reads (the snapshots
 * evaluation takes wait in memory), so the one commit is the start: the matched
 * items become running with their runs' rows (acting runs active with their first
 * round of calls in the ledger, runs that must wait `new`, compact skipped rows) and
 * the snapshots. A crash before it leaves the items pending, and they are matched
 * again from scratch.
 */
async function startRuns(t: Tick, stored: RunRecord[], fresh: MatchedItem[]): Promise<void> {
  const { store } = t;
  const gate = new ConcurrencyGate(store.runs.inFlightKeys());
  const go: Run[] = [];
  /** What the commit writes for runs decided before loading. */
  const decided: Array<() => void> = [];
  const items = new Map<number, RunItem>();
  const candidates: Run[] = [];
  for (const row of stored) {
    const item = items.get(row.itemId) ?? store.inbox.get(row.itemId);
    if (!item) continue;
    items.set(item.id, item);
    const rule = t.rules.get(row.ruleId);
    if (!rule) {
      decided.push(() => finishRun(t, row.id, 'skipped', { reason: `rule ${row.ruleId} is no longer loaded` }, []));
      continue;
    }
    const run = decodeRun(row, rule, item);
    // cursor, on_timeout and the timer's action are indexes into the rule the run started under.
    if (run.resume && row.ruleHash !== rule.hash) {
      decided.push(() => finishRun(t, row.id, 'skipped', { reason: ruleChanged(rule.id, row.ruleHash, rule.hash) }));
      continue;
    }
    candidates.push(run);
  }
  let room = t.tuning.maxRunsPerTick - stored.length;
  const later: Run[] = [];
  for (const m of fresh) {
    for (const run of m.runs) {
      // Past the tick's runs (one item's foreach can start many): stored to start next tick.
      if (room-- <= 0) {
        later.push(run);
        decided.push(() => storeWaitingStart(store, run));
      } else candidates.push(run);
    }
  }
  const groups = new GroupStart(store, t.rules, candidates, later);
  /** A group member that waits for an earlier one: looked at again a little later, as a held run is. */
  const groupWait = (run: Run) => {
    t.report.held += 1;
    decided.push(() => storeWaitingStart(store, run, { nextAttemptAt: t.now() + t.tuning.backoffBaseMs }));
  };
  for (const run of candidates) {
    const before = groups.before(run);
    if (before?.kind === 'lose') {
      decided.push(() => skipRun(t, run, before.reason));
      continue;
    }
    if (before?.kind === 'wait') {
      groupWait(run);
      continue;
    }
    const g = gate.beforeLoad(run);
    if (g === 'hold') {
      t.report.held += 1;
      groups.held(run);
      if (run.id === null) decided.push(() => storeWaitingStart(store, run));
    } else if (g === 'skip') decided.push(() => skipRun(t, run, `concurrency: a run for ${run.recordKey} is in flight (mode skip)`));
    else go.push(run);
  }
  const ready: Run[] = [];
  for (const run of go) {
    if (groups.blocked(run)) groupWait(run);
    else ready.push(run);
  }
  const loaded = ready.length ? await load(ready, t.reader, t.records, (run) => volatileFacts(t, run.rule)) : [];
  const ctx = evalContext(t, true);
  const byRun = new Map(loaded.map((l) => [l.run, l]));
  const verdicts = judgeInGroups<Verdict>(
    ready,
    (run) => judge(byRun.get(run)!, gate, ctx),
    verdictStep,
    (run, winner) => ({ kind: 'skip', run, why: { reason: loserReason(winner.rule.group!, winner.rule.id) } }),
    (run) => ({ kind: 'hold', run }),
  );
  const acting = verdicts.flatMap((v) => (v.kind === 'act' ? [v.run] : []));
  if (acting.length) {
    const err = await loadUpdateTargets(acting.map((run) => ({ run, facts: factsOf(run, ctx) })), t.reader, t.records);
    if (err) t.logger.warn({ err }, 'loading update targets failed');
  }
  store.transaction(() => {
    ctx.flush();
    for (const write of decided) write();
    for (const v of verdicts) {
      if (v.kind !== 'act') settleStart(t, v);
      else if (v.run.resume) resumeStored(t, v.run);
      else {
        // The group's decision, stored with the winner's first calls.
        const group = groupOf(v.run);
        if (group) v.run.won = group;
        planStored(t, v.run, [], true);
      }
    }
    for (const m of fresh) store.inbox.markRunning(m.item.id);
  });
}

/** What a verdict means for the members of its group after it: act wins, a skip lets the next be judged, the rest wait. */
function verdictStep(v: Verdict): GroupStep {
  if (v.kind === 'act') return 'act';
  return v.kind === 'skip' || v.kind === 'timer' ? 'next' : 'block';
}

/**
 * Plan the next round of every active run whose calls are all answered; one commit puts
 * every planned call in the ledger before any is sent. A run the tick holds is planned
 * from memory; another (a retry, a restart) is decoded from its row once.
 */
function planRound(t: Tick): void {
  const { store } = t;
  store.transaction(() => {
    for (const ref of store.runs.settledActive(100_000)) {
      const rule = t.rules.get(ref.ruleId);
      if (!rule) {
        finishRun(t, ref.id, 'failed', { reason: `rule ${ref.ruleId} is no longer loaded` });
        continue;
      }
      const effects = store.effects.outcomesOfRun(ref.id);
      const failed = effects.filter((e) => e.state === 'failed' && !e.final);
      if (failed.length) {
        callsFailed(t, ref, rule, failed);
        continue;
      }
      let run = t.live.get(ref.id);
      if (!run) {
        const row = store.runs.get(ref.id)!;
        run = decodeRun(row, rule, store.inbox.get(row.itemId)!);
        t.live.set(ref.id, run);
      }
      planStored(t, run, effects, false);
    }
  });
}

/**
 * One round of a run's planning into the ledger (inside the caller's transaction):
 * `first`, the run's start, stored with its first calls; otherwise a later round after
 * `effects`. A run with nothing left to wait for is done; a plan error dead-letters it.
 */
function planStored(t: Tick, run: Run, effects: CallOutcome[], first: boolean): void {
  const { store } = t;
  const planNext = () => plan(run, { facts: factsOf(run, { volatile: () => volatileFacts(t, run.rule) }), results: resultsOf(effects), records: t.records, pick: (r, k, u) => store.positions.next(r, k, u) });
  let round = planNext();
  let waitFor = first ? storeFirstRound(store, run, round) : storeRound(store, run, round, effects);
  // A shadow run's calls are final once journaled: its next round is planned at once, up to its end or a timer.
  while (run.shadow && shadowGoesOn(round)) {
    effects = store.effects.outcomesOfRun(run.id!);
    round = planNext();
    waitFor = storeRound(store, run, round, effects);
  }
  t.live.set(run.id!, run);
  if (round.error) deadLetter(t, run, run.item, run.rule.id, round.error.message);
  else if (round.delay && !round.delay.afterCalls) startDelay(t, run, round.delay);
  else if (round.wait && !round.wait.afterCalls) startWait(t, run, round.wait);
  else if (round.finished && waitFor === 0) finishRun(t, run, 'done', round.stopReason ? { reason: `stop: ${round.stopReason}` } : {}, round.effects.length ? undefined : effects);
}

/** Whether a shadow run plans its next round now: it stopped only for results of its own (journaled) calls, or before a timer they precede. */
function shadowGoesOn(round: StagePlan): boolean {
  if (round.finished || round.error || round.effects.length === 0) return false;
  return (!round.delay || round.delay.afterCalls) && (!round.wait || round.wait.afterCalls);
}

/**
 * A run woken by its delay, read again and evaluated: active again, with the facts it read
 * now, and planned on from the action after the delay with the results of its calls so far.
 * Inside the start commit.
 */
function resumeStored(t: Tick, run: Run): void {
  const { waitingFor: _done, ...trace } = run.trace;
  const fired = t.store.timers.get(run.resume!.timerId);
  const woke = { timer: run.resume!.timerId, at: new Date(t.now()).toISOString(), ...(fired?.note ? { by: fired.note } : {}), ...(run.resume!.recheck ? { recheck: 'the condition held again' } : {}) };
  run.trace = { ...trace, woke: [...((trace.woke as unknown[] | undefined) ?? []), woke] };
  delete run.resume;
  t.store.runs.update(run.id!, { status: 'active', facts: encodeFacts(run), dedupeKey: run.dedupeKey, concurrencyKey: run.concurrencyKey });
  planStored(t, run, t.store.effects.outcomesOfRun(run.id!), false);
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
  const loaded = new Map((await load(runs, t.reader, t.records, (run) => volatileFacts(t, run.rule))).map((l) => [l.run, l]));
  // A group's members in priority order until one acts, as the daemon judges them (groups.ts).
  const lost = new Map<Run, Run>();
  const evaluations = judgeInGroups<Evaluation | null>(
    runs,
    (run) => (loaded.get(run)!.error === undefined ? evaluate(run, ctx) : null),
    (ev) => (ev === null || ev.kind === 'error' ? 'block' : ev.kind === 'act' ? 'act' : 'next'),
    (run, winner) => {
      lost.set(run, winner);
      return { kind: 'skip', reason: lostTo(winner.rule.group!, winner.rule.id) };
    },
    (run, blocker) => ({ kind: 'skip', reason: waitsFor(blocker.rule.group!, blocker.rule.id) }),
  );
  runs.forEach((run, i) => {
    const firing = firingOfRun.get(run)!;
    const ev = evaluations[i]!;
    if (ev === null) {
      firing.error = { code: 'LOAD_FAILED', message: loaded.get(run)!.error! };
      return;
    }
    evaluated(firing, run, ev);
    const winner = lost.get(run);
    // Its condition was not checked: in the group it is false because the winner's held.
    if (winner && ev.kind === 'skip') firing.condition = { value: false, reason: `${ev.reason} (${whyItActed(winner, factsOf(winner, ctx))})` };
    if (ev.kind === 'act') acting.push(run);
  });
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
