/**
 * Per-method execution budget (API-FACTS §2.3, limits.md): the portal sums each
 * method's execution time over a sliding 10-minute window of one-minute
 * buckets (`time.operating`; the oldest bucket drops out at
 * `time.operating_reset_at`), checks the sum before each call and answers 429
 * OPERATION_TIME_LIMIT once it is above the limit. Other methods are
 * unaffected.
 *
 * The limit is the portal's configuration: 480 s is only the docs' example
 * (on-premise boxes default to 420 s when it is on at all), and no answer
 * states it. So the client learns it from the answers' `time` blocks:
 * - an answer reports its method's sum after the call, and the call was
 *   allowed, so the limit is at least the sum before it: the method's previous
 *   report, when none of its buckets dropped out since (before that report's
 *   `operating_reset_at`). The highest such sum is the floor.
 * - a 429 means the sum was above the limit, so the limit is below the
 *   method's last report: the ceiling.
 * Bitrix24 configures one limit (limits.md speaks of "the limit"), so what one
 * method teaches holds for all. Once a refusal was seen the limit is the floor
 * (or, with no floor yet, the ceiling). Before any, the configured prior
 * (`budgetSeconds`) is a starting guess: a method is slowed toward it and
 * waits out one reset there, and a method back at the guess after that reset
 * is let through, so the portal's answer replaces the guess: a refusal teaches
 * the limit, a call allowed past it proves the guess wrong (no limit is then
 * assumed at all: waiting for resets the portal does not need only slows the
 * engine down). Waiting at the guess every time would make it a wall the
 * client never learns past.
 *
 * From `slowdownAt` of the limit a method's calls are spaced out, linearly up
 * to waiting for its reset at the limit; after a 429 the method is held until
 * its reset (or `fallbackWaitMs` when no reset time is known).
 */
import type { Clock } from '../clock.js';
import type { B24Time } from './types.js';

export interface OperatingBudgetOptions {
  /** The limit assumed until the answers show another: seconds of execution per method per 10 minutes. @default 480 */
  budgetSeconds: number;
  /** Fraction of the limit from which calls are slowed down. @default 0.8 */
  slowdownAt: number;
  /** How long to hold a method after a 429 when no reset time is known (ms). @default 60000 */
  fallbackWaitMs: number;
}

interface MethodState {
  /** The method's sum in its last report (seconds). */
  operating: number;
  /** When the oldest bucket of that sum drops out (ms since epoch). */
  resetAt?: number;
  blockedUntil?: number;
  /** The prior made this method wait out a reset once: it no longer holds it (the portal's answer decides). */
  priorHeld?: boolean;
}

/** What the client knows about the portal's limit (seconds). */
export interface LearnedLimit {
  /** The limit the client works with now; undefined: none known (the prior went unrefused past its value). */
  limit: number | undefined;
  /** `learned`: from a refusal and the sums before it; `prior`: the configured assumption; `unknown`: the prior was passed without a refusal. */
  source: 'learned' | 'prior' | 'unknown';
  /** The highest sum a call was allowed at (the limit is at least this). */
  floor: number;
  /** The lowest sum a call was refused at (the limit is below this); undefined before any refusal. */
  ceiling: number | undefined;
}

export class OperatingBudget {
  readonly #options: OperatingBudgetOptions;
  readonly #clock: Clock;
  readonly #methods = new Map<string, MethodState>();
  #floor = 0;
  #ceiling: number | undefined;

  constructor(options: OperatingBudgetOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Record what an answer said about a method's budget. */
  observe(method: string, time: Partial<B24Time> | undefined): void {
    if (!time || typeof time.operating !== 'number' || !Number.isFinite(time.operating)) return;
    const key = method.toLowerCase();
    const prev = this.#methods.get(key);
    // The call was allowed: the sum before it, at least the previous report while no bucket has dropped out since, was within the limit.
    if (prev?.resetAt !== undefined && this.#clock.now() < prev.resetAt) this.#learnFloor(prev.operating);
    const state = prev ?? { operating: 0 };
    state.operating = time.operating;
    state.resetAt = typeof time.operating_reset_at === 'number' ? time.operating_reset_at * 1000 : undefined;
    this.#methods.set(key, state);
  }

  /** The portal answered 429 OPERATION_TIME_LIMIT: hold the method until its reset. Returns the time (ms) it is held until. */
  block(method: string): number {
    const key = method.toLowerCase();
    const now = this.#clock.now();
    const state = this.#methods.get(key) ?? { operating: 0 };
    // Refused: the sum, at most the last report, was above the limit.
    if (state.operating > 0) this.#learnCeiling(state.operating);
    const until = state.resetAt !== undefined && state.resetAt > now ? state.resetAt : now + this.#options.fallbackWaitMs;
    state.blockedUntil = until;
    this.#methods.set(key, state);
    return until;
  }

  /** How long (ms) to wait before the next call of `method`. */
  waitMs(method: string): number {
    const state = this.#methods.get(method.toLowerCase());
    if (!state) return 0;
    const now = this.#clock.now();
    if (state.blockedUntil !== undefined) {
      if (state.blockedUntil > now) return state.blockedUntil - now;
      state.blockedUntil = undefined;
    }
    if (state.resetAt === undefined || state.resetAt <= now) return 0;
    const { limit, source } = this.limit();
    if (limit === undefined || (source === 'prior' && state.priorHeld)) return 0;
    const threshold = limit * this.#options.slowdownAt;
    if (state.operating < threshold) return 0;
    // Linear: nothing at the threshold, the whole way to the reset at the limit.
    const fraction = Math.min(1, (state.operating - threshold) / Math.max(1e-9, limit - threshold));
    if (fraction >= 1 && source === 'prior') state.priorHeld = true;
    return Math.ceil(fraction * (state.resetAt - now));
  }

  /** The limit the client works with, and what it rests on (metrics, tests, `rules call`'s stats). */
  limit(): LearnedLimit {
    const floor = this.#floor;
    const ceiling = this.#ceiling;
    if (ceiling !== undefined) return { limit: floor > 0 ? floor : ceiling, source: 'learned', floor, ceiling };
    const prior = this.#options.budgetSeconds;
    return floor < prior ? { limit: prior, source: 'prior', floor, ceiling } : { limit: undefined, source: 'unknown', floor, ceiling };
  }

  /** Last known state of a method (tests, metrics). */
  state(method: string): Readonly<MethodState> | undefined {
    return this.#methods.get(method.toLowerCase());
  }

  #learnFloor(allowedAt: number): void {
    if (allowedAt <= this.#floor) return;
    this.#floor = allowedAt;
    // A call allowed at or above the ceiling: the portal's limit was raised since that refusal.
    if (this.#ceiling !== undefined && allowedAt >= this.#ceiling) this.#ceiling = undefined;
  }

  #learnCeiling(refusedAt: number): void {
    this.#ceiling = this.#ceiling === undefined ? refusedAt : Math.min(this.#ceiling, refusedAt);
    // Refused at or below the floor: the portal's limit was lowered; what was allowed before no longer is.
    if (this.#floor >= this.#ceiling) this.#floor = 0;
  }
}
