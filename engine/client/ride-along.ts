/**
 * Ride-along commands: small idempotent writes that need not leave at once
 * (the offline queue's `event.offline.clear` of work already committed) wait
 * here for the next `batch` request that has spare slots, and share it instead
 * of costing a request of their own. Each caller gets its own command's
 * answer; the batch's caller never sees the extra commands. When no batch
 * goes within the deadline, the waiting commands are sent alone: one plain
 * call for one command, one `batch` request per 50 for more (so several due
 * at once still cost one request).
 *
 * Only idempotent commands ride (the client checks): the batch they join may
 * be re-sent after a dropped answer, and a command that may run twice must
 * not make the batch unsafe to re-send. A failed request fails its riders with
 * the request's error; what a caller does then is its own business (the
 * offline source leaves the events uncleared and clears them later).
 */
import type { Clock, Timers } from '../clock.js';
import { B24RulesError } from '../errors.js';
import { MAX_BATCH, notRun, type KeyedCommand } from './batch.js';
import type { BatchItemResult, Params } from './types.js';

/** A command taken from the queue for one request: its key in that request, and how to answer its caller. */
export interface Rider extends KeyedCommand {
  settle(result: BatchItemResult | undefined): void;
  fail(err: unknown): void;
}

interface Waiting {
  method: string;
  params: Params;
  resolve(r: BatchItemResult): void;
  reject(err: unknown): void;
}

export interface RideAlongQueueOptions {
  clock: Clock;
  timers: Timers;
  /** Longest a command waits for a batch to join before it is sent alone. */
  deadlineMs: number;
  /** Send commands alone (all of them: at most MAX_BATCH at a time), the way the client sends them. */
  sendAlone(riders: KeyedCommand[]): Promise<Record<string, BatchItemResult>>;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** Key prefix of ride-along commands inside a batch request (kept apart from the caller's keys). */
const KEY_PREFIX = 'ride_';

/** The waiting ride-along commands of one client. */
export class RideAlongQueue {
  readonly #options: RideAlongQueueOptions;
  #waiting: Waiting[] = [];
  #timer: unknown = null;
  /** When the armed timer fires (clock ms). */
  #dueAt = Infinity;
  #seq = 0;
  /** Requests sending riders alone, still in flight. */
  readonly #sending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: RideAlongQueueOptions) {
    this.#options = options;
  }

  /** Commands waiting for a request. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Queue a command; resolves with its own result once a request carried it (rejects when that request failed). */
  add(method: string, params: Params, deadlineMs = this.#options.deadlineMs): Promise<BatchItemResult> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise<BatchItemResult>((resolve, reject) => {
      this.#waiting.push({ method, params, resolve, reject });
      const now = this.#options.clock.now();
      const due = now + Math.max(0, deadlineMs);
      if (this.#timer === null || due < this.#dueAt) this.#arm(due, now);
    });
  }

  /** Take up to `max` waiting commands for a request, keyed apart from the request's own `keys`. */
  take(max: number, keys: ReadonlySet<string>): Rider[] {
    if (max <= 0 || this.#waiting.length === 0) return [];
    const taken = this.#waiting.splice(0, max);
    if (this.#waiting.length === 0) this.#disarm();
    return taken.map((w) => this.#rider(w, keys));
  }

  /** Send every waiting command now; resolves when their requests are answered (their callers hear the outcome). */
  async flush(): Promise<void> {
    this.#disarm();
    while (this.#waiting.length > 0) {
      const riders = this.take(MAX_BATCH, NO_KEYS);
      const sending = this.#sendAlone(riders);
      this.#sending.add(sending);
      void sending.finally(() => this.#sending.delete(sending));
    }
    await Promise.all([...this.#sending]);
  }

  /** Stop: waiting commands are failed (nothing of them was sent), later ones refused. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    for (const w of this.#waiting.splice(0)) w.reject(closedError());
  }

  #rider(w: Waiting, keys: ReadonlySet<string>): Rider {
    // The counter keeps riders of one request apart; the check keeps them apart from the request's own keys.
    let key: string;
    do key = `${KEY_PREFIX}${++this.#seq}`;
    while (keys.has(key));
    return {
      key,
      method: w.method,
      params: w.params,
      settle: (result) => w.resolve(result ?? notRun(key, 'BATCH_NO_RESULT', 'the portal returned neither a result nor an error for this command')),
      fail: (err) => w.reject(err),
    };
  }

  async #sendAlone(riders: Rider[]): Promise<void> {
    let results: Record<string, BatchItemResult>;
    try {
      results = await this.#options.sendAlone(riders);
    } catch (err) {
      for (const r of riders) r.fail(err);
      return;
    }
    for (const r of riders) r.settle(results[r.key]);
  }

  #arm(due: number, now: number): void {
    this.#disarm();
    this.#dueAt = due;
    this.#timer = this.#options.timers.setTimeout(() => {
      this.#timer = null;
      this.#dueAt = Infinity;
      void this.flush();
    }, due - now);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#options.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#dueAt = Infinity;
  }
}

function closedError(): B24RulesError {
  return new B24RulesError('CLIENT_CLOSED', 'the client was closed before this ride-along command was sent; nothing of it was sent');
}
