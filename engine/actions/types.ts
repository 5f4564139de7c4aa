/**
 * The contract of an action kind: a pure `plan(config, ctx)` from the rendered
 * options and the loaded facts to what the action wants done. Only the executor
 * sends; dry-run stops after planning, so the plan is the trace.
 */
import type { Params } from '../client/index.js';
import type { EntityName } from '../rules/index.js';
import type { RecoveryMode } from '../store/index.js';

/** How to find, after a crash, what an in-doubt create made (see docs/engine.md). */
export interface LookupSpec {
  method: string;
  params: Params;
  /** Where the rows are in the result (`[]` for an array result, `['tasks']` for tasks.task.list). */
  rows: string[];
  /** Row fields that must equal these values (loose string comparison). */
  match?: Record<string, unknown>;
  /** A row field holding the creation time; rows created before the first send (minus a margin) do not count. */
  createdField?: string;
  /** How to turn the found row into the result the create would have returned. */
  result: 'id-number' | 'id-string' | 'id-object' | 'task' | 'item' | 'row';
}

export interface PlannedCall {
  method: string;
  params: Params;
  /** What to do with this call if it is found `sent` after a crash. */
  recovery: RecoveryMode;
  lookup?: LookupSpec;
  /** Updates: the changed fields' old and new values. */
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** Updates: fields to merge into the record's snapshot once done (so the engine's own change is not a change). */
  snapshot?: { entity: EntityName; id: string; fields: Record<string, unknown>; /** An item's smart-process type. */ entityTypeId?: number };
  /** How the REST result becomes the value of `as`: the whole result (default) or a part. */
  resultPath?: string[];
}

export interface HttpRequestPlan {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

export type ActionOutcome =
  | { kind: 'calls'; calls: PlannedCall[]; note?: string }
  | { kind: 'http'; request: HttpRequestPlan }
  | { kind: 'pick'; key: string; users: unknown[] }
  | { kind: 'stop'; reason: string };

export interface PlanContext {
  ruleId: string;
  /** The action's effect key (stable across retries and restarts): creates store it as ORIGIN_ID. */
  effectKey: string;
  /** A record loaded in this tick, for diffing updates; undefined when it was not loaded. */
  record(entity: EntityName, id: string, entityTypeId?: number): Record<string, unknown> | undefined;
}

export interface ActionKind {
  kind: string;
  plan(config: Record<string, unknown>, ctx: PlanContext): ActionOutcome;
}
