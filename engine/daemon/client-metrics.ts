/** The daemon's REST metrics, counted from its client's events. */
import type { ClientEvent } from '../client/index.js';
import type { DaemonMetrics } from '../status/index.js';

export const DEFAULTS = {
  /** Method families with a label value of their own; later ones share `other`. @default 64 */
  maxFamilies: 64,
  /** Error codes with a label value of their own; later ones share `other`. @default 32 */
  maxErrorCodes: 32,
};

/** A label whose values are bounded: the first `max` distinct values keep their own, later ones are `other`. */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(v: string): string {
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= this.max) return 'other';
    this.#seen.add(v);
    return v;
  }
}

/** A method's family: the method without its last part (`crm.deal.update` → `crm.deal`); `batch` is its own. */
export function methodFamily(method: string): string {
  const m = method.trim().toLowerCase();
  const dot = m.lastIndexOf('.');
  return dot > 0 ? m.slice(0, dot) : m || 'unknown';
}

/**
 * An `onEvent` for the client that counts requests, batches, rate-limit
 * waits, errors and token refreshes into `metrics`, and times the requests by
 * method family.
 */
export function countClientEvents(metrics: DaemonMetrics): (e: ClientEvent) => void {
  const families = new BoundedLabel(DEFAULTS.maxFamilies);
  const codes = new BoundedLabel(DEFAULTS.maxErrorCodes);
  return (e) => {
    switch (e.type) {
      case 'request':
        if (e.method !== 'batch') metrics.restCalls.inc();
        metrics.restRequestDuration.observe(Math.max(0, e.ms) / 1000, { family: families.value(methodFamily(e.method)) });
        break;
      case 'batch':
        metrics.restBatches.inc();
        metrics.restCalls.inc({}, e.commands);
        metrics.restBatchCommands.observe(e.commands);
        break;
      case 'rate-limit-wait':
        metrics.rateLimitWaits.inc({ kind: 'request_rate' });
        break;
      case 'operating-wait':
        metrics.rateLimitWaits.inc({ kind: 'operating' });
        break;
      case 'error':
        metrics.restErrors.inc({ code: codes.value(e.code) });
        break;
      case 'refresh':
        metrics.tokenRefreshes.inc();
        break;
      default:
        break;
    }
  };
}
