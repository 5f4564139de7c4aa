/** The benchmarks as functions (for tests and scripts); `npm run bench` runs them through bench/run.ts. */
import { BenchUsageError, DEFAULT_RESULTS_FILE, parseRunArgs, reproduceCommand, resultsFile, USAGE, type RunArgs } from './args.js';
import { BACKLOG_DEFAULTS, BACKLOG_RULE, runBacklogBench, secondsAtRealRate } from './backlog.js';
import { BENCHES, BENCH_NAMES } from './benches.js';
import { describeRequest, restMethod, startCountingProxy, type CountingProxy, type ProxyCommand, type ProxyRecord } from './counting-proxy.js';
import { DAEMON_PATH_DEFAULTS, runDaemonPathBench } from './daemon-path.js';
import { LATENCY_DEFAULTS, runLatencyBench } from './latency.js';
import { expected, leadFields, leadScore, routeTeam } from './lead-scenario.js';
import { processCpuMs } from './proc-cpu.js';
import { formatCommands, requestFloor, tallyRequests, type RequestTally } from './request-tally.js';
import { commitInfo, formatResultsMarkdown, targetSection, type ResultsDocument } from './results-md.js';
import { LISTS_DEFAULTS, runListsBench } from './lists.js';
import { BENCH_CONDITION, BENCH_TEMPLATE, LOGIC_DEFAULTS, runLogicBench } from './logic.js';
import { alternate, checkTarget, median, medianSample, percentile, ratio, round, type VariantSpec } from './measure.js';
import { BARE_PORTAL, startBenchPortal, UNTHROTTLED, type BenchPortal } from './portal.js';
import { RATE_LIMIT_DEFAULTS, runRateLimitBench } from './rate-limit.js';
import { REST_V3_DEFAULTS, runRestV3Bench } from './rest-v3.js';
import { formatEnvironment, formatResult, runEnvironment, type RunEnvironment } from './report.js';
import type { BenchOptions, BenchResult, ComputedFigure, MetricDef, Ratio, Sample, TargetCheck, VariantResult } from './types.js';

export {
  runBacklogBench,
  runDaemonPathBench,
  runLatencyBench,
  DAEMON_PATH_DEFAULTS,
  LATENCY_DEFAULTS,
  startCountingProxy,
  describeRequest,
  restMethod,
  tallyRequests,
  requestFloor,
  formatCommands,
  processCpuMs,
  routeTeam,
  leadScore,
  leadFields,
  expected,
  commitInfo,
  formatResultsMarkdown,
  targetSection,
  resultsFile,
  DEFAULT_RESULTS_FILE,
  checkTarget,
  percentile,
  runListsBench,
  runRateLimitBench,
  REST_V3_DEFAULTS,
  runRestV3Bench,
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
export type { BenchOptions, BenchResult, ComputedFigure, MetricDef, Ratio, Sample, TargetCheck, VariantResult, VariantSpec, BenchPortal, RunEnvironment, RunArgs };
export type { CountingProxy, ProxyCommand, ProxyRecord, RequestTally, ResultsDocument };
