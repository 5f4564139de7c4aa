/**
 * The plan diff: what `rules diff` prints. The same inputs are planned by the
 * base rule set and by the changed one (two plan documents per input), and the
 * diff says what differs, per rule: runs that appear or disappear, calls
 * added, removed or changed, and what each run leaves in the fields it writes.
 * Built by `diffPlans` (diff.ts), sorted like the plans, so the same rules and
 * inputs always give byte-identical output.
 */
import type { PlanDocument, PlanFieldChange, PlanRecordRef, PlanTrigger } from './types.js';

/** Bumped on any incompatible change of the JSON shape. */
export const PLAN_DIFF_FORMAT_VERSION = 1;

/** What happened to a rule, a run or a call between the base and the change. */
export type DiffChange = 'added' | 'removed' | 'changed';

/** Counts of a diff (the whole diff's, or one rule's). */
export interface DiffTotals {
  runs_added: number;
  runs_removed: number;
  runs_changed: number;
  calls_added: number;
  calls_removed: number;
  calls_changed: number;
}

/** The whole diff's counts: the runs' and calls', and the rules'. */
export interface DiffGrandTotals extends DiffTotals {
  rules_added: number;
  rules_removed: number;
  /** Rules in both sets whose runs differ. */
  rules_changed: number;
}

/** One call that differs. */
export interface CallDiff {
  change: DiffChange;
  method: string;
  kind: 'read' | 'write';
  /** The action that planned it (the change's; the base's for a removed call). */
  action?: { kind: string; index: number };
  /** The call's params: the change's, or the base's for a removed call. */
  params: Record<string, unknown>;
  /** Added or removed updates: each field with the record's value and the value the call would write. */
  changes?: PlanFieldChange[];
  /** Changed calls: every param that differs, by path (`fields.UF_CRM_LEAD_SCORE`), with the base's and the change's value (undefined: absent). */
  params_changed?: Array<{ path: string; base: unknown; head: unknown }>;
}

/** A field of a record that a run leaves with another value: after the base's run, and after the change's. */
export interface FieldOutcome {
  /** `lead 42`: the entity of the update method and the record's ID. */
  target: string;
  field: string;
  base: unknown;
  head: unknown;
}

/** One run (a rule on a trigger, and a record for foreach rules) that differs. */
export interface RunDiff {
  change: DiffChange;
  /** The input it was planned on (a fixtures file, the events file, the portal). */
  input: string;
  trigger: PlanTrigger;
  record?: PlanRecordRef;
  /** The condition's value on each side, when it differs (null: the rule has no condition; undefined: no run on that side). */
  condition?: { base: boolean | null | undefined; head: boolean | null | undefined };
  /** Other parts of the run that differ: `error`, `timers`, `stopped_at_action`, `trigger_held` and any mark a plan gives runs. */
  attributes?: Array<{ name: string; base: unknown; head: unknown }>;
  /** Why the run does nothing, on each side (context for a changed run). */
  skipped?: { base?: string; head?: string };
  calls: CallDiff[];
  /** What the run leaves in the fields its updates write, when that differs. */
  fields?: FieldOutcome[];
}

/** One rule whose runs differ, or that the change adds or removes. */
export interface RuleDiff {
  rule: string;
  change: DiffChange;
  /** Where the rule is: in the change, or in the base for a removed rule. */
  file?: string;
  line?: number;
  /** The first line of the rule's document that differs from the base's (for annotations on the changed lines). */
  changed_line?: number;
  totals: DiffTotals;
  runs: RunDiff[];
}

/** One side of the diff: which rules, and what its plans add up to. */
export interface DiffSide {
  /** `origin/main`, a folder, or `working tree`. */
  label: string;
  rules: number;
  runs: number;
  writes: number;
  errors: number;
}

export interface PlanDiff {
  format_version: typeof PLAN_DIFF_FORMAT_VERSION;
  base: DiffSide;
  head: DiffSide;
  /** The clock both sides were planned with. */
  at: string;
  inputs: Array<{ label: string; source: PlanDocument['source']; events: number; schedule_ticks: number }>;
  totals: DiffGrandTotals;
  rules: RuleDiff[];
  /** Rules whose text changed but whose runs are the same on these inputs (the inputs may not reach the change). */
  no_effect: Array<{ rule: string; file?: string; line?: number; changed_line?: number }>;
}

/** What diffPlans knows of a rule beyond the plans: its hash (to tell a changed rule) and place. */
export interface DiffRuleInfo {
  id: string;
  hash: string;
  file?: string;
  line?: number;
  /** The change's side: the first line of the rule that differs from the base's. */
  changedLine?: number;
}

/** The plans of one input: the base's and the change's. */
export interface DiffInput {
  label: string;
  base: PlanDocument;
  head: PlanDocument;
}

/** The inputs of `diffPlans`. */
export interface DiffRequest {
  base: { label: string; rules: DiffRuleInfo[] };
  head: { label: string; rules: DiffRuleInfo[] };
  inputs: DiffInput[];
}

/** Output formats of `rules diff --format`. */
export type DiffFormat = 'text' | 'json' | 'github' | 'markdown';
