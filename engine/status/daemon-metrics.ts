/**
 * The daemon's metric families, registered once and shared by the sources,
 * the engine loop and the status server. Names follow Prometheus conventions
 * (`b24rules_` prefix, counters end in `_total`, durations are histograms in
 * seconds). docs/operations.md lists every family with its meaning.
 */
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics.js';

/** Bucket upper bounds of each histogram. */
export const BUCKETS = {
  /** A rule run, from its creation to its final state (a run waiting on a `delay:` lands in +Inf). */
  ruleRunSeconds: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
  /** One HTTP request to the portal, as the client timed it. */
  restRequestSeconds: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  /** Commands in one `batch` request (Bitrix24 takes 50 at most). */
  batchCommands: [1, 2, 5, 10, 20, 30, 40, 50],
  /** From the event at the portal to the end of the run that acted on it. */
  eventAgeSeconds: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 21600],
} as const;

export interface DaemonMetrics {
  registry: MetricsRegistry;
  /** Items a source stored in the inbox, by source kind. */
  eventsReceived: Counter;
  /** Repeats a source received and the inbox ignored, by source kind. */
  eventsDuplicate: Counter;
  /** Inbox items that reached a final state, by source and outcome (done, dead). */
  eventsProcessed: Counter;
  /** Inbox items that ended in the dead-letter queue, by source. */
  eventsFailed: Counter;
  /** Requests a webhook receiver refused, by source and reason. */
  webhookRejected: Counter;
  /** Rule runs, by rule and outcome. */
  ruleRuns: Counter;
  /** Calls of shadow runs (`mode: shadow`), journaled and never sent, counted when the run finishes, by rule. */
  shadowCalls: Counter;
  /** Rule run durations (runs that acted or failed; skipped ones do nothing), by rule. */
  ruleRunDuration: Histogram;
  /** REST calls carried out (commands, whether alone or inside a batch). */
  restCalls: Counter;
  /** `batch` requests sent. */
  restBatches: Counter;
  /** HTTP request durations, by method family (`crm.deal`, `batch`, `event.offline`). */
  restRequestDuration: Histogram;
  /** Commands per `batch` request. */
  restBatchCommands: Histogram;
  /** Calls that ended in an error after retries, by error code (bounded). */
  restErrors: Counter;
  /** Requests to the OAuth token server. */
  tokenRefreshes: Counter;
  /** Times the client waited because of Bitrix24 rate limits, by kind (request_rate, operating). */
  rateLimitWaits: Counter;
  /** From the event at the portal (its own timestamp when it has one) to the end of the run that acted on it, by source. */
  eventAge: Histogram;
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

/** What the scrape-time families read from the store. */
export interface DaemonMetricReaders {
  /** Inbox items not yet done or dead. */
  depth?: () => number;
  /** Items in the dead-letter queue. */
  dlqSize?: () => number;
  /** Seconds the oldest item not yet done or dead has waited (0 when none waits). */
  oldestAge?: () => number;
}

/**
 * Register the daemon's families. The queue families are read at scrape
 * time; pass functions that query the store.
 */
export function createDaemonMetrics(readers: DaemonMetricReaders = {}): DaemonMetrics {
  const r = new MetricsRegistry();
  const m: DaemonMetrics = {
    registry: r,
    eventsReceived: r.counter('b24rules_events_received_total', 'Work items stored in the inbox, by source.', ['source']),
    eventsDuplicate: r.counter('b24rules_events_duplicate_total', 'Repeated work items the inbox ignored, by source.', ['source']),
    eventsProcessed: r.counter('b24rules_events_processed_total', 'Inbox items that reached a final state, by source and outcome.', ['source', 'outcome']),
    eventsFailed: r.counter('b24rules_events_failed_total', 'Inbox items dead-lettered after exhausting their retries, by source.', ['source']),
    webhookRejected: r.counter('b24rules_webhook_rejected_total', 'Webhook requests refused, by source and reason.', ['source', 'reason']),
    ruleRuns: r.counter('b24rules_rule_runs_total', 'Rule runs finished, by rule and outcome.', ['rule', 'outcome']),
    shadowCalls: r.counter('b24rules_shadow_calls_total', 'Calls of shadow rule runs, journaled and never sent, by rule.', ['rule']),
    ruleRunDuration: r.histogram('b24rules_rule_run_duration_seconds', 'Rule runs that acted or failed, from creation to final state, by rule.', { buckets: BUCKETS.ruleRunSeconds, labelNames: ['rule'] }),
    restCalls: r.counter('b24rules_rest_calls_total', 'Bitrix24 REST commands carried out.'),
    restBatches: r.counter('b24rules_rest_batches_total', 'Bitrix24 batch requests sent.'),
    restRequestDuration: r.histogram('b24rules_rest_request_duration_seconds', 'Bitrix24 REST HTTP requests, by method family.', { buckets: BUCKETS.restRequestSeconds, labelNames: ['family'] }),
    restBatchCommands: r.histogram('b24rules_rest_batch_commands', 'Commands per Bitrix24 batch request.', { buckets: BUCKETS.batchCommands }),
    restErrors: r.counter('b24rules_rest_errors_total', 'Bitrix24 REST calls that failed after retries, by error code.', ['code']),
    tokenRefreshes: r.counter('b24rules_token_refreshes_total', 'Requests to the OAuth token server.'),
    rateLimitWaits: r.counter('b24rules_rate_limit_waits_total', 'Waits caused by Bitrix24 rate limits, by kind.', ['kind']),
    eventAge: r.histogram('b24rules_event_age_seconds', 'From an event at the portal to the end of the rule run that acted on it, by source.', { buckets: BUCKETS.eventAgeSeconds, labelNames: ['source'] }),
    ticks: r.counter('b24rules_engine_ticks_total', 'Engine ticks, by outcome.', ['outcome']),
    offlineAcks: r.counter('b24rules_offline_acks_total', 'Offline queue acknowledgements sent, by method.', ['method']),
    reloads: r.counter('b24rules_rule_reloads_total', 'Rule set reloads, by outcome.', ['outcome']),
    rulesLoaded: r.gauge('b24rules_rules_loaded', 'Rules in the running set.'),
    up: r.gauge('b24rules_up', '1 while the daemon takes work, 0 while it drains or stops.'),
  };
  r.collect('b24rules_queue_depth', 'Inbox items not yet done or dead.', 'gauge', () => (readers.depth ? readers.depth() : 0));
  r.collect('b24rules_queue_oldest_age_seconds', 'Seconds the oldest inbox item not yet done or dead has waited; 0 when none.', 'gauge', () => (readers.oldestAge ? readers.oldestAge() : 0));
  r.collect('b24rules_dlq_size', 'Items in the dead-letter queue.', 'gauge', () => (readers.dlqSize ? readers.dlqSize() : 0));
  return m;
}
