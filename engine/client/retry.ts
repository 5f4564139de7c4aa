/**
 * The client's retry policy: which failures are tried again, and how long to
 * wait before the next attempt (p-retry, jittered exponential backoff,
 * `retries` attempts after the first; waits go through the injected clock).
 *
 * - retried: 503 QUERY_LIMIT_EXCEEDED (the bucket is marked full first), 429
 *   OPERATION_TIME_LIMIT (after holding the method until `operating_reset_at`),
 *   other 5xx, unreadable answers, timeouts and network errors;
 * - never retried: 4xx portal errors (ERROR_METHOD_NOT_FOUND, bad params,
 *   ACCESS_DENIED), auth errors (insufficient_scope, WRONG_AUTH_TYPE,
 *   NO_AUTH_FOUND, a failed refresh), OVERLOAD_LIMIT (a manual block), and
 *   OutcomeUnknownError: a write that is not idempotent (isIdempotentCall in
 *   method-kind.ts) whose request was written and then got no answer or a 5xx
 *   other than QUERY_LIMIT_EXCEEDED/OVERLOAD_LIMIT (see answer-errors.ts and
 *   sender.ts). A request that provably never left (connection refused, DNS
 *   failure) is a NetworkError, retried even for `.add`.
 */
import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import { AuthError, B24ApiError, NetworkError, RateLimitError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff step (ms); doubles per retry. */
  backoffBaseMs: number;
  /** Longest backoff step (ms). */
  backoffMaxMs: number;
  /** Random source in [0, 1) for the jitter. */
  random: () => number;
  clock: Clock;
}

/** Whether a failed attempt may be tried again. */
export function retryable(err: unknown): boolean {
  if (err instanceof RateLimitError) return err.code !== 'OVERLOAD_LIMIT';
  if (err instanceof NetworkError) return true;
  if (err instanceof AuthError) return false;
  if (err instanceof B24ApiError) return err.code === 'B24_SERVER_ERROR' || err.code === 'B24_BAD_RESPONSE';
  return false;
}

/** The wait (ms) before the attempt after `attempt` failed with `error`. */
export function backoffMs(error: unknown, attempt: number, policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs' | 'random'>): number {
  // The budget and the bucket already make the next attempt wait; only spread the herd a little.
  if (error instanceof RateLimitError) return Math.floor(policy.random() * policy.backoffBaseMs);
  const step = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  return Math.floor(step / 2 + (policy.random() * step) / 2);
}

/**
 * Run `attempt` until it succeeds, fails with an error that is not retryable,
 * or the retries are spent; the last error is thrown. `onRetry` hears each
 * retry (the failed attempt's number and the wait) before the wait.
 */
export function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, onRetry: (error: unknown, attemptNumber: number, delayMs: number) => void): Promise<T> {
  return pRetry(attempt, {
    retries: policy.retries,
    // The waits are the clock's (below), so tests control them; p-retry's own timer stays at 0.
    minTimeout: 0,
    maxTimeout: 0,
    factor: 1,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft <= 0 || !retryable(error)) return;
      const delayMs = backoffMs(error, attemptNumber, policy);
      onRetry(error, attemptNumber, delayMs);
      await policy.clock.sleep(delayMs);
    },
  });
}
