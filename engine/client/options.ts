/** The options of createClient() and their defaults. */
import type { Dispatcher } from 'undici';
import type { Clock, Timers } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LeakyBucket } from './leaky-bucket.js';
import type { ClientEvent } from './stats.js';
import type { Params } from './types.js';

export interface ClientOptions {
  /** Refuse every write (methodKind/callKind says `write`: the catalog's kind, else the verb, unknown = write; batch commands one by one) with WriteRefusedError before sending. Dry-run's guard. @default false */
  readOnly?: boolean;
  /** OAuth only: sent as `auth_connector` with every write so the portal does not queue the engine's own changes back to it. @default undefined */
  authConnector?: string;
  /** pino logger; every record is redacted. @default silent */
  logger?: Logger;
  /** Called for each request, retry, wait, refresh and failure (metrics). @default undefined */
  onEvent?: (event: ClientEvent) => void;
  /** Time source for waits, budgets and token expiry. @default the system clock */
  clock?: Clock;
  /** Timers for the ride-along deadline (they do not keep the process alive). @default realTimers */
  timers?: Timers;
  /** Longest a ride-along command waits for a batch request to join before it is sent alone (ms). @default 1000 */
  rideAlongDeadlineMs?: number;
  /** Random source in [0, 1) for backoff jitter. @default Math.random */
  random?: () => number;
  /** Time to wait for response headers (ms). @default 60000 */
  headersTimeoutMs?: number;
  /** Time allowed between body chunks (ms). @default 60000 */
  bodyTimeoutMs?: number;
  /** Idle keep-alive socket lifetime (ms). @default 4000 */
  keepAliveTimeoutMs?: number;
  /** Sockets per portal. @default 8 */
  connections?: number;
  /** Retries after the first attempt. @default 6 */
  retries?: number;
  /** First backoff step (ms); doubles per retry, with jitter. @default 500 */
  backoffBaseMs?: number;
  /** Longest backoff step (ms). @default 30000 */
  backoffMaxMs?: number;
  /**
   * Client-side leaky bucket; false disables it; pass a LeakyBucket to share one between several clients of the same portal.
   * @default plan standard {burst: 50, drainPerSecond: 2}, enterprise {250, 5}
   */
  rateLimit?: { burst?: number; drainPerSecond?: number } | LeakyBucket | false;
  /** Per-method execution budget. @default {budgetSeconds: 480, slowdownAt: 0.8, fallbackWaitMs: 60000} */
  operating?: { budgetSeconds?: number; slowdownAt?: number; fallbackWaitMs?: number };
  /**
   * Refresh OAuth tokens at most this long before their known expiry (ms). For a token whose lifetime is known (one
   * the client obtained or read from the token file) the margin is `refreshSkewShare` of that lifetime when smaller,
   * so a short-lived token is not refreshed before every request. @default 60000
   */
  refreshSkewMs?: number;
  /** The refresh margin as a share of a token's known lifetime, when smaller than `refreshSkewMs`. @default 0.1 */
  refreshSkewShare?: number;
  /** Never refresh a token younger than this (ms) ahead of its expiry; the portal's `expired_token` still refreshes it. @default 5000 */
  minTokenAgeMs?: number;
  /** Which writes may be re-sent when their outcome is unknown. @default isIdempotentCall */
  isIdempotent?: (method: string, params: Params) => boolean;
  /** @default 'b24-rules' */
  userAgent?: string;
  /**
   * Asked before every HTTP request to the portal and to its token server; false: the request is not sent and fails
   * with LeaseLostError (LEASE_LOST, provedNotRun). A worker passes "I still hold this portal's lease". @default always true
   */
  canSend?: () => boolean;
  /**
   * Ends every request to the portal in flight when it fires (a worker: when the portal's lease stops being valid
   * locally). A request that had left is then in doubt, as after a timeout (OutcomeUnknownError for a write, settled
   * by the effect ledger). Requests to the token server are not ended by it: the refresh token they carry is spent
   * once sent, and dropping the answer would lose the new pair. @default none
   */
  signal?: AbortSignal;
  /** An undici dispatcher to use instead of the client's own keep-alive Agent (not closed by close()). @default undefined */
  dispatcher?: Dispatcher;
  /**
   * Send the calls REST 3.0 offers with an `Idempotency-Key` (tasks.task.add) through `/rest/api/` (v3-routes.ts),
   * unless the configuration says otherwise (ClientConfig.restV3, B24_REST_V3). Off in the daemon too: one request per task (bench/rest-v3.ts). @default false
   */
  restV3?: boolean;
}

/** Defaults of ClientOptions. */
export const DEFAULTS = {
  readOnly: false,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
  connections: 8,
  retries: 6,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  rateLimit: {
    standard: { burst: 50, drainPerSecond: 2 },
    enterprise: { burst: 250, drainPerSecond: 5 },
  },
  operating: { budgetSeconds: 480, slowdownAt: 0.8, fallbackWaitMs: 60_000 },
  refreshSkewMs: 60_000,
  refreshSkewShare: 0.1,
  minTokenAgeMs: 5_000,
  userAgent: 'b24-rules',
  /** A ride-along command (an offline clear) waits at most this long for a batch to join (ms). */
  rideAlongDeadlineMs: 1_000,
  /** Attempts at the OAuth token server. */
  refreshAttempts: 3,
} as const;
