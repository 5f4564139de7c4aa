/**
 * The compiled form of a rule: what the loader (engine/rules/) produces from a
 * validated YAML document and what the engine (triggers, loader of facts,
 * planner) consumes. The YAML format is described in docs/rule-format.md.
 */
import type { BusinessCalendar } from '../time/index.js';

/** Where a value came from in a rule file (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** A compiled `{{ ... }}` template: render against the facts. Strings with one template keep the value's type. */
export interface Template {
  /** The source text (for traces and messages). */
  source: string;
  render(facts: Facts): unknown;
  /** Root names the template reads (`deal` for `{{ deal.ID }}`), for dependency checks. */
  refs: string[];
}

/** A value in a rule that may contain templates anywhere inside (objects, arrays, strings). */
export interface TemplatedValue {
  render(facts: Facts): unknown;
  refs: string[];
}

/** A compiled json-logic expression. */
export interface Expression {
  source: unknown;
  evaluate(facts: Facts): unknown;
  refs: string[];
}

/** A compiled condition: its value and, when false, which part was false (for dry-run and traces). */
export interface Condition {
  source: unknown;
  /** The value and, when false, why (worked out now). */
  evaluate(facts: Facts): { value: boolean; reason?: string };
  /** The value alone: the fast path (engine/logic/lazy-reason.ts defers the why). */
  test(facts: Facts): boolean;
  /** Why the condition is false for these facts; call it only when `test` was false. */
  explain(facts: Facts): string;
  /** Why the condition is true for these facts (a group's winner in a dry-run); call it only when `test` was true. */
  explainTrue?(facts: Facts): string;
  refs: string[];
}

/**
 * Everything a rule run can see: trigger data, loaded records, `let` values, action results, `now`, `env`.
 * `now` must be an ISO 8601 string: the clock operators (days_since, now, business_hours...) read it and
 * throw LOGIC_NO_CLOCK without it. `changes` (event rules) is what the `changed` operator reads.
 */
export type Facts = Record<string, unknown>;

export type EntityName = 'lead' | 'deal' | 'contact' | 'company' | 'task' | 'user' | 'item';

export type FieldChange = { from?: unknown[]; to?: unknown[] };

/**
 * How long a timer waits: `ms` of wall-clock time, or of a calendar's open
 * hours with `within` (engine/time). `source` is the duration as written.
 */
export interface WaitSpec {
  ms: number;
  source: string;
  within?: BusinessCalendar;
}

/**
 * A `wait_for:` action: an event about the run's record (`by: 'record'`, the record's
 * own event; `by: 'owner'`, an activity event whose owner is the record), at most
 * `timeout`. `match` reads the event's record under `as` (`activity`, or the entity's
 * name) and `event`. The `on_timeout` actions are the rule's actions from
 * `timeoutStart` (inclusive) to `timeoutEnd` (exclusive), after its main ones.
 */
export interface WaitForSpec {
  event: string;
  by: 'record' | 'owner';
  as: string;
  match?: Condition;
  timeout: WaitSpec;
  timeoutStart: number;
  timeoutEnd: number;
}

/** A `delay:` action: a fixed wait, or until a moment a template gives; `recheck` evaluates the condition again when it fires. */
export interface DelaySpec {
  wait?: WaitSpec;
  until?: Template;
  /** With `until`: a moment outside the calendar's hours moves to its next opening. */
  within?: BusinessCalendar;
  recheck: boolean;
}

export type TriggerSpec =
  | { kind: 'event'; event: string; entity?: EntityName; changed?: Record<string, FieldChange>; /** `for:`: act when the `changed:` state held this long. */ for?: WaitSpec }
  | { kind: 'schedule'; cron: string; timezone: string }
  | { kind: 'webhook'; path: string; secret?: Template }
  | { kind: 'manual' };

/** A declared read. */
export type LoadSpec =
  | { name: string; kind: 'record'; entity: EntityName; id: Template; entityTypeId?: number; select?: string[] }
  | { name: string; kind: 'list'; entity?: EntityName; entityTypeId?: number; method?: string; params?: TemplatedValue; filter?: TemplatedValue; select?: string[]; order?: Record<string, 'ASC' | 'DESC'>; limit: number }
  | { name: string; kind: 'method'; method: string; params: TemplatedValue };

export interface ForeachSpec {
  as: string;
  entity?: EntityName;
  /** For entity 'item': the smart-process type. */
  entityTypeId?: number;
  method?: string;
  params?: TemplatedValue;
  filter?: TemplatedValue;
  select?: string[];
  order?: Record<string, 'ASC' | 'DESC'>;
  maxRecords: number;
}

