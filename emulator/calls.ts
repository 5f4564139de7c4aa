/** The record of every call the emulator answered, for tests that assert on what the portal saw. */

export interface CallRecord {
  /** Order of answering, from 1. */
  seq: number;
  /** Method name as called (lowercase). */
  method: string;
  params: Record<string, unknown>;
  /** `null` when the caller could not be authenticated. */
  auth: 'webhook' | 'oauth' | null;
  userId: number | null;
  /** Emulator clock (ms) when the call arrived. */
  time: number;
  /** HTTP status answered (for a batch sub-command: the status it would have had alone; 0 for a dropped connection). */
  status: number;
  /** Portal error code, when the call failed. */
  error?: string;
  /** Set on batch sub-commands: the batch's `seq` and the command's key. */
  batch?: { parent: number; key: string };
  /** Set when the answer was an injected fault. */
  fault?: 'error' | 'drop';
  /** Set for a REST 3.0 call (`/rest/api/`). */
  api?: 'v3';
  /** REST 3.0: the request's `Idempotency-Key` header. */
  idempotencyKey?: string;
  /** REST 3.0: answered from the first success with the same key, without running (`Idempotent-Replayed: true`). */
  replayed?: true;
}

export class CallLog {
  readonly #records: CallRecord[] = [];
  #httpRequests = 0;
  #seq = 0;

  /** @param limit Records kept (the oldest go first), so a long-running emulator does not grow without end. */
  constructor(readonly limit = 10_000) {}

  /** Calls answered, batch sub-commands included, in order (the last `limit`). */
  get records(): readonly CallRecord[] {
    return this.#records;
  }

  /** HTTP requests received (REST and token server); a batch is one. */
  get httpRequests(): number {
    return this.#httpRequests;
  }

  /** Calls of one method (case-insensitive), optionally only top-level ones or only sub-commands. */
  of(method: string, where: { batch?: boolean } = {}): CallRecord[] {
    const m = method.toLowerCase();
    return this.#records.filter((r) => r.method === m && (where.batch === undefined || (r.batch !== undefined) === where.batch));
  }

  clear(): void {
    this.#records.length = 0;
    this.#httpRequests = 0;
  }

  /** @internal */
  countRequest(): void {
    this.#httpRequests++;
  }

  /** @internal */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** @internal */
  add(record: CallRecord): void {
    this.#records.push(record);
    // Trim in chunks: one splice per limit/10 calls instead of one per call.
    if (this.#records.length > this.limit + Math.ceil(this.limit / 10)) this.#records.splice(0, this.#records.length - this.limit);
  }
}
