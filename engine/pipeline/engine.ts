/**
 * The engine: one path from the inbox to batched REST calls.
 *
 *   inbox ─► match (rules, foreach rows) ─► load (declared reads of the whole tick, batched)
 *         ─► evaluate (snapshot changes, let, dedupe, condition) ─► plan (pure actions)
 *         ─► effect ledger ─► executor (batches ≤50, http) ─► journal (trace) ─► item done/dead
 *
 * `tick()` does one round of all of it and returns what happened. Every step
 * that changes state is a SQLite transaction, so the process may die anywhere:
 * the next engine on the same file continues (docs/engine.md).
 */
import { silentLogger, type Logger } from '../logger.js';
import { redact, redactValue, registerSecret } from '../redact.js';
import { B24RulesError } from '../errors.js';
import type { B24ClientApi } from '../client/types.js';
import type { CompiledRule, Facts } from '../rules/types.js';
import type { StateStore } from '../store/state-store.js';
import type { EffectRecord, RunRecord, RunStatus } from '../store/records.js';
import type { InboxItem, InboxItemInput } from '../store/types.js';
import { loadFacts, loadRecords, RecordCache, type LoadTarget, type RecordRefLike } from '../facts/loader.js';
import { TickReader } from '../facts/reader.js';
import { executeEffects } from '../executor/executor.js';
import { runIdentity } from '../executor/effect-key.js';
import { recoverInDoubt } from '../executor/recovery.js';
import type { Changes } from './changes.js';
import { evaluateRun, withVolatile, type EvalContext } from './evaluate.js';
import { planStage, type PlannedEffect } from './planner.js';
import { createStats } from './stats.js';
import { matchRules, triggerKeyOf, type RecordRef } from './trigger.js';
import type { CreateEngineOptions, EngineStats, EngineTuning, FetchLike, Plan, TickReport } from './types.js';
import { planItems as planItemsWith } from './plan-items.js';
import { RUN_META, rowRecord, updateTargets, type RunMeta, type RunWork } from './work.js';
import { expandRuns, type Expanded } from './expand.js';

/** @default values of EngineTuning */
export const DEFAULTS: Required<Omit<EngineTuning, 'env'>> = {
  maxItemsPerTick: 300,
  maxRunsPerTick: 1000,
  maxStagesPerTick: 8,
  backoffBaseMs: 2000,
  backoffMaxMs: 600_000,
  httpConcurrency: 4,
  lookupMarginMs: 600_000,
};

export interface Engine {
  readonly mode: 'run' | 'plan';
  /** Counters for /metrics. */
  readonly stats: EngineStats;
  /** One round: recover in-doubt calls, match ready items, load, evaluate, plan, execute, finish. */
  tick(): Promise<TickReport>;
  /** Dry-run of items through the same code path: reads happen, nothing is written or sent. */
  planItems(items: InboxItemInput[]): Promise<Plan>;
  /** Replace the rule set (hot reload). Runs in flight continue with the new version of their rule. */
  setRules(rules: CompiledRule[]): void;
  /** The rules the engine runs. */
  rules(): CompiledRule[];
}

/** Create the engine over a state store, a REST client and compiled rules. */
export function createEngine(options: CreateEngineOptions): Engine {
  return new RulesEngine(options);
}

const FINAL: RunStatus[] = ['done', 'skipped', 'failed', 'dead'];

/** Names of environment variables whose values are treated as secrets. */
const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;

/** Batch sub-command errors that mean "too fast", not "wrong" (API-FACTS §2). */
const LIMIT_ERRORS = /^(QUERY_LIMIT_EXCEEDED|OPERATION_TIME_LIMIT|OVERLOAD_LIMIT)\b/;


