/**
 * Client-side mirror of the portal's request-rate limit (API-FACTS §2.1): a
 * counter that each request raises by 1 and that drains at `drainPerSecond`;
 * the portal refuses a request while the counter is above `burst`. Here a
 * request that would overflow waits instead, so a sustained load never sees
 * QUERY_LIMIT_EXCEEDED. Slots are reserved synchronously, so concurrent
 * callers queue in order without a lock.
 */
import type { Clock } from '../clock.js';

export interface LeakyBucketOptions {
  /** @default 50 (250 on enterprise) */
  burst: number;
  /** @default 2 (5 on enterprise) */
  drainPerSecond: number;
}

export class LeakyBucket {
  readonly #burst: number;
  readonly #rate: number;
  readonly #clock: Clock;
  #level = 0;
  #at: number;

  constructor(options: LeakyBucketOptions, clock: Clock) {
    if (!(options.burst >= 1) || !(options.drainPerSecond > 0)) {
      throw new RangeError(`rate limit needs burst >= 1 and drainPerSecond > 0; got burst=${options.burst}, drainPerSecond=${options.drainPerSecond}`);
    }
    this.#burst = options.burst;
    this.#rate = options.drainPerSecond;
    this.#clock = clock;
    this.#at = clock.now();
  }

  #drain(): void {
    const now = this.#clock.now();
    if (now > this.#at) {
      this.#level = Math.max(0, this.#level - ((now - this.#at) / 1000) * this.#rate);
      this.#at = now;
    }
  }

  /** Reserve a slot; returns how many ms the caller must wait before sending (0 when there is room). */
  reserve(): number {
    this.#drain();
    const over = this.#level + 1 - this.#burst;
    this.#level += 1;
    return over > 0 ? Math.ceil((over / this.#rate) * 1000) : 0;
  }

  /** The portal said QUERY_LIMIT_EXCEEDED: its counter is full whatever ours says (another app on the same IP, a restart). */
  saturate(): void {
    this.#drain();
    this.#level = Math.max(this.#level, this.#burst);
  }

  /** Current counter (after draining), for stats and tests. */
  get level(): number {
    this.#drain();
    return this.#level;
  }
}
