/**
 * Counters the daemon's /metrics reads, and the events the client reports as
 * they happen: to the client's listener (ClientOptions.onEvent) and to the
 * calling operation's own (CallOptions.onEvent).
 */
import type { Logger } from '../logger.js';
import { errorText } from './errors.js';

export interface ClientStats {
  /** HTTP requests answered by the portal (including refused ones). */
  requests: number;
  /** `batch` requests sent by batch(), listAllBatched() and listPaged(). */
  batches: number;
  /** Commands carried inside those batches. */
  commands: number;
  /** Ride-along commands that shared another caller's batch request instead of costing one (rideAlong()). */
  rideAlong: number;
  /** Attempts repeated after a retryable failure. */
  retries: number;
  /** Times the client-side leaky bucket made a request wait, and the total wait. */
  rateLimitWaits: number;
  rateLimitWaitMs: number;
  /** Times a method was held back for its execution budget, and the total wait. */
  operatingWaits: number;
  operatingWaitMs: number;
  /** Refusals from the portal: 503 QUERY_LIMIT_EXCEEDED and 429 OPERATION_TIME_LIMIT. */
  queryLimitRefusals: number;
  operatingLimitRefusals: number;
  /** Requests to the OAuth token server. */
  refreshes: number;
  /** Writes not re-sent because their outcome was unknown. */
  outcomeUnknown: number;
  /** Calls that ended in an error (after retries). */
  errors: number;
}

export type ClientEvent =
  | { type: 'request'; method: string; status: number; ms: number }
  | { type: 'retry'; method: string; attempt: number; delayMs: number; code: string }
  | { type: 'rate-limit-wait'; method: string; ms: number }
  | { type: 'operating-wait'; method: string; ms: number }
  | { type: 'refresh' }
  | { type: 'batch'; commands: number }
  | { type: 'error'; method: string; code: string };

/** A listener of ClientEvents. */
export type EventListener = (event: ClientEvent) => void;

/** The counters of one client and the fan-out of its events. */
export class Telemetry {
  readonly stats: ClientStats = emptyStats();
  readonly #listener: EventListener | undefined;
  readonly #logger: Logger;

  constructor(listener: EventListener | undefined, logger: Logger) {
    this.#listener = listener;
    this.#logger = logger;
  }

  /** To the client's listener, then to the calling operation's own; a listener that throws is logged, never fails the call. */
  emit(event: ClientEvent, own?: EventListener): void {
    for (const listener of [this.#listener, own]) {
      if (!listener) continue;
      try {
        listener(event);
      } catch (err) {
        this.#logger.warn({ error: errorText(err) }, 'client onEvent callback threw');
      }
    }
  }
}

/** All counters at zero. */
export function emptyStats(): ClientStats {
  return {
    requests: 0,
    batches: 0,
    commands: 0,
    rideAlong: 0,
    retries: 0,
    rateLimitWaits: 0,
    rateLimitWaitMs: 0,
    operatingWaits: 0,
    operatingWaitMs: 0,
    queryLimitRefusals: 0,
    operatingLimitRefusals: 0,
    refreshes: 0,
    outcomeUnknown: 0,
    errors: 0,
  };
}