/** Action specs after compilation. `kind` is the action's key in YAML. */
export interface ActionSpec {
  kind: 'update' | 'create' | 'comment' | 'task' | 'todo' | 'notify' | 'workflow' | 'call' | 'http' | 'round_robin' | 'stop' | 'delay' | 'wait_for';
  /** Position in the rule's action list (0-based); part of the effect key. */
  index: number;
  /** The action's options with templates compiled (render with the facts). */
  config: TemplatedValue;
  /** Raw options (for docs and traces). */
  raw: Record<string, unknown>;
  /** Result name (`as:`), if any. */
  as?: string;
  when?: Condition;
  location: SourceLocation;
  /** A `delay` action's wait (kind 'delay' only). */
  delay?: DelaySpec;
  /** A `wait_for` action's event and timeout (kind 'wait_for' only). */
  waitFor?: WaitForSpec;
  /** Set on the `on_timeout` actions of a `wait_for`: the index of that wait_for (they follow the rule's main actions). */
  branchOf?: number;
}

export interface CompiledRule {
  id: string;
  description: string;
  enabled: boolean;
  /** sha256 of the rule's canonical JSON, recorded with each run. */
  hash: string;
  location: SourceLocation;
  trigger: TriggerSpec;
  foreach?: ForeachSpec;
  load: LoadSpec[];
  let: Array<{ name: string; expr: Expression }>;
  condition?: Condition;
  /**
   * The group the rule competes in (`group:`): of the members matched by one event, only the
   * first in priority order whose condition holds acts (engine/pipeline/groups.ts).
   */
  group?: string;
  /** `priority:`, when written (0 otherwise): rules fired by one event are matched, evaluated and planned lowest first. */
  priority?: number;
  /** `mode: shadow` (absent for live): the rule runs and plans as any rule, but its calls are journaled, never sent (engine/pipeline/shadow.ts). */
  mode?: 'shadow';
  /** `rollout:`: the rule acts only on the records inside it (engine/pipeline/rollout.ts). */
  rollout?: RolloutSpec;
  actions: ActionSpec[];
  dedupe?: Template;
  concurrency: { key?: Template; mode: 'serial' | 'parallel' | 'skip' };
  onError: { retries: number; then: 'dead_letter' | 'continue' | 'stop' };
  /** Environment variable names the rule may read as `env.NAME`. */
  env: string[];
  /** The names the rule wrote instead of IDs, resolved from the portal snapshot (docs/rule-format.md, Names). */
  names?: NameUse[];
}

/** `rollout:` of a rule: a sticky share of records (`percent`, 0-100) and/or a selector over the run's facts (`where`). */
export interface RolloutSpec {
  percent?: number;
  where?: Condition;
}

/** A name written in a rule (a stage, user, field label, pipeline or list value) and the ID it was resolved to at load time. */
export interface NameUse {
  /** JSON pointer of the place in the rule document. */
  path: string;
  kind: 'field' | 'stage' | 'user' | 'pipeline' | 'value';
  /** The name as written (a stage with its pipeline: `Renewals / Renewed`). */
  name: string;
  id: string | number;
  line: number;
  col: number;
}

/** One validation problem, with where it is and what to do. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable code: YAML_SYNTAX, SCHEMA, CRON_INVALID, LOGIC_UNKNOWN_OPERATOR, TEMPLATE_UNKNOWN_NAME, METHOD_UNKNOWN, DUPLICATE_ID, UNSAFE_BULK_WRITE, FILE_TOO_LARGE, ... */
  code: string;
  message: string;
  file: string;
  line: number;
  col: number;
  ruleId?: string;
  /** JSON pointer into the rule document (`/trigger/schedule/cron`). */
  path?: string;
  /** What a valid value looks like. */
  hint?: string;
}

/** The result of loading a set of files: every good rule, and every problem. Bad files never stop good ones. */
export interface LoadResult {
  rules: CompiledRule[];
  diagnostics: Diagnostic[];
  /** Files read, with per-file status. */
  files: Array<{
    file: string;
    /** No error diagnostics in this file. */
    ok: boolean;
    /** Ids of the rules of this file that loaded. */
    ruleIds: string[];
    /** Every rule document of the file with its own status (id '' when it has none). */
    rules?: Array<{ id: string; ok: boolean; line: number }>;
  }>;
}
