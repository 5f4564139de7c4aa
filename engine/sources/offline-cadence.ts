/**
 * When the offline source polls next. Each `event.offline.get` spends a
 * request of the portal's rate budget, so an idle source backs off: after an
 * empty poll the wait doubles from `pollIntervalMs` up to a cap; a full page
 * is followed by the next poll at once, a partial one by the short wait.
 *
 * The cap is `maxIdleMs` (5 × the poll interval) unless the ONOFFLINEEVENT
 * wake-up is armed: bound online by the app (`event.get` shows it) and a
 * receiver attached to hear it (the outgoing-webhook receiver). Then the
 * portal says when records are queued, and the idle wait keeps doubling up
 * to `safetyPollMs`, a safety poll in case a signal is lost. The portal drops
 * (does not defer) the notifications inside a binding's `minTimeout`
 * (on-offline-event.md; `EventOfflineTable::checkSendTime` in the rest
 * module), so after a signal the waits start short again: a record queued in
 * that window is read by one of the next polls.
 *
 * A signal that arrives also proves the binding (one made after the start,
 * which the start's `event.get` did not show).
 *
 * The wake-up is trusted until a poll after a long wait, with no signal since
 * the previous one, finds records: the signal is not reaching the daemon (the
 * binding points elsewhere, a proxy drops it, a long `minTimeout`). The cap
 * then falls back to `maxIdleMs` until the next signal arrives.
 */
import type { Logger } from '../logger.js';

export interface CadenceConfig {
  pollIntervalMs: number;
  /** The idle cap without the wake-up. */
  maxIdleMs: number;
  /** The idle cap with the wake-up armed. */
  safetyPollMs: number;
  /** Longest wait after failed polls. */
  maxBackoffMs: number;
  /** An ONOFFLINEEVENT receiver is attached (signals can arrive). */
  receiver: boolean;
  logger: Logger;
}

/** The poll timing of one offline source. */
export class PollCadence {
  readonly #c: CadenceConfig;
  #idleWait: number;
  /** The wait that preceded the poll in flight (or the last one). */
  #lastWait = 0;
  /** A signal arrived since the current poll began. */
  #signalled = false;
  /** The poll in flight was prompted by a signal. */
  #prompted = false;
  #bound = false;
  #trusted = true;

  constructor(config: CadenceConfig) {
    this.#c = config;
    this.#idleWait = config.pollIntervalMs;
  }

  /** The wake-up can end idle waits: a receiver, the binding, and no sign that signals are lost. */
  get armed(): boolean {
    return this.#c.receiver && this.#bound && this.#trusted;
  }

  /** What the last `event.get` showed: ONOFFLINEEVENT bound online (or not). */
  set wakeUpBound(bound: boolean) {
    if (bound && !this.#bound && this.#c.receiver) this.#c.logger.info({ safetyPollMs: this.#c.safetyPollMs }, 'offline: the ONOFFLINEEVENT wake-up is bound; an idle queue is polled only as a safety net');
    this.#bound = bound;
  }

  /** An ONOFFLINEEVENT arrived: records were queued, and the wake-up is bound. */
  signal(): void {
    if (!this.#bound) this.wakeUpBound = true;
    this.#signalled = true;
    this.#trusted = true;
    this.#idleWait = this.#c.pollIntervalMs;
  }

  /** A poll begins now. */
  pollStarted(): void {
    this.#prompted = this.#signalled;
    this.#signalled = false;
  }

  /** The wait before the next poll after one that reserved `n` records (`full`: its page was full). */
  afterPoll(n: number, full: boolean): number {
    if (n > 0 && this.armed && !this.#prompted && this.#lastWait > this.#c.maxIdleMs) {
      this.#trusted = false;
      this.#c.logger.warn({ records: n, waitedMs: this.#lastWait }, 'offline: a safety poll found events no ONOFFLINEEVENT announced; polling at the normal idle pace until the next signal (check the wake-up binding and the route to /b24/events)');
    }
    if (n > 0) this.#idleWait = this.#c.pollIntervalMs;
    const wait = full ? 0 : n > 0 ? this.#c.pollIntervalMs : this.#idleWait;
    if (n === 0) this.#idleWait = Math.min(this.#cap(), this.#idleWait * 2);
    return (this.#lastWait = wait);
  }

  /** The wait after `failures` failed polls in a row (exponential, at most maxBackoffMs). */
  afterFailure(failures: number): number {
    return (this.#lastWait = Math.min(this.#c.maxBackoffMs, this.#c.pollIntervalMs * 2 ** Math.min(failures, 10)));
  }

  /** A poll is scheduled at once (start, a signal). */
  immediate(): number {
    return (this.#lastWait = 0);
  }

  #cap(): number {
    return this.armed ? Math.max(this.#c.maxIdleMs, this.#c.safetyPollMs) : this.#c.maxIdleMs;
  }
}
