/**
 * The daemon's metric families, registered once and shared by the sources,
 * the engine loop and the status server. Names follow Prometheus conventions
 * (`b24rules_` prefix, counters end in `_total`).
 */
import { MetricsRegistry, type Counter, type Gauge } from './metrics.js';

export interface DaemonMetrics {
  registry: MetricsRegistry;
  /** Items a source stored in the inbox, by source kind. */
  eventsReceived: Counter;
  /** Repeats a source received and the inbox ignored, by source kind. */
  eventsDuplicate: Counter;
  /** Inbox items that reached a final state, by outcome (done, dead). */
  eventsProcessed: Counter;
  /** Inbox items that ended in the dead-letter queue. */
  eventsFailed: Counter;
  /** Requests a webhook receiver refused, by source and reason. */
  webhookRejected: Counter;
  /** Rule runs, by rule and outcome. */
  ruleRuns: Counter;
  /** REST calls carried out (commands, whether alone or inside a batch). */
  restCalls: Counter;
  /** `batch` requests sent. */
  restBatches: Counter;
  /** Times the client waited because of Bitrix24 rate limits. */
  rateLimitWaits: Counter;
  /** Engine ticks, by outcome (ok, error). */
  ticks: Counter;
  /** Offline acknowledgements sent to the portal, by method (clear, error). */
  offlineAcks: Counter;
  /** Rule set reloads, by outcome (ok, refused). */
  reloads: Counter;
  /** Rules in the running set. */
  rulesLoaded: Gauge;
  /** 1 while the daemon takes work, 0 while it drains. */
  up: Gauge;
}

/**
 * Register the daemon's families. `depth` and `dlqSize` are read at scrape
 * time; pass functions that query the store.
 */
export function createDaemonMetrics(readers: { depth?: () => number; dlqSize?: () => number } = {}): DaemonMetrics {
  const r = new MetricsRegistry();
  const m: DaemonMetrics = {
    registry: r,
    eventsReceived: r.counter('b24rules_events_received_total', 'Work items stored in the inbox, by source.'),
    eventsDuplicate: r.counter('b24rules_events_duplicate_total', 'Repeated work items the inbox ignored, by source.'),
    eventsProcessed: r.counter('b24rules_events_processed_total', 'Inbox items that reached a final state, by outcome.'),
    eventsFailed: r.counter('b24rules_events_failed_total', 'Inbox items dead-lettered after exhausting their retries.'),
    webhookRejected: r.counter('b24rules_webhook_rejected_total', 'Webhook requests refused, by source and reason.'),
    ruleRuns: r.counter('b24rules_rule_runs_total', 'Rule runs finished, by rule and outcome.'),
    restCalls: r.counter('b24rules_rest_calls_total', 'Bitrix24 REST commands carried out.'),
    restBatches: r.counter('b24rules_rest_batches_total', 'Bitrix24 batch requests sent.'),
    rateLimitWaits: r.counter('b24rules_rate_limit_waits_total', 'Waits caused by Bitrix24 rate limits.'),
    ticks: r.counter('b24rules_engine_ticks_total', 'Engine ticks, by outcome.'),
    offlineAcks: r.counter('b24rules_offline_acks_total', 'Offline queue acknowledgements sent, by method.'),
    reloads: r.counter('b24rules_rule_reloads_total', 'Rule set reloads, by outcome.'),
    rulesLoaded: r.gauge('b24rules_rules_loaded', 'Rules in the running set.'),
    up: r.gauge('b24rules_up', '1 while the daemon takes work, 0 while it drains or stops.'),
  };
  r.collect('b24rules_queue_depth', 'Inbox items not yet done or dead.', 'gauge', () => (readers.depth ? readers.depth() : 0));
  r.collect('b24rules_dlq_size', 'Items in the dead-letter queue.', 'gauge', () => (readers.dlqSize ? readers.dlqSize() : 0));
  return m;
}
