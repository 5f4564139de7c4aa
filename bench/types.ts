/** What every benchmark returns: per-variant samples and medians, ratios between variants measured in the same run. */
import type { Clock } from '../engine/clock.js';

/** One repetition's figures for one variant, by metric name (e.g. `httpRequests`, `wallMs`). */
export type Sample = Record<string, number>;

/** A metric shown in the table: its key in the samples, a header, and a unit for the header. */
export interface MetricDef {
  key: string;
  label: string;
  /** `ms`, `s`, `ops/s`, `` for counts. */
  unit: string;
}

export interface VariantResult {
  /** Short id, stable across runs (JSON consumers key on it). */
  name: string;
  /** What the variant does, one line. */
  label: string;
  /** One sample per repetition, in the order they ran. */
  samples: Sample[];
  /** Median of each metric over the samples. */
  median: Sample;
}

/** `numerator / denominator` of one metric's medians, both measured in this run. */
export interface Ratio {
  metric: string;
  numerator: string;
  denominator: string;
  value: number;
}

/** A figure derived from measured ones by a formula, not measured (e.g. seconds at the real portal's rate). */
export interface ComputedFigure {
  variant: string;
  label: string;
  value: number;
  unit: string;
  formula: string;
}

export interface BenchResult {
  /** The `--only` name. */
  name: string;
  title: string;
  /** The workload and the conditions, in a sentence or two. */
  setup: string;
  /** Repetitions per variant (variants alternate within each repetition). */
  repetitions: number;
  metrics: MetricDef[];
  variants: VariantResult[];
  ratios: Ratio[];
  computed: ComputedFigure[];
  notes: string[];
  /** Figures held against the targets (bench/RESULTS.md lists them all). */
  targets?: TargetCheck[];
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** Smaller workload and fewer repetitions: a smoke run in seconds. @default false */
  quick?: boolean;
  /** Override the repetition count. */
  repetitions?: number;
  /** Progress lines (to stderr in the runner). @default no output */
  progress?: (line: string) => void;
  /**
   * The time the portal's and the client's rate limits follow (the rate-limit bench). A test injects one that
   * moves only when someone waits, so what it checks does not depend on how fast the machine sends. @default systemClock
   */
  clock?: Clock;
}

/** A figure held against its target from the issue. */
export interface TargetCheck {
  /** What is measured, e.g. `HTTP requests, 1,000 new-lead events (engine)`. */
  figure: string;
  measured: number;
  unit: string;
  /** The target as the issue states it, e.g. `≤ 50`. */
  target: string;
  /** measured / the target's bound (for `≥` targets, the bound / measured): 1 or less meets it. */
  ratio: number;
  met: boolean;
  /** Why it was missed or what qualifies it. */
  note?: string;
}
