/**
 * Online event delivery: one form POST per handler, sent in the background
 * (a write's answer never waits for it), never retried, the way the portal's
 * queue server works (api-reference/events/index.md: a failed call is logged
 * and the event dropped). Every attempt is kept in a log tests can read, and
 * `idle()` resolves once nothing is in flight.
 */
import type { Logger } from '../../engine/logger.js';

/** One delivery attempt. */
export interface DeliveryRecord {
  handlerId: number;
  event: string;
  url: string;
  /** The form body sent. */
  body: string;
  /** Emulator clock when it was sent. */
  at: number;
  ok: boolean;
  /** HTTP status, when the handler answered. */
  status?: number;
  /** Why it failed (network error, timeout, non-2xx). */
  error?: string;
}

export interface DeliveryOptions {
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  logger: Logger;
  now: () => number;
}

export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #log: DeliveryRecord[] = [];

  constructor(options: DeliveryOptions) {
    this.#options = options;
  }

  /** POST `body` to `url` in the background. */
  send(url: string, body: string, meta: { handlerId: number; event: string }): void {
    const record: DeliveryRecord = { ...meta, url, body, at: this.#options.now(), ok: false };
    this.#log.push(record);
    const p = this.#post(url, body, record).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Resolves when every delivery started so far (and any started meanwhile) has finished. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Attempts so far, oldest first. */
  log(): readonly DeliveryRecord[] {
    return this.#log;
  }

  async #post(url: string, body: string, record: DeliveryRecord): Promise<void> {
    try {
      const res = await this.#options.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      record.status = res.status;
      // Drain the body so the connection can be reused; its content is not used.
      await res.arrayBuffer().catch(() => undefined);
      record.ok = res.status >= 200 && res.status < 300;
      if (!record.ok) record.error = `HTTP ${res.status}`;
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
    if (!record.ok) {
      this.#options.logger.warn(
        { event: record.event, handlerId: record.handlerId, url: record.url, error: record.error },
        'event handler call failed; the portal does not retry, the event is dropped',
      );
    }
  }
}
