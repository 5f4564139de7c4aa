/**
 * The tick's reader: every read of a tick goes through it, is asked once
 * (identical method + params share one command; a record by ID is read once)
 * and is sent as `batch` requests of up to 50 commands. Records by ID go as
 * list commands of up to 50 IDs (by-id.ts), in the same batch as the other
 * reads. What the reads cost is counted from the client's own events
 * (CallOptions.onEvent), not recomputed here.
 */
import type { B24ClientApi, BatchCommand, BatchItemResult, ClientEvent, Params } from '../client/index.js';
import { IdReads, recordKey, type IdRound, type RecordRef } from './by-id.js';
import { isNotFound, type ReadResult } from './read-result.js';

export { isNotFound, type ReadResult };

export interface ReadRequest {
  method: string;
  params: Params;
}

export function readKey(r: ReadRequest): string {
  return `${r.method}?${JSON.stringify(r.params)}`;
}

export class TickReader {
  readonly #client: B24ClientApi;
  readonly #cache = new Map<string, ReadResult>();
  /** Records read by ID, by recordKey. */
  readonly #records = new Map<string, ReadResult>();
  readonly #ids: IdReads;
  /** HTTP requests the reads cost, as the client reported them (retries and list pages included). */
  requests = 0;
  /** Read commands sent (cached repeats not counted; a list of up to 50 IDs is one). */
  commands = 0;
  readonly #count = (event: ClientEvent): void => {
    if (event.type === 'request') this.requests++;
  };

  constructor(client: B24ClientApi) {
    this.#client = client;
    this.#ids = new IdReads(client, { onEvent: this.#count });
  }

  /** Read all of `requests` (cached ones are not asked again). A transport failure rejects; per-command errors come back as results. */
  async readAll(requests: ReadRequest[]): Promise<Map<string, ReadResult>> {
    return (await this.read(requests, [])).reads;
  }

  /**
   * Read `requests` and the records `refs` by ID, in one set of batch requests
   * (cached ones are not asked again). `records` is keyed by recordKey; a
   * record the portal does not have is `{ ok: true, result: null }`. A
   * transport failure rejects; per-command errors come back as results.
   */
  async read(requests: ReadRequest[], refs: RecordRef[]): Promise<{ reads: Map<string, ReadResult>; records: Map<string, ReadResult> }> {
    const todo = new Map<string, ReadRequest>();
    for (const r of requests) {
      const k = readKey(r);
      if (!this.#cache.has(k)) todo.set(k, r);
    }
    const todoRefs = new Map<string, RecordRef>();
    for (const ref of refs) {
      const k = recordKey(ref);
      if (!this.#records.has(k)) todoRefs.set(k, ref);
    }
    const round = todoRefs.size ? this.#ids.plan([...todoRefs.values()]) : undefined;
    const keys = [...todo.keys()];
    const cmds: Record<string, BatchCommand> = {};
    keys.forEach((k, i) => {
      cmds[`r${i}`] = todo.get(k)!;
    });
    Object.assign(cmds, round?.commands);
    const res = Object.keys(cmds).length > 0 ? await this.#batch(cmds) : {};
    keys.forEach((k, i) => {
      const item: BatchItemResult | undefined = res[`r${i}`];
      if (item?.ok) this.#cache.set(k, { ok: true, result: item.result });
      else {
        const desc = item?.error ? `${item.error.error}: ${item.error.error_description}` : 'no answer for this command';
        this.#cache.set(k, { ok: false, error: desc, notFound: item?.error ? isNotFound(item.error) : false });
      }
    });
    if (round) await this.#settleIds(round, res);
    const reads = new Map<string, ReadResult>();
    for (const r of requests) reads.set(readKey(r), this.#cache.get(readKey(r))!);
    const records = new Map<string, ReadResult>();
    for (const ref of refs) records.set(recordKey(ref), this.#records.get(recordKey(ref)) ?? { ok: false, error: 'no answer for this command', notFound: false });
    return { reads, records };
  }

  /** Results of an ID round; a list that left out a multiple user field the portal has is read again naming it (the names are then known for the tick). */
  async #settleIds(round: IdRound, answers: Record<string, BatchItemResult>): Promise<void> {
    const first = await this.#ids.settle(round, answers);
    for (const [k, r] of first.results) this.#records.set(k, r);
    if (first.again.length === 0) return;
    const second = this.#ids.plan(first.again);
    const { results } = await this.#ids.settle(second, await this.#batch(second.commands));
    for (const [k, r] of results) this.#records.set(k, r);
  }

  async #batch(cmds: Record<string, BatchCommand>): Promise<Record<string, BatchItemResult>> {
    this.commands += Object.keys(cmds).length;
    return this.#client.batch(cmds, { halt: false, onEvent: this.#count });
  }

  /** Every row of a list (fast paging), for lists longer than one page. */
  async list(method: string, options: { filter?: Params; select?: string[]; params?: Params; limit: number }): Promise<unknown[]> {
    const rows: unknown[] = [];
    for await (const row of this.#client.listAll(method, { ...options, onEvent: this.#count })) {
      rows.push(row);
      if (rows.length >= options.limit) break;
    }
    return rows;
  }
}