class RulesEngine implements Engine {
  readonly mode: 'run' | 'plan';
  readonly stats: EngineStats = createStats();
  readonly #store: StateStore;
  readonly #client: B24ClientApi;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #http: FetchLike | undefined;
  readonly #opts: Required<Omit<EngineTuning, 'env'>>;
  readonly #env: Record<string, string | undefined>;
  #rules = new Map<string, CompiledRule>();
  #ticking: Promise<TickReport> | undefined;
  /** Per tick: the records read, for update diffs. */
  #records = new RecordCache();

  constructor(o: CreateEngineOptions) {
    this.#store = o.store;
    this.#client = o.client;
    this.#clock = o.clock ?? o.store.now;
    this.#logger = o.logger ?? silentLogger;
    this.mode = o.mode ?? 'run';
    this.#http = o.http ?? (globalThis.fetch as unknown as FetchLike | undefined);
    const { env, ...tuning } = o.options ?? {};
    this.#opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) };
    this.#env = env ?? process.env;
    this.setRules(o.rules);
  }

  setRules(rules: CompiledRule[]): void {
    this.#rules = new Map(rules.map((r) => [r.id, r]));
    // Environment values with secret-looking names (API keys, tokens, shared secrets) never reach a log line or a trace.
    for (const r of rules) for (const name of r.env) if (SECRET_ENV_NAME.test(name)) registerSecret(this.#env[name]);
  }

  rules(): CompiledRule[] {
    return [...this.#rules.values()];
  }

  // ───────────────────────────── tick ─────────────────────────────

  /** One tick at a time: a second call while one runs gets the same promise (a concurrent tick would take in-flight calls for in-doubt ones). */
  tick(): Promise<TickReport> {
    if (!this.#ticking) {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
      });
    }
    return this.#ticking;
  }

