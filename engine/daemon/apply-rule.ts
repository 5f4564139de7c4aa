/**
 * `rules apply RULE`: run one manual or bulk rule now. Always plans first
 * (the dry-run path: read-only client, nothing written) and checks the
 * `--max-records` guard on the plan; only then, when asked, stores the run in
 * the state file's inbox and drives the engine until it is finished. The
 * executed rule carries the guard as its `foreach.max_records`, so rows that
 * appeared between plan and run cannot make it touch more.
 */
import { systemClock, type Clock } from '../clock.js';
import { authConnectorFor } from '../config.js';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redact } from '../redact.js';
import { createClient, type ClientConfig, type ClientEvent } from '../client/index.js';
import { createEngine } from '../pipeline/index.js';
import { dryRun, type PlanDocument, type RatePlan } from '../plan/index.js';
import type { CompiledRule } from '../rules/index.js';
import { manualPlugin } from '../sources/index.js';
import { openStateStore, type InboxItemInput, type RunRecord } from '../store/index.js';

const FINAL_RUN = new Set(['done', 'skipped', 'failed', 'dead']);

export const DEFAULTS = {
  /** Longest time `executeApply` drives the engine before giving up (the work stays in the inbox). @default 10 min */
  timeoutMs: 10 * 60_000,
  /** Wait between engine ticks while nothing moved. @default 200 ms */
  idleWaitMs: 200,
};

export class ApplyError extends B24RulesError {
  constructor(code: 'RULE_NOT_FOUND' | 'RULE_NOT_APPLICABLE' | 'RULE_DISABLED' | 'APPLY_NOT_STORED', message: string) {
    super(code, message, { kind: 'user' });
  }
}

export interface ApplyTarget {
  rule: CompiledRule;
  params: Record<string, unknown>;
  /** Refuse a run that would touch more rows than this. */
  maxRecords?: number;
}

/** Find a rule that `apply` may run: manual, or a schedule run now. */
export function findApplicableRule(rules: CompiledRule[], ruleId: string): CompiledRule {
  const rule = rules.find((r) => r.id === ruleId);
  const manual = rules.filter((r) => r.trigger.kind === 'manual').map((r) => r.id);
  if (!rule) throw new ApplyError('RULE_NOT_FOUND', `no rule '${ruleId}' in the rule files${manual.length ? `; manual rules: ${manual.join(', ')}` : ''}`);
  if (rule.trigger.kind !== 'manual' && rule.trigger.kind !== 'schedule') {
    throw new ApplyError('RULE_NOT_APPLICABLE', `rule '${ruleId}' has a ${rule.trigger.kind} trigger; apply runs manual rules and schedules (now)${manual.length ? `; manual rules: ${manual.join(', ')}` : ''}`);
  }
  if (!rule.enabled) throw new ApplyError('RULE_DISABLED', `rule '${ruleId}' is disabled (enabled: false)`);
  return rule;
}

/** The inbox item of an apply: a manual run with its params, or a schedule tick at `now`. */
export function applyItem(rule: CompiledRule, params: Record<string, unknown>, now: number, key?: string): InboxItemInput {
  if (rule.trigger.kind === 'schedule') {
    const at = new Date(now).toISOString();
    return { source: 'schedule', key: key ?? `${rule.id}@${at}`, event: null, ruleId: rule.id, payload: { schedule: { at, cron: rule.trigger.cron, timezone: rule.trigger.timezone, applied: true } }, receivedAt: now };
  }
  return { source: 'manual', key: key ?? `${rule.id}:${now}:${Math.random().toString(36).slice(2, 10)}`, event: null, ruleId: rule.id, payload: { params }, receivedAt: now };
}

/** The rule with the guard applied to its `foreach` (the smaller of the two limits). */
export function guarded(rule: CompiledRule, maxRecords: number | undefined): CompiledRule {
  if (maxRecords === undefined || !rule.foreach) return rule;
  return { ...rule, foreach: { ...rule.foreach, maxRecords: Math.min(rule.foreach.maxRecords, maxRecords) } };
}

export interface PlanApplyResult {
  plan: PlanDocument;
  /** Rows (rule runs) the plan touches. */
  rows: number;
  /** Set when the guard refuses the run. */
  refused?: string;
}

/** Plan the apply through the dry-run path. Nothing is written. */
export async function planApply(options: {
  target: ApplyTarget;
  ruleFiles: string[];
  config: ClientConfig;
  ratePlan: RatePlan;
  env?: Record<string, string | undefined>;
  now?: number;
  /** Told of the planning client's events (requests, waits): progress. */
  onClientEvent?: (event: ClientEvent) => void;
}): Promise<PlanApplyResult> {
  const { rule, params, maxRecords } = options.target;
  const at = options.now ?? Date.now();
  const item = applyItem(rule, params, at, `plan:${rule.id}`);
  const { plan } = await dryRun({
    rules: [rule],
    ruleFiles: options.ruleFiles,
    items: [item],
    at,
    events: 0,
    scheduleTicks: item.source === 'schedule' ? [{ rule: rule.id, at: new Date(at).toISOString() }] : [],
    portal: { kind: 'live', config: options.config, label: redact(options.config.baseUrl) },
    ratePlan: options.ratePlan,
    ...(options.env ? { env: options.env } : {}),
    ...(options.onClientEvent ? { onClientEvent: options.onClientEvent } : {}),
  });
  const rows = plan.firings.filter((f) => f.rule === rule.id && !f.error).length;
  const result: PlanApplyResult = { plan, rows };
  if (maxRecords !== undefined && rows > maxRecords) {
    result.refused = `rule ${rule.id} would touch ${rows} rows, more than --max-records ${maxRecords}; narrow the rule's filter (or the params) or raise --max-records`;
  }
  return result;
}

