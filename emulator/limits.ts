/**
 * The portal's two limits (API-FACTS §2): the request-rate leaky bucket per
 * portal and client address, and the per-method "operating" budget per app or
 * webhook over a 10-minute window of one-minute buckets.
 */

/** Leaky bucket: each request adds 1, the level drains `drainPerSec`; at `burst` the next request is refused. */
export class LeakyBucket {
  readonly #levels = new Map<string, { level: number; at: number }>();

  constructor(
    readonly burst: number,
    readonly drainPerSec: number,
  ) {}

  /** Count one request for `key` at `nowMs`; false means refuse it (503 QUERY_LIMIT_EXCEEDED). */
  take(key: string, nowMs: number): boolean {
    const s = this.#levels.get(key) ?? { level: 0, at: nowMs };
    const drained = Math.max(0, s.level - (this.drainPerSec * Math.max(0, nowMs - s.at)) / 1000);
    // Refuse once `burst` requests are pending: burst 50 lets exactly 50 through at once.
    if (drained + 1 > this.burst) {
      this.#levels.set(key, { level: drained, at: nowMs });
      return false;
    }
    this.#levels.set(key, { level: drained + 1, at: nowMs });
    return true;
  }

  /** Current level for `key` (tests, diagnostics). */
  level(key: string, nowMs: number): number {
    const s = this.#levels.get(key);
    if (!s) return 0;
    return Math.max(0, s.level - (this.drainPerSec * Math.max(0, nowMs - s.at)) / 1000);
  }
}

const MINUTE = 60_000;
const WINDOW_MINUTES = 10;

interface Bucket {
  /** When the first call counted in this bucket happened; the bucket expires 10 minutes later. */
  firstAt: number;
  seconds: number;
}

/** Per (credential, method) execution-time budget: `time.operating`, `time.operating_reset_at`, 429 OPERATION_TIME_LIMIT. */
export class OperatingBudget {
  readonly #buckets = new Map<string, Bucket[]>();

  constructor(readonly budgetSec: number) {}

  #live(key: string, nowMs: number): Bucket[] {
    const live = (this.#buckets.get(key) ?? []).filter((b) => b.firstAt + WINDOW_MINUTES * MINUTE > nowMs);
    this.#buckets.set(key, live);
    return live;
  }

  /** Seconds spent in the window. */
  used(key: string, nowMs: number): number {
    return this.#live(key, nowMs).reduce((s, b) => s + b.seconds, 0);
  }

  /** True when the budget is already exceeded: the portal checks before the call, so the call that crosses it still runs. */
  exhausted(key: string, nowMs: number): boolean {
    return this.used(key, nowMs) > this.budgetSec;
  }

  /** Count `seconds` of execution at `nowMs`; returns what the envelope reports. */
  add(key: string, seconds: number, nowMs: number): { operating: number; resetAt: number } {
    const live = this.#live(key, nowMs);
    const last = live[live.length - 1];
    if (last && nowMs - last.firstAt < MINUTE) last.seconds += seconds;
    else live.push({ firstAt: nowMs, seconds });
    return this.report(key, nowMs);
  }

  /** `operating` (sum) and `operating_reset_at` (Unix seconds when the oldest bucket drops out). */
  report(key: string, nowMs: number): { operating: number; resetAt: number } {
    const live = this.#live(key, nowMs);
    const oldest = live[0]?.firstAt ?? nowMs;
    return { operating: live.reduce((s, b) => s + b.seconds, 0), resetAt: Math.ceil((oldest + WINDOW_MINUTES * MINUTE) / 1000) };
  }
}
