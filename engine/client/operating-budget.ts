/**
 * Per-method execution budget (API-FACTS §2.3): the portal sums each method's
 * execution time over a sliding 10-minute window (`time.operating`, reset
 * steps at `time.operating_reset_at`) and answers 429 OPERATION_TIME_LIMIT
 * once a method went over (480 s in the docs' example). The client reads both
 * values from every answer, spreads a method's calls out as it nears the
 * budget, and after a 429 holds that method until the reset time instead of
 * hammering it. Other methods are unaffected.
 */
import type { Clock } from '../clock.js';
import type { B24Time } from './types.js';

export interface OperatingBudgetOptions {
  /** Seconds of execution per method per 10 minutes. @default 480 */
  budgetSeconds: number;
  /** Fraction of the budget from which calls are slowed down. @default 0.8 */
  slowdownAt: number;
  /** How long to hold a method after a 429 when no reset time is known (ms). @default 60000 */
  fallbackWaitMs: number;
}

interface MethodState {
  operating: number;
  /** ms since epoch */
  resetAt?: number;
  blockedUntil?: number;
}

export class OperatingBudget {
  readonly #options: OperatingBudgetOptions;
  readonly #clock: Clock;
  readonly #methods = new Map<string, MethodState>();

  constructor(options: OperatingBudgetOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Record what an answer said about a method's budget. */
  observe(method: string, time: Partial<B24Time> | undefined): void {
    if (!time || typeof time.operating !== 'number') return;
    const key = method.toLowerCase();
    const state = this.#methods.get(key) ?? { operating: 0 };
    state.operating = time.operating;
    if (typeof time.operating_reset_at === 'number') state.resetAt = time.operating_reset_at * 1000;
    this.#methods.set(key, state);
  }

  /** The portal answered 429 OPERATION_TIME_LIMIT: hold the method until its reset. Returns the time (ms) it is held until. */
  block(method: string): number {
    const key = method.toLowerCase();
    const now = this.#clock.now();
    const state = this.#methods.get(key) ?? { operating: this.#options.budgetSeconds };
    const until = state.resetAt !== undefined && state.resetAt > now ? state.resetAt : now + this.#options.fallbackWaitMs;
    state.blockedUntil = until;
    state.operating = Math.max(state.operating, this.#options.budgetSeconds);
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
    const { budgetSeconds, slowdownAt } = this.#options;
    const threshold = budgetSeconds * slowdownAt;
    if (state.operating < threshold) return 0;
    // Linear: nothing at the threshold, the whole way to the reset at the budget.
    const fraction = Math.min(1, (state.operating - threshold) / Math.max(1e-9, budgetSeconds - threshold));
    return Math.ceil(fraction * (state.resetAt - now));
  }

  /** Last known state of a method (tests, metrics). */
  state(method: string): Readonly<MethodState> | undefined {
    return this.#methods.get(method.toLowerCase());
  }
}