export interface ExecuteApplyResult {
  runs: RunRecord[];
  calls: { done: number; failed: number };
  ok: boolean;
  /** True when the timeout ended the wait (the item stays in the inbox; a daemon finishes it). */
  timedOut: boolean;
  /** True when the signal stopped it after a tick (the rest stays in the inbox; a daemon finishes it). */
  interrupted: boolean;
}

/** Where an apply stands after a tick. */
export interface ApplyProgress {
  /** Runs of the apply so far (one per row of a foreach), and how many of them reached a final state. */
  runs: number;
  finished: number;
  /** Calls carried out and failed since the apply started. */
  calls: { done: number; failed: number };
}

/** Store the run in the state file's inbox and drive the engine until every run of it is final. */
export async function executeApply(options: {
  target: ApplyTarget;
  config: ClientConfig;
  statePath: string;
  logger: Logger;
  env?: Record<string, string | undefined>;
  /** OAuth: the connector key. @default CONFIG_DEFAULTS.authConnector (engine/config.ts) */
  authConnector?: string;
  timeoutMs?: number;
  /** The one clock of the apply: state store, client, engine and the wait. @default systemClock */
  clock?: Clock;
  /** Told of the client's events (requests, rate-limit waits) as they happen: progress. */
  onEvent?: (event: ClientEvent) => void;
  /** Told after each engine tick and each batch answered: progress. */
  onProgress?: (progress: ApplyProgress) => void;
  /** Once aborted, the apply stops after the tick in flight (every call of it answered and recorded); the rest stays queued. */
  signal?: AbortSignal;
  /** Runs started per engine tick (EngineTuning.maxRunsPerTick): smaller ticks stop sooner after an abort. @default the engine's */
  runsPerTick?: number;
}): Promise<ExecuteApplyResult> {
  const { rule, params, maxRecords } = options.target;
  const clock = options.clock ?? systemClock;
  const connector = authConnectorFor(options.config, options.authConnector);
  const env = options.env ?? process.env;
  const store = openStateStore(options.statePath, { now: () => clock.now() });
  const baseline = store.effects.countByState();
  let itemId: number | undefined;
  const report = (): void => {
    if (!options.onProgress || itemId === undefined) return;
    const runs = store.runs.summaries({ itemId, limit: 1_000_000 });
    const effects = store.effects.countByState();
    options.onProgress({
      runs: runs.length,
      finished: runs.filter((r) => FINAL_RUN.has(r.status)).length,
      calls: { done: effects.done - baseline.done, failed: effects.failed - baseline.failed },
    });
  };
  const onEvent = (e: ClientEvent): void => {
    options.onEvent?.(e);
    if (e.type === 'batch') report();
  };
  const client = createClient(options.config, { clock, logger: options.logger.child({ component: 'client' }), onEvent, ...(connector ? { authConnector: connector } : {}) });
  try {
    const engine = createEngine({
      store,
      client,
      rules: [guarded(rule, maxRecords)],
      clock: () => clock.now(),
      logger: options.logger.child({ component: 'engine' }),
      mode: 'run',
      options: { env, ...(options.runsPerTick !== undefined ? { maxRunsPerTick: options.runsPerTick } : {}) },
    });
    const manual = await manualPlugin.attach({
      inbox: store.inbox,
      logger: options.logger,
      clock,
      setup: { authMode: options.config.auth.mode, ...(connector ? { authConnector: connector } : {}), env },
      rules: [rule],
      client,
      schedules: store.schedules,
      attached: () => undefined,
    });
    const item = applyItem(rule, params, clock.now());
    if (item.source === 'manual') manual.submit(rule.id, params, { key: item.key });
    else store.inbox.add([item]);
    const stored = store.inbox.list({ source: item.source, limit: 20 }).find((i) => i.key === item.key);
    if (!stored) throw new ApplyError('APPLY_NOT_STORED', `the run of ${rule.id} was not stored in ${options.statePath}`);
    itemId = stored.id;
    const deadline = clock.now() + (options.timeoutMs ?? DEFAULTS.timeoutMs);
    let timedOut = false;
    let interrupted = false;
    for (;;) {
      const ticked = await engine.tick();
      report();
      const now = store.inbox.get(stored.id);
      if (now && (now.status === 'done' || now.status === 'dead')) break;
      // Between ticks only: every call of the tick is answered and in the ledger, the rest is queued work.
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (clock.now() > deadline) {
        timedOut = true;
        break;
      }
      const busy = ticked.items + ticked.runsCreated + ticked.calls > 0;
      if (!busy) await clock.sleep(DEFAULTS.idleWaitMs);
    }
    if (item.source === 'manual') await manual.acknowledge();
    await manual.detach();
    const runs = store.runs.list({ itemId: stored.id, limit: 100_000 });
    let done = 0;
    let failed = 0;
    for (const run of runs) {
      for (const e of store.effects.forRun(run.id)) {
        if (e.state === 'done') done++;
        else if (e.state === 'failed') failed++;
      }
    }
    const ok = !timedOut && !interrupted && runs.every((r) => r.status === 'done' || r.status === 'skipped');
    return { runs, calls: { done, failed }, ok, timedOut, interrupted };
  } finally {
    await client.close();
    store.close();
  }
}
