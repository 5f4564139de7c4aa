/**
 * The process's own families, once per process whatever it runs (a daemon,
 * a worker serving many portals): prom-client's default process and Node.js
 * metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 * `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`...) and
 * `b24rules_build_info`. The status server appends them to every /metrics;
 * they never go in a portal's registry, where a worker would label and sum
 * them per portal.
 */
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics } from 'prom-client';
import { PACKAGE_ROOT } from '../paths.js';
import { MetricsRegistry } from './metrics.js';

let shared: MetricsRegistry | undefined;

/** This build's package version ('0.0.0' when package.json cannot be read). */
export function buildVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The process registry, created on first use (the default collectors start then: an event-loop monitor, a GC observer). */
export function processMetrics(): MetricsRegistry {
  if (shared) return shared;
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry.prom });
  registry.gauge('b24rules_build_info', 'Always 1; the labels say which build runs: the package version and the Node.js version.', ['version', 'nodejs']).set(1, { version: buildVersion(), nodejs: process.version });
  shared = registry;
  return registry;
}
