/**
 * The health page's memory: one sample per minute for the last hour, kept in
 * memory (a restart starts an empty hour). Counters (calls, rate-limit waits)
 * are read as totals and stored as the minute's difference; levels (queue
 * depth, DLQ, offline reservations, token expiry) as read when the minute
 * closes. A minute closes on the sampler's timer at its end, or at the first
 * read after it if the timer has not run (a test's frozen clock needs no
 * timer; what was counted between the minute's end and that read goes to it).
 */
import type { Clock, Timers } from '../clock.js';
import type { HealthSample } from './source.js';

/** What the ring reads; each may throw (a closed store), which skips that sample. */
export interface HealthReaders {
  depth(): number;
  dlq(): number;
  /** REST commands carried out since start (a counter). */
  callsTotal(): number;
  /** Rate-limit waits since start (a counter). */
  rateLimitWaitsTotal(): number;
  offlineReservations(): number;
  /** When the access token expires (ms), null when unknown. */
  tokenExpiresAt(): number | null;
}

export const DEFAULTS = {
  /** @default 60 one-minute samples: the last hour */
  minutes: 60,
  /** @default 60000 ms */
  minuteMs: 60_000,
};

const minuteOf = (ms: number): number => ms - (ms % DEFAULTS.minuteMs);

export class HealthRing {
  readonly #clock: Clock;
  readonly #readers: HealthReaders;
  readonly #closed: HealthSample[] = [];
  #minute: number;
  #base: { calls: number; waits: number };
  #timer: unknown = null;
  #timers: Timers | null = null;

  constructor(clock: Clock, readers: HealthReaders) {
    this.#clock = clock;
    this.#readers = readers;
    this.#minute = minuteOf(clock.now());
    this.#base = this.#totals();
  }

  #totals(): { calls: number; waits: number } {
    try {
      return { calls: this.#readers.callsTotal(), waits: this.#readers.rateLimitWaitsTotal() };
    } catch {
      return { calls: 0, waits: 0 };
    }
  }

  #read(at: number): HealthSample | null {
    try {
      const totals = this.#totals();
      const expires = this.#readers.tokenExpiresAt();
      const now = this.#clock.now();
      return {
        at,
        depth: this.#readers.depth(),
        dlq: this.#readers.dlq(),
        calls: Math.max(0, totals.calls - this.#base.calls),
        rateLimitWaits: Math.max(0, totals.waits - this.#base.waits),
        offlineReservations: this.#readers.offlineReservations(),
        tokenMinutesLeft: expires === null ? null : Math.floor((expires - now) / DEFAULTS.minuteMs),
      };
    } catch {
      return null;
    }
  }

  /** Close the current minute when the clock has left it. */
  tick(): void {
    const minute = minuteOf(this.#clock.now());
    if (minute === this.#minute) return;
    const sample = this.#read(this.#minute);
    if (sample) this.#closed.push(sample);
    this.#minute = minute;
    this.#base = this.#totals();
    const oldest = minute - DEFAULTS.minutes * DEFAULTS.minuteMs;
    while (this.#closed.length > 0 && (this.#closed[0] as HealthSample).at < oldest) this.#closed.shift();
  }

  /** The closed minutes of the last hour, oldest first, then the current one so far. */
  samples(): HealthSample[] {
    this.tick();
    const current = this.#read(this.#minute);
    return current ? [...this.#closed, current] : [...this.#closed];
  }

  /** Close minutes on a timer too (unref'd timers: it never keeps the process alive). */
  start(timers: Timers): void {
    this.#timers = timers;
    const arm = () => {
      const now = this.#clock.now();
      this.#timer = timers.setTimeout(() => {
        this.tick();
        arm();
      }, minuteOf(now) + DEFAULTS.minuteMs - now + 50);
    };
    arm();
  }

  stop(): void {
    if (this.#timer !== null) this.#timers?.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
