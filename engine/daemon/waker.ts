/**
 * The daemon loop's idle wait: `sleep(ms)` resolves after `ms` on the injected
 * timers, or at once when `notify()` is called (a source stored new work). A
 * notification that arrives while nobody sleeps (a tick is in flight) is kept
 * for the next `sleep`, which then returns at once: otherwise an item stored
 * during a quiet tick would wait a whole idle interval (and forever with manual
 * timers).
 */
import type { Timers } from '../clock.js';

export class Waker {
  readonly #timers: Timers;
  #wake: (() => void) | null = null;
  #pending = false;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** New work arrived: end the current wait, or the next one before it starts. */
  notify(): void {
    const w = this.#wake;
    this.#wake = null;
    if (w) w();
    else this.#pending = true;
  }

  /** Forget notifications so far (the tick about to start sees their work anyway). */
  clear(): void {
    this.#pending = false;
  }

  /** Wait `ms`, or less if notified; at once if notified since the last `clear`. */
  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const h = this.#timers.setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#timers.clearTimeout(h);
        resolve();
      };
    });
  }
}
