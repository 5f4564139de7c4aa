/** Engine counters for /metrics. */
import type { EngineStats } from './types.js';

export function createStats(): EngineStats {
  return {
    ticks: 0,
    eventsProcessed: 0,
    eventsFailed: 0,
    runs: { done: 0, skipped: 0, failed: 0, dead: 0 },
    restCalls: 0,
    batches: 0,
    httpRequests: 0,
    httpFailures: 0,
    effectsDone: 0,
    effectsFailed: 0,
    effectsRecovered: 0,
    loadRequests: 0,
  };
}