  async #tick(): Promise<TickReport> {
    const report: TickReport = { items: 0, runsCreated: 0, held: 0, finished: { done: 0, skipped: 0, failed: 0, dead: 0 }, itemsFinished: 0, calls: 0, batches: 0, httpRequests: 0, recovered: 0, depth: 0 };
    this.stats.ticks += 1;
    if (this.mode === 'plan') {
      const ready = this.#store.inbox.ready(this.#opts.maxItemsPerTick);
      report.items = ready.length;
      report.plan = await this.planItems(ready);
      report.depth = this.#store.inbox.depth();
      return report;
    }
    const reader = new TickReader(this.#client);
    this.#records = new RecordCache();
    const onDone = (e: EffectRecord, result: unknown) => this.#onEffectDone(e, result);

    report.recovered = await recoverInDoubt({ store: this.#store, client: this.#client, logger: this.#logger, lookupMarginMs: this.#opts.lookupMarginMs, onDone });
    this.stats.effectsRecovered += report.recovered;

    const matched: Array<{ item: InboxItem; runs: Expanded[] }> = [];
    for (const item of this.#store.inbox.ready(this.#opts.maxItemsPerTick)) {
      report.items += 1;
      const runs = await this.#match(item, reader, report);
      if (runs) matched.push({ item, runs });
    }
    // One commit for the whole tick's matching: durable before anything is sent.
    this.#store.transaction(() => {
      for (const m of matched) report.runsCreated += this.#createRuns(m.item, m.runs);
    });

    this.#store.transaction(() => {
      for (const run of this.#store.runs.due(['waiting'], this.#opts.maxRunsPerTick)) {
        this.#store.effects.resetFailed(run.id);
        this.#store.runs.update(run.id, { status: 'active' });
      }
    });

    await this.#evaluateNew(reader, report);

    for (let stage = 0; stage < this.#opts.maxStagesPerTick; stage++) {
      this.#advance(report);
      const pending = this.#store.effects.pendingOfActiveRuns();
      if (pending.length === 0) break;
      const ex = await executeEffects(pending, {
        store: this.#store,
        client: this.#client,
        ...(this.#http ? { http: this.#http } : {}),
        logger: this.#logger,
        stats: this.stats,
        httpConcurrency: this.#opts.httpConcurrency,
        onDone,
      });
      report.calls += ex.calls;
      report.batches += ex.batches;
      report.httpRequests += ex.httpRequests;
      if (ex.transportError) break;
      if (stage === this.#opts.maxStagesPerTick - 1) this.#advance(report);
    }

    report.itemsFinished = this.#finishItems();
    report.calls += reader.commands;
    report.batches += reader.requests;
    this.stats.loadRequests += reader.requests;
    report.depth = this.#store.inbox.depth();
    return report;
  }

  #now(): number {
    return this.#clock();
  }

  #backoff(attempt: number): number {
    return Math.min(this.#opts.backoffMaxMs, this.#opts.backoffBaseMs * 4 ** Math.max(0, attempt - 1));
  }

  #volatile(rule: CompiledRule): Facts {
    const env: Record<string, string> = {};
    for (const name of rule.env) {
      const v = this.#env[name];
      if (v !== undefined) env[name] = v;
    }
    return { now: new Date(this.#now()).toISOString(), env };
  }

  // ── match: item → runs ──

  async #match(item: InboxItem, reader: TickReader, report: TickReport): Promise<Expanded[] | undefined> {
    const rules = matchRules(item, this.rules());
    const runs: Expanded[] = [];
    try {
      for (const rule of rules) runs.push(...(await expandRuns(item, rule, reader, this.#volatile(rule))));
    } catch (err) {
      const e = err instanceof B24RulesError ? err : new B24RulesError('MATCH_FAILED', (err as Error).message, { cause: err, kind: 'bug' });
      if (e.kind !== 'operational') {
        this.#store.transaction(() => {
          this.#store.dlq.add({ itemId: item.id, runId: null, ruleId: item.ruleId, error: redact(e.message), payload: redactValue(item.payload) });
          this.#store.inbox.finish(item.id, 'dead', e.message);
        });
        this.stats.eventsFailed += 1;
        report.itemsFinished += 1;
      } else {
        this.#store.inbox.retryLater(item.id, this.#now() + this.#backoff(Math.min(item.attempts + 1, 4)), e.message);
      }
      this.#logger.warn({ item: item.id, err: e }, 'matching an inbox item failed');
      return undefined;
    }
    return runs;
  }

  #createRuns(item: InboxItem, runs: Expanded[]): number {
    const triggerKey = triggerKeyOf(item);
    this.#store.transaction(() => {
      for (const r of runs) {
        this.#store.runs.create({
          itemId: item.id,
          ruleId: r.rule.id,
          ruleHash: r.rule.hash,
          triggerKey,
          recordKey: r.recordKey,
          facts: { ...r.facts, [RUN_META]: r.meta },
          trace: { trigger: { source: item.source, key: item.key, event: item.event, ruleId: item.ruleId }, rule: { id: r.rule.id, hash: r.rule.hash, file: r.rule.location.file } },
        });
      }
      this.#store.inbox.markRunning(item.id);
    });
    return runs.length;
  }

  // ── new runs: load, concurrency, evaluate ──

  #work(run: RunRecord, rule: CompiledRule, item: InboxItem): RunWork {
    const { [RUN_META]: meta, ...facts } = run.facts ?? {};
    return {
      runId: run.id,
      rule,
      item,
      triggerKey: run.triggerKey,
      recordKey: run.recordKey,
      meta: (meta as RunMeta | undefined) ?? {},
      facts,
      cursor: run.cursor,
      attempts: run.attempts,
      concurrencyKey: run.concurrencyKey,
      dedupeKey: run.dedupeKey,
      trace: run.trace,
    };
  }

  #evalContext(snapshots: Map<string, Record<string, unknown>>, readOnly: boolean): EvalContext {
    return {
      previous: (entity, id) => snapshots.get(`${entity}:${id}`) ?? this.#store.snapshots.get(entity, id)?.fields,
      remember: (entity, id, record) => {
        snapshots.set(`${entity}:${id}`, record);
        if (!readOnly) this.#store.snapshots.put(entity, id, record);
      },
      dedupeUsed: (ruleId, key) => this.#store.dedupe.has(ruleId, key),
      volatile: (work) => this.#volatile(work.rule),
      changeCache: new Map<string, Changes>(),
    };
  }

  async #evaluateNew(reader: TickReader, report: TickReport): Promise<void> {
    const fresh = this.#store.runs.due(['new'], this.#opts.maxRunsPerTick);
    if (fresh.length === 0) return;
    const inFlight = this.#store.runs.inFlightKeys();
    const works: RunWork[] = [];
    const items = new Map<number, InboxItem>();
    for (const run of fresh) {
      const item = items.get(run.itemId) ?? this.#store.inbox.get(run.itemId);
      if (!item) continue;
      items.set(item.id, item);
      const rule = this.#rules.get(run.ruleId);
      if (!rule) {
        this.#finishRun(run.id, 'skipped', report, { reason: `rule ${run.ruleId} is no longer loaded` });
        continue;
      }
      const work = this.#work(run, rule, item);
      // The default concurrency key is the record, known before loading: a held run costs no read.
      if (!rule.concurrency.key && rule.concurrency.mode !== 'parallel' && work.recordKey) {
        const verdict = this.#concurrency(work, work.recordKey, inFlight);
        if (verdict === 'hold') {
          report.held += 1;
          continue;
        }
        if (verdict === 'skip') {
          this.#finishRun(run.id, 'skipped', report, { reason: `concurrency: a run for ${work.recordKey} is in flight (mode skip)` });
          continue;
        }
      }
      works.push(work);
    }
    const targets: Array<LoadTarget & { work: RunWork }> = works.map((w) => {
      const ref = w.meta.record;
      const t: LoadTarget & { work: RunWork } = { work: w, rule: w.rule, facts: w.facts, loaded: [] };
      if (ref && ref.load !== false) t.record = ref;
      return t;
    });
    await loadFacts(targets, reader, this.#records);
    const ctx = this.#evalContext(new Map(), false);
    const preload: RecordRefLike[] = [];
    this.#store.transaction(() => this.#evaluateLoaded(targets, inFlight, ctx, preload, report));
    try {
      await loadRecords(preload, reader, this.#records);
    } catch (err) {
      // Without the record an update sends every field it names: correct, only less frugal.
      this.#logger.warn({ err }, 'loading update targets failed');
    }
  }

  #evaluateLoaded(targets: Array<LoadTarget & { work: RunWork }>, inFlight: Set<string>, ctx: EvalContext, preload: RecordRefLike[], report: TickReport): void {
    for (const t of targets) {
      const w = t.work;
      const runId = w.runId!;
      w.trace.loaded = redactValue(Object.fromEntries(t.loaded.map((n) => [n, w.facts[n]])));
      if (t.error) {
        if (t.transient) {
          // The portal is unreachable or busy: wait and read again, without spending the rule's retries.
          this.#store.runs.update(runId, { nextAttemptAt: this.#now() + this.#backoff(2), error: redact(t.error) });
          continue;
        }
        this.#failBeforeActions(w, t.error, 'operational', report);
        continue;
      }
      if (w.rule.concurrency.key && w.rule.concurrency.mode !== 'parallel') {
        const key = w.rule.concurrency.key.render(withVolatile(w, ctx));
        const k = key === undefined || key === null || key === '' ? null : String(key);
        if (k !== null) {
          const verdict = this.#concurrency(w, k, inFlight);
          if (verdict === 'hold') {
            // The key needed a read: look again a little later, not on every tick.
            this.#store.runs.update(runId, { nextAttemptAt: this.#now() + this.#opts.backoffBaseMs });
            report.held += 1;
            continue;
          }
          if (verdict === 'skip') {
            this.#finishRun(runId, 'skipped', report, { reason: `concurrency: a run for key ${k} is in flight (mode skip)` });
            continue;
          }
        }
      }
      this.#reuseChanges(w, ctx);
      const outcome = evaluateRun(w, ctx);
      if (outcome.kind === 'error') {
        this.#failBeforeActions(w, outcome.message, 'user', report);
        continue;
      }
      if (outcome.kind === 'skip') {
        this.#store.runs.update(runId, { trace: w.trace, facts: { ...w.facts, [RUN_META]: w.meta }, dedupeKey: w.dedupeKey });
        this.#finishRun(runId, 'skipped', report, { reason: outcome.reason });
        continue;
      }
      this.#store.runs.update(runId, {
        status: 'active',
        cursor: 0,
        facts: { ...w.facts, [RUN_META]: w.meta },
        trace: w.trace,
        dedupeKey: w.dedupeKey,
        concurrencyKey: w.concurrencyKey,
      });
      preload.push(...updateTargets(w, withVolatile(w, ctx)));
    }
  }

  /**
   * An item sent back from the DLQ is evaluated again, but the snapshot already
   * holds the record it brought: the change set its first run saw still applies.
   */
  #reuseChanges(w: RunWork, ctx: EvalContext): void {
    const ref = w.meta.record;
    if (!ref || (w.item.attempts ?? 0) < 2) return;
    const ck = `${w.item.id}|${ref.entity}:${ref.id}`;
    if (ctx.changeCache.has(ck)) return;
    for (const prior of this.#store.runs.forItem(w.item.id)) {
      const meta = prior.facts?.[RUN_META] as RunMeta | undefined;
      if (prior.id !== w.runId && meta?.changes) {
        ctx.changeCache.set(ck, meta.changes);
        return;
      }
    }
  }

  /** serial: hold while a run of the same rule and key is in flight; skip: drop; parallel: go. */
  #concurrency(w: RunWork, key: string, inFlight: Set<string>): 'go' | 'hold' | 'skip' {
    const k = `${w.rule.id}\u0000${key}`;
    w.concurrencyKey = key;
    if (w.rule.concurrency.mode === 'parallel') return 'go';
    if (inFlight.has(k)) return w.rule.concurrency.mode === 'skip' ? 'skip' : 'hold';
    inFlight.add(k);
    return 'go';
  }

  #failBeforeActions(w: RunWork, message: string, kind: 'user' | 'operational', report: TickReport): void {
    const runId = w.runId!;
    const attempts = w.attempts + 1;
    if (kind === 'operational' && attempts <= w.rule.onError.retries) {
      this.#store.runs.update(runId, { attempts, nextAttemptAt: this.#now() + this.#backoff(attempts), error: redact(message), trace: w.trace });
      return;
    }
    this.#store.runs.update(runId, { attempts, trace: { ...w.trace, error: redact(message) } });
    this.#deadLetter(runId, w.item, w.rule.id, message, report);
  }

  // ── active runs: settle the stage, plan the next one ──

  #advance(report: TickReport): void {
    // One commit for the whole pass: every planned call is in the ledger before the executor sends any.
    this.#store.transaction(() => this.#advanceAll(report));
  }

  #advanceAll(report: TickReport): void {
    for (const run of this.#store.runs.settledActive(100_000)) {
      const rule = this.#rules.get(run.ruleId);
      if (!rule) {
        this.#finishRun(run.id, 'failed', report, { reason: `rule ${run.ruleId} is no longer loaded` });
        continue;
      }
      const effects = this.#store.effects.forRun(run.id);
      const failed = effects.filter((e) => e.state === 'failed' && !e.final);
      if (failed.length) {
        this.#onFailure(run, rule, failed, report);
        continue;
      }
      this.#planNext(run, rule, effects, report);
    }
  }

  #onFailure(run: RunRecord, rule: CompiledRule, failed: EffectRecord[], report: TickReport): void {
    const error = failed.map((e) => `${e.method}: ${e.error ?? 'failed'}`).join('; ');
    const inDoubt = failed.some((e) => (e.error ?? '').startsWith('EFFECT_IN_DOUBT'));
    if (failed.every((e) => LIMIT_ERRORS.test(e.error ?? ''))) {
      // The portal's limits, not the rule: wait and send again without spending the rule's retries.
      this.#store.runs.update(run.id, { status: 'waiting', nextAttemptAt: this.#now() + this.#backoff(2), error: redact(error) });
      return;
    }
    const attempts = run.attempts + 1;
    if (!inDoubt && attempts <= rule.onError.retries) {
      this.#store.runs.update(run.id, { status: 'waiting', attempts, nextAttemptAt: this.#now() + this.#backoff(attempts), error: redact(error) });
      return;
    }
    this.#store.transaction(() => {
      this.#store.effects.finalizeFailed(run.id);
      this.#store.runs.update(run.id, { attempts, error: redact(error) });
    });
    const item = this.#store.inbox.get(run.itemId)!;
    switch (rule.onError.then) {
      case 'continue':
        // The failed calls' results are null; planning goes on with the next action.
        break;
      case 'stop':
        this.#finishRun(run.id, 'failed', report, { error });
        break;
      default:
        this.#deadLetter(run.id, item, rule.id, error, report);
    }
  }

  #planNext(run: RunRecord, rule: CompiledRule, effects: EffectRecord[], report: TickReport): void {
    const item = this.#store.inbox.get(run.itemId)!;
    const w = this.#work(run, rule, item);
    const facts: Facts = { ...w.facts, ...this.#volatile(rule) };
    const pendingNames = new Set<string>();
    for (const e of effects) {
      if (!e.asName) continue;
      if (e.state === 'done') facts[e.asName] = resultValue(e);
      else facts[e.asName] = null;
    }
    const identity = runIdentity(rule.id, w.triggerKey, w.recordKey, w.dedupeKey);
    const row = rowRecord(w);
    this.#store.transaction(() => {
      const stage = planStage({
        rule,
        identity,
        facts,
        cursor: w.cursor,
        pendingNames,
        records: this.#records,
        ...(row ? { rowRecord: row } : {}),
        pick: (key, users) => this.#store.positions.next(rule.id, key, users),
      });
      const actions = [...((w.trace.actions as unknown[]) ?? []), ...stage.trace];
      const persisted = { ...w.facts, ...stage.assigned, [RUN_META]: w.meta };
      let added = 0;
      const base = effects.length ? Math.max(...effects.map((e) => e.seq)) + 1 : 0;
      stage.effects.forEach((pe, n) => {
        if (this.#recordEffect(run.id, base + n, pe, persisted)) added++;
      });
      const trace = { ...w.trace, actions, ...(stage.waitingFor ? { waitingFor: stage.waitingFor } : {}) };
      if (stage.error) {
        this.#store.runs.update(run.id, { cursor: stage.cursor, facts: persisted, trace: { ...trace, error: stage.error.message } });
        this.#deadLetter(run.id, item, rule.id, stage.error.message, report);
        return;
      }
      const factsChanged = Object.keys(persisted).length !== Object.keys(w.facts).length + 1 || Object.keys(stage.assigned).length > 0;
      this.#store.runs.update(run.id, { cursor: stage.cursor, ...(factsChanged ? { facts: persisted } : {}), trace });
      if (stage.finished && added === 0) {
        this.#finishRun(run.id, 'done', report, stage.stopReason ? { reason: `stop: ${stage.stopReason}` } : {});
      }
    });
  }

  /** Put a planned call in the ledger. A key already there (a retry, a DLQ retry, a run sharing a dedupe key) is not sent twice. Returns whether this run must wait for it. */
  #recordEffect(runId: number, seq: number, pe: PlannedEffect, persisted: Facts): boolean {
    const meta: Record<string, unknown> = {};
    if (pe.call?.lookup) meta.lookup = pe.call.lookup;
    if (pe.call?.before) meta.before = pe.call.before;
    if (pe.call?.after) meta.after = pe.call.after;
    if (pe.call?.snapshot) meta.snapshot = pe.call.snapshot;
    if (pe.call?.resultPath) meta.resultPath = pe.call.resultPath;
    const { effect, existed } = this.#store.effects.record({
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
    if (!existed) return true;
    if (effect.state === 'done') {
      if (pe.asName) persisted[pe.asName] = resultValue(effect);
      return false;
    }
    if (effect.state === 'failed') {
      this.#store.effects.adopt(effect.id, runId, seq);
      return true;
    }
    // Pending or sent under another run (same dedupe key, still in flight): that run carries it.
    return false;
  }

  #onEffectDone(e: EffectRecord, _result: unknown): void {
    const snap = e.meta?.snapshot as { entity: string; id: string; fields: Record<string, unknown> } | undefined;
    if (snap) {
      this.#store.snapshots.merge(snap.entity, snap.id, snap.fields);
      this.#records.merge(snap.entity, snap.id, snap.fields);
    }
  }

  #deadLetter(runId: number, item: InboxItemInput & { id: number }, ruleId: string, error: string, report: TickReport): void {
    this.#store.transaction(() => {
      this.#store.dlq.add({ itemId: item.id, runId, ruleId, error: redact(error), payload: redactValue(item.payload) });
      this.#finishRun(runId, 'dead', report, { error });
    });
    this.#logger.warn({ run: runId, rule: ruleId, item: item.id, error }, 'run dead-lettered');
  }

  #finishRun(runId: number, status: 'done' | 'skipped' | 'failed' | 'dead', report: TickReport, note: { reason?: string; error?: string }): void {
    this.#store.transaction(() => {
      const run = this.#store.runs.get(runId);
      if (!run || FINAL.includes(run.status)) return;
      const effects = this.#store.effects.forRun(runId).map((e) => ({
        key: e.effectKey,
        method: e.method,
        params: redactValue(e.params),
        state: e.state,
        ...(e.result !== null ? { result: redactValue(e.result) } : {}),
        ...(e.error ? { error: redact(e.error) } : {}),
        attempts: e.attempts,
      }));
      const trace = { ...run.trace, effects, outcome: status, ...(note.reason ? { reason: note.reason } : {}), ...(note.error ? { error: redact(note.error) } : {}) };
      this.#store.runs.update(runId, { status, trace, ...(note.error ? { error: redact(note.error) } : {}) });
      if (status === 'done' && run.dedupeKey) this.#store.dedupe.put(run.ruleId, run.dedupeKey, runId);
    });
    report.finished[status] += 1;
    this.stats.runs[status] += 1;
  }

  #finishItems(): number {
    const settled = this.#store.runs.settledItems();
    this.#store.transaction(() => {
      for (const s of settled) {
        this.#store.inbox.finish(s.itemId, s.dead > 0 ? 'dead' : 'done', s.dead > 0 ? 'a run was dead-lettered' : null);
        if (s.dead > 0) this.stats.eventsFailed += 1;
        else this.stats.eventsProcessed += 1;
      }
    });
    return settled.length;
  }

  // ───────────────────────────── dry-run ─────────────────────────────

  async planItems(inputs: InboxItemInput[]): Promise<Plan> {
    return planItemsWith(
      {
        client: this.#client,
        rules: this.rules(),
        store: this.#store,
        now: this.#now(),
        volatile: (rule) => this.#volatile(rule),
        evalContext: this.#evalContext(new Map(), true),
      },
      inputs,
    );
  }
}

/** The value of an effect's `as`: the result, or the part named by the call's resultPath. */
function resultValue(e: EffectRecord): unknown {
  const path = e.meta?.resultPath as string[] | undefined;
  let v: unknown = e.result;
  if (path) for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v ?? null;
}

export type { RecordRef };
