/** Public types of the pipeline: engine options, the tick report, the dry-run plan. */
import type { Logger } from '../logger.js';
import type { B24ClientApi } from '../client/index.js';
import type { CompiledRule } from '../rules/index.js';
import type { InboxItemInput, StateStore } from '../store/index.js';

export interface Engine {
  readonly mode: 'run' | 'plan';
  /** Counters for /metrics. */
  readonly stats: EngineStats;
  /** One round: recover in-doubt calls, match ready items, load, evaluate, plan, record, execute, finish. */
  tick(): Promise<TickReport>;
  /** Dry-run of items through the same stages, stopped after plan: reads happen, nothing is written or sent. */
  planItems(items: InboxItemInput[]): Promise<Plan>;
  /** Replace the rule set (hot reload). Runs in flight continue with the new version of their rule. */
  setRules(rules: CompiledRule[]): void;
  /** The rules the engine runs. */
  rules(): CompiledRule[];
}

/** A fetch-like function for `http` actions (global fetch, undici's fetch, or a test double). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface EngineTuning {
  /** Inbox items taken per tick. @default 300 */
  maxItemsPerTick?: number;
  /** New runs loaded and evaluated per tick. @default 1000 */
  maxRunsPerTick?: number;
  /** Plan → execute rounds per tick (a run with an http action and a comment on its answer needs two). @default 8 */
  maxStagesPerTick?: number;
  /** First retry delay of a failing run (ms); multiplied by 4 per attempt, capped by backoffMaxMs. @default 2000 */
  backoffBaseMs?: number;
  /** @default 600000 */
  backoffMaxMs?: number;
  /** Parallel external http requests. @default 4 */
  httpConcurrency?: number;
  /** Values for `env.NAME` (only names a rule lists under `env:` are visible to it). @default process.env */
  env?: Record<string, string | undefined>;
  /** How far back from the first send an in-doubt create's lookup accepts a record (clock skew with the portal, ms). @default 600000 */
  lookupMarginMs?: number;
  /**
   * How long a create in doubt may still land on the portal after it was sent (ms): one whose lookup finds
   * nothing is sent again only when a lookup made this long after the first send still finds nothing.
   * The longest a request may be in flight: the client's request timeout. @default 60000
   */
  inDoubtSettleMs?: number;
  /**
   * First retry delay (ms) of a workflow start the portal refused because two workflows already run on the
   * record (WORKFLOW_LIMIT): multiplied by 4 per attempt, capped by backoffMaxMs; the rule's retries are spent. @default 60000
   */
  workflowLimitBackoffMs?: number;
}

export interface CreateEngineOptions {
  store: StateStore;
  client: B24ClientApi;
  rules: CompiledRule[];
  /** The one clock (ms since epoch) for `now`, durations, backoff. Pass the store's clock. @default store.now */
  clock?: () => number;
  /** @default silent */
  logger?: Logger;
  /** `run` executes; `plan` stops after planning (tick returns the plan, nothing is written). @default 'run' */
  mode?: 'run' | 'plan';
  /** For `http` actions. @default globalThis.fetch */
  http?: FetchLike;
  options?: EngineTuning;
}

export interface TickReport {
  /** Inbox items taken and matched this tick. */
  items: number;
  /** Runs created by matching. */
  runsCreated: number;
  /** New runs held back because their concurrency key had a run in flight (serial). */
  held: number;
  /** Runs that reached a final state this tick, by outcome. */
  finished: { done: number; skipped: number; failed: number; dead: number };
  /** Items finished (done or dead). */
  itemsFinished: number;
  /** REST calls sent (inside batches) and batch requests, for reads and writes. */
  calls: number;
  batches: number;
  httpRequests: number;
  /** In-doubt effects resolved at the start of the tick. */
  recovered: number;
  /** Creates in doubt not found yet whose first send may still land (inDoubtSettleMs): their runs wait. */
  inDoubt?: number;
  /** Items still pending or running. */
  depth: number;
  /** Timers that fired at the start of the tick (delays going on, `for:` states that held). */
  timersFired?: number;
  /** Runs woken by the event their wait_for waited for. */
  waitsEnded?: number;
  /**
   * When the earliest pending timer is due, or a create in doubt may be sent again if still not found
   * (ms since epoch, whichever comes first), null when neither: the daemon wakes up for it.
   */
  nextTimerAt?: number | null;
  /** In plan mode: the plan of the ready items (nothing written). */
  plan?: Plan;
}

/** Counters for /metrics (monotonic since the engine was created). */
export interface EngineStats {
  ticks: number;
  eventsProcessed: number;
  eventsFailed: number;
  runs: { done: number; skipped: number; failed: number; dead: number };
  restCalls: number;
  batches: number;
  httpRequests: number;
  httpFailures: number;
  effectsDone: number;
  effectsFailed: number;
  effectsRecovered: number;
  loadRequests: number;
}

export interface PlanCallOut {
  method: string;
  params: Record<string, unknown>;
  kind: 'read' | 'write';
  key: string;
  action: { kind: string; index: number };
  /** Updates: field, value before, value after. */
  changes?: Array<{ field: string; before: unknown; after: unknown }>;
}

/** A timer a dry-run shows: what it waits for and when it would fire (ms since epoch). */
export interface PlanTimerOut {
  kind: 'delay' | 'for' | 'wait_for';
  /** The delay or wait_for action (0-based). */
  action?: number;
  /** When it fires (a wait_for: when its timeout comes, unless its event comes first). */
  dueAt: number;
  /** `2h of office hours`, `until 2026-12-01T09:00:00.000Z`, `14d while STAGE_ID is "C1:NEGOTIATION"`. */
  wait: string;
  recheck?: boolean;
}

/** One rule matched by one trigger (and record). Mirrors engine/plan PlanFiring. */
export interface PlanFiringOut {
  rule: string;
  file?: string;
  line?: number;
  trigger: { kind: string; event?: string; key: string; at?: string };
  record?: { entity: string; id: string; title?: string };
  condition: { value: boolean; reason?: string } | null;
  skipped?: string;
  /** False when the event did not hold as the trigger asks (`changed:` not met, or no real change): the rule did not fire. */
  triggerHeld?: false;
  error?: { code: string; message: string };
  /** Why planning stopped before the end (an action needs the result of an http/REST call that a dry-run does not make). */
  stoppedAt?: { action: number; reason: string };
  /** Timers the run would start: a `delay:` it reaches, or the `for:` of its trigger; when they would fire. */
  timers?: PlanTimerOut[];
  /** The run of a `mode: shadow` rule: its calls are journaled, never sent (in no write batch). */
  shadow?: true;
  calls: PlanCallOut[];
}

/** What a dry-run of some inbox items would do. */
export interface Plan {
  at: string;
  firings: PlanFiringOut[];
  /** Write batches the executor would send: indexes `[firing, call]`, at most 50 per batch. */
  batches: Array<{ index: number; calls: Array<[number, number]> }>;
  /** Read requests (batches and list pages) the planning made. */
  readRequests: number;
}
