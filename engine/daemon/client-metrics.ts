/** The daemon's REST metrics, counted from its client's events. */
import type { ClientEvent } from '../client/index.js';
import type { DaemonMetrics } from '../status/index.js';

/** An `onEvent` for the client that counts requests, batches and rate-limit waits into `metrics`. */
export function countClientEvents(metrics: DaemonMetrics): (e: ClientEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'request':
        if (e.method !== 'batch') metrics.restCalls.inc();
        break;
      case 'batch':
        metrics.restBatches.inc();
        metrics.restCalls.inc({}, e.commands);
        break;
      case 'rate-limit-wait':
        metrics.rateLimitWaits.inc({ kind: 'request_rate' });
        break;
      case 'operating-wait':
        metrics.rateLimitWaits.inc({ kind: 'operating' });
        break;
      default:
        break;
    }
  };
}
