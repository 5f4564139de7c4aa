/**
 * Row shapes of the state store beyond the inbox contract (engine/store/types.ts):
 * runs, the effect ledger, snapshots and the dead-letter queue.
 */

/**
 * A run is one rule acting on one trigger (and, for `foreach`, one row).
 * new: matched, not yet loaded/evaluated; active: evaluated, actions being planned
 * and executed stage by stage; waiting: a call failed, retry at `nextAttemptAt`;
 * delayed: stopped at a `delay:` action, goes on (back to `new`) when its timer fires
 * (`nextAttemptAt` is the timer's due time; its item is finished meanwhile);
 * final states: done, skipped (condition false, dedupe, concurrency skip, no change),
 * failed (`on_error.then: stop`), dead (dead-lettered).
 */
export type RunStatus = 'new' | 'active' | 'waiting' | 'delayed' | 'done' | 'skipped' | 'failed' | 'dead';

/** How a run acted: `live` sends its calls, `shadow` only journals them (a `mode: shadow` rule). */
export type RunMode = 'live' | 'shadow';

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['done', 'skipped', 'failed', 'dead'];

export interface RunRecord {
  id: number;
  itemId: number;
  ruleId: string;
  ruleHash: string;
  triggerKey: string;
  recordKey: string;
  concurrencyKey: string | null;
  dedupeKey: string | null;
  status: RunStatus;
  /** Index of the next action to plan. */
  cursor: number;
  attempts: number;
  nextAttemptAt: number;
  /** Facts the run continues with after a restart (loaded records, let values, trigger data). Never contains env values. */
  facts: Record<string, unknown> | null;
  /**
   * The journal entry (redacted): trigger, loaded data, condition, planned calls, responses.
   * A compact skipped run (see `reason`) stores none; reading it gives `{ outcome, reason }`.
   */
  trace: Record<string, unknown>;
  error: string | null;
  /** Why the run ended as it did when that is not an error: the skip reason (`condition false: ...`, `dedupe: ...`) or a `stop`. */
  reason: string | null;
  /** `shadow`: the run of a `mode: shadow` rule, whose calls were journaled (effect state `shadow`) and never sent. */
  mode: RunMode;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** A run without its facts and trace: the small columns that lists, the run log and metrics read. */
export type RunSummary = Omit<RunRecord, 'facts' | 'trace'>;

/** Where a run stands between ticks: what planning, retries and finishing need to know before decoding it. */
export interface ActiveRunRef {
  id: number;
  itemId: number;
  ruleId: string;
  attempts: number;
}

export interface NewRun {
  itemId: number;
  ruleId: string;
  ruleHash: string;
  triggerKey: string;
  recordKey: string;
  concurrencyKey?: string | null;
  dedupeKey?: string | null;
  /** @default 'new'; a final status stamps the finish time and number as an update to it would. */
  status?: RunStatus;
  /** Index of the next action to plan. @default 0 */
  cursor?: number;
  attempts?: number;
  nextAttemptAt?: number;
  facts?: Record<string, unknown> | null;
  trace?: Record<string, unknown>;
  error?: string | null;
  reason?: string | null;
  /** @default 'live' */
  mode?: RunMode;
}

export type RunPatch = Partial<Pick<RunRecord, 'status' | 'cursor' | 'attempts' | 'nextAttemptAt' | 'facts' | 'trace' | 'error' | 'reason' | 'concurrencyKey' | 'dedupeKey'>>;

export interface RunFilter {
  ruleId?: string;
  /** Only runs that ended failed or dead. */
  failed?: boolean;
  status?: RunStatus | RunStatus[];
  itemId?: number;
  /** @default 50 */
  limit?: number;
  /** Runs with an id below this (paging, newest first). */
  beforeId?: number;
  /** Only runs about this record (`lead:42`). */
  recordKey?: string;
  /** Only runs created at or after this time (ms). */
  createdFrom?: number;
  /** Only runs created before this time (ms). */
  createdTo?: number;
  /** Only live runs, or only shadow runs. */
  mode?: RunMode;
}

/** A rule's runs created in the last hour and day, by status (the web console's rules page). */
export interface RuleRunCounts {
  ruleId: string;
  status: RunStatus;
  hour: number;
  day: number;
}

/**
 * pending: recorded, not sent; sent: handed to the portal, answer not yet recorded (in doubt after a crash); done; failed;
 * shadow: a shadow run's call, journaled and final at once, never sent (nothing sends, recovers or looks up one).
 */
export type EffectState = 'pending' | 'sent' | 'done' | 'failed' | 'shadow';

/** What to do with an effect found `sent` after a crash (see docs/engine.md). */
export type RecoveryMode = 'resend' | 'lookup' | 'at-most-once' | 'none';

export interface EffectRecord {
  id: number;
  effectKey: string;
  runId: number;
  seq: number;
  actionIndex: number;
  /** Action kind that planned the call (update, comment, http...). */
  kind: string;
  /** REST method, or `http` for an external request. */
  method: string;
  params: Record<string, unknown>;
  asName: string | null;
  recovery: RecoveryMode;
  /** Kind-specific data: lookup query for recovery, before/after of updates, snapshot merge. */
  meta: Record<string, unknown> | null;
  state: EffectState;
  /** A failed effect that will not be retried (budget spent, or in doubt without a safe check). */
  final: boolean;
  result: unknown;
  error: string | null;
  /** Stable code of the failure: the portal's error code (QUERY_LIMIT_EXCEEDED) or the engine's (EFFECT_IN_DOUBT, HTTP_STATUS). */
  errorCode: string | null;
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  doneAt: number | null;
}

/**
 * A call as planning the next round and finishing the run read it: no params, and the
 * result and meta only of a call whose result the run names (`as`; null otherwise).
 */
export type EffectOutcome = Omit<EffectRecord, 'params' | 'recovery' | 'createdAt' | 'sentAt' | 'doneAt'>;

export interface NewEffect {
  effectKey: string;
  runId: number;
  seq: number;
  actionIndex: number;
  kind: string;
  method: string;
  params: Record<string, unknown>;
  asName?: string | null;
  recovery: RecoveryMode;
  meta?: Record<string, unknown> | null;
  /** A shadow run's call: stored in state `shadow` with this result (its placeholder), never pending. */
  shadow?: { result: unknown };
}

/** Why a call failed: a stable code to branch on, and a message for people (redacted where shown). */
export interface EffectFailure {
  code: string;
  message: string;
}

export interface Snapshot {
  entity: string;
  id: string;
  fields: Record<string, unknown>;
  updatedAt: number;
}

export interface DlqEntry {
  id: number;
  itemId: number;
  runId: number | null;
  ruleId: string | null;
  error: string;
  payload: Record<string, unknown>;
  createdAt: number;
}
