/**
 * The plan document: what `rules dry-run` prints and saves (`--out plan.json`)
 * and what `rules apply --plan` carries out. It is built from the engine's
 * `Plan` (engine/pipeline/) by `toPlanDocument`, sorted so that the same rules,
 * inputs and portal data always give byte-identical output.
 */

/** Bumped on any incompatible change of the JSON shape. */
export const PLAN_FORMAT_VERSION = 1;

export type RatePlan = 'standard' | 'enterprise';

/** One REST call the plan would make. */
export interface PlanCall {
  method: string;
  params: Record<string, unknown>;
  /** From the method catalog; unknown methods count as writes. */
  kind: 'read' | 'write';
  /** Effect key (stable identity of the intended call), when the engine gave one. */
  key?: string;
  /** The action that planned it: its kind and 0-based index in the rule. */
  action?: { kind: string; index: number };
  /** Updates: every field sent, with the value read before and the value to be written. */
  changes?: PlanFieldChange[];
}

export interface PlanFieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** One rule matched by one trigger (and one record, for foreach rules). */
export interface PlanFiring {
  rule: string;
  /** Rule file and line, for annotations. */
  file?: string;
  line?: number;
  trigger: PlanTrigger;
  record?: PlanRecordRef;
  /** The condition's value and, when false, the part that was false. Null when the rule has no condition. */
  condition: { value: boolean; reason?: string } | null;
  /** Why the run does nothing although it matched (dedupe key used, a `stop`, nothing to change...). */
  skipped?: string;
  /** False when the event did not hold as the trigger asks (`changed:` not met, or no real change): the rule did not fire. */
  trigger_held?: false;
  /** Planning stopped before this action (1-based): a later action needs the answer of a call a dry-run does not make. */
  stopped_at_action?: number;
  /** An error that stopped planning this run (a failed read, a template error...). */
  error?: { code: string; message: string };
  /** Timers the run would start (a `delay:` it reaches, its trigger's `for:`), and when they would fire. */
  timers?: PlanTimer[];
  /** The names the rule wrote instead of IDs and the IDs they stand for (resolved from the portal snapshot at load). */
  names?: PlanName[];
  /** `shadow`: the run of a `mode: shadow` rule; its calls would be journaled, never sent (no batch has them, no summary count of writes). */
  mode?: 'shadow';
  calls: PlanCall[];
}

/** A name a rule wrote and its ID: `{ name: "Renewals / Renewed", id: "C1:WON" }`. */
export interface PlanName {
  kind: 'field' | 'stage' | 'user' | 'pipeline' | 'value';
  name: string;
  id: string | number;
  /** JSON pointer of the place in the rule. */
  path: string;
  line: number;
}

/** A timer a change would start. */
export interface PlanTimer {
  kind: 'delay' | 'for' | 'wait_for';
  /** The delay or wait_for action (1-based). */
  action?: number;
  /** ISO 8601, UTC. */
  fires_at: string;
  /** What it waits for: `2h of office hours`, `14d while STAGE_ID is "C1:NEGOTIATION"`. */
  wait: string;
  /** The condition is checked again when it fires. */
  recheck?: true;
}

export interface PlanTrigger {
  kind: string;
  /** Bitrix24 event name, for event triggers. */
  event?: string;
  /** Identity of the work item (message id, schedule tick...). */
  key: string;
  /** Schedule tick or event time, ISO 8601. */
  at?: string;
}

export interface PlanRecordRef {
  entity: string;
  id: string;
  title?: string;
}

/** A batch request the executor would send. */
export interface PlanBatch {
  /** 1-based position. */
  index: number;
  /** Indexes into the flat call list: `[firingIndex, callIndex]`. */
  calls: Array<[number, number]>;
}

/** A record the plan was computed from, so `apply --plan` can refuse a plan made on stale data. */
export interface PlanRead {
  entity: string;
  id: string;
  /** The record's DATE_MODIFY (or task `changedDate`), when it has one. */
  date_modify?: string;
  /** sha256 of the canonical JSON of the fields read (`fields`), always present. */
  hash: string;
  /** The field names the hash covers (a list read may have selected only some). */
  fields: string[];
}

export interface PlanEstimate {
  plan: RatePlan;
  /** Leaky bucket: requests allowed before throttling, and drain rate per second. */
  burst: number;
  rate_per_second: number;
  /** HTTP requests: the reads the planning needed, plus one per write batch. */
  read_requests: number;
  write_requests: number;
  http_requests: number;
  /** Seconds to send them at the limit from an idle bucket (0 when all fit in the burst). */
  seconds: number;
}

export interface PlanSummary {
  /** Rule runs considered (matched trigger). */
  firings: number;
  /** Runs that would make at least one write. */
  acting: number;
  calls: number;
  writes: number;
  errors: number;
  /** Write calls per method, sorted by method. */
  by_method: Record<string, number>;
  /** Calls of shadow runs (journaled, never sent; not in `calls` nor `writes`), when there are any. */
  shadow_calls?: number;
}

export interface PlanDocument {
  format_version: typeof PLAN_FORMAT_VERSION;
  /** The clock the plan was computed with (`--at`, or the time of the dry-run). */
  at: string;
  source: { mode: 'fixtures' | 'live'; fixtures?: string; portal?: string };
  rules: { count: number; files: string[]; ids: string[] };
  inputs: { events: number; schedule_ticks: Array<{ rule: string; at: string }> };
  summary: PlanSummary;
  firings: PlanFiring[];
  batches: PlanBatch[];
  estimate: PlanEstimate;
  reads: PlanRead[];
}

/** Output formats of `rules dry-run --format`. */
export type PlanFormat = 'text' | 'json' | 'github' | 'markdown';
