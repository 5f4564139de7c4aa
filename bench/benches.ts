/** The benchmarks by their `--only` name, in the order a full run takes them. */
import { runBacklogBench } from './backlog.js';
import { runDaemonPathBench } from './daemon-path.js';
import { runLatencyBench } from './latency.js';
import { runListsBench } from './lists.js';
import { runLogicBench } from './logic.js';
import { runRateLimitBench } from './rate-limit.js';
import { runRestV3Bench } from './rest-v3.js';
import { runStorePgBench } from './store-pg.js';
import { runTimersBench } from './timers.js';
import { runWorkersBench } from './workers.js';
import type { BenchOptions, BenchResult } from './types.js';

export const BENCHES: Record<string, (options?: BenchOptions) => Promise<BenchResult>> = {
  backlog: runBacklogBench,
  daemon: runDaemonPathBench,
  latency: runLatencyBench,
  lists: runListsBench,
  'rate-limit': runRateLimitBench,
  'rest-v3': runRestV3Bench,
  logic: runLogicBench,
  timers: runTimersBench,
  'store-pg': runStorePgBench,
  workers: runWorkersBench,
};

export const BENCH_NAMES: string[] = Object.keys(BENCHES);
