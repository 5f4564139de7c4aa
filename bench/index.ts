/** The benchmarks as functions (for tests and scripts); `npm run bench` runs them through bench/run.ts. */
import { BenchUsageError, parseRunArgs, reproduceCommand, USAGE, type RunArgs } from './args.js';
import { BACKLOG_DEFAULTS, BACKLOG_RULE, runBacklogBench, secondsAtRealRate } from './backlog.js';
import { BENCHES, BENCH_NAMES } from './benches.js';
import { LISTS_DEFAULTS, runListsBench } from './lists.js';
import { BENCH_CONDITION, BENCH_TEMPLATE, LOGIC_DEFAULTS, runLogicBench } from './logic.js';
import { alternate, median, medianSample, ratio, round, type VariantSpec } from './measure.js';
import { BARE_PORTAL, startBenchPortal, UNTHROTTLED, type BenchPortal } from './portal.js';
import { RATE_LIMIT_DEFAULTS, runRateLimitBench } from './rate-limit.js';
import { formatEnvironment, formatResult, runEnvironment, type RunEnvironment } from './report.js';
import type { BenchOptions, BenchResult, ComputedFigure, MetricDef, Ratio, Sample, VariantResult } from './types.js';

export {
  runBacklogBench,
  runListsBench,
  runRateLimitBench,
  runLogicBench,
  BENCHES,
  BENCH_NAMES,
  BACKLOG_DEFAULTS,
  BACKLOG_RULE,
  LISTS_DEFAULTS,
  RATE_LIMIT_DEFAULTS,
  LOGIC_DEFAULTS,
  BENCH_CONDITION,
  BENCH_TEMPLATE,
  secondsAtRealRate,
  alternate,
  median,
  medianSample,
  ratio,
  round,
  startBenchPortal,
  BARE_PORTAL,
  UNTHROTTLED,
  formatResult,
  formatEnvironment,
  runEnvironment,
  parseRunArgs,
  reproduceCommand,
  BenchUsageError,
  USAGE,
};
export type { BenchOptions, BenchResult, ComputedFigure, MetricDef, Ratio, Sample, VariantResult, VariantSpec, BenchPortal, RunEnvironment, RunArgs };
