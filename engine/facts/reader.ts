/**
 * The tick's reader: every read of a tick goes through it, is asked once
 * (identical method + params share one command) and is sent as `batch`
 * requests of up to 50 commands. What the reads cost is counted from the
 * client's own events (CallOptions.onEvent), not recomputed here.
 */
import type { B24ClientApi, BatchItemResult, ClientEvent, Params } from '../client/index.js';

export interface ReadRequest {
  method: string;
  params: Params;
}

export type ReadResult = { ok: true; result: unknown } | { ok: false; error: string; notFound: boolean };

/** Portal codes that say the record asked for does not exist. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['NOT_FOUND', 'ERROR_NOT_FOUND', 'OWNER_NOT_FOUND']);
/** Codes too general to tell: legacy CRM methods answer '' and tasks ERROR_CORE, and only the description says "not found". */
const UNSPECIFIC_CODES: ReadonlySet<string> = new Set(['', 'ERROR_CORE']);
const NOT_FOUND_TEXT = /not ?found|is not defined or invalid/i;

/** Whether a refused read means "no such record" (it then loads as null): by the portal's code, and by the description only when the code says nothing more. */
export function isNotFound(error: { error: string; error_description: string }): boolean {
  if (NOT_FOUND_CODES.has(error.error)) return true;
  return UNSPECIFIC_CODES.has(error.error) && NOT_FOUND_TEXT.test(error.error_description);
}

export function readKey(r: ReadRequest): string {
  return `${r.method}?${JSON.stringify(r.params)}`;
}

export class TickReader {
  readonly #client: B24ClientApi;
  readonly #cache = new Map<string, ReadResult>();
  /** HTTP requests the reads cost, as the client reported them (retries and list pages included). */
  requests = 0;
  /** Distinct read commands asked (cached repeats not counted). */
  commands = 0;
  readonly #count = (event: ClientEvent): void => {
    if (event.type === 'request') this.requests++;
  };

  constructor(client: B24ClientApi) {
    this.#client = client;
  }

  /** Read all of `requests` (cached ones are not asked again). A transport failure rejects; per-command errors come back as results. */
  async readAll(requests: ReadRequest[]): Promise<Map<string, ReadResult>> {
    const todo = new Map<string, ReadRequest>();
    for (const r of requests) {
      const k = readKey(r);
      if (!this.#cache.has(k)) todo.set(k, r);
    }
    if (todo.size > 0) {
      const keys = [...todo.keys()];
      const cmds: Record<string, { method: string; params: Params }> = {};
      keys.forEach((k, i) => {
        cmds[`r${i}`] = todo.get(k)!;
      });
      this.commands += keys.length;
      const res = await this.#client.batch(cmds, { halt: false, onEvent: this.#count });
      keys.forEach((k, i) => {
        const item: BatchItemResult | undefined = res[`r${i}`];
        if (item?.ok) this.#cache.set(k, { ok: true, result: item.result });
        else {
          const desc = item?.error ? `${item.error.error}: ${item.error.error_description}` : 'no answer for this command';
          this.#cache.set(k, { ok: false, error: desc, notFound: item?.error ? isNotFound(item.error) : false });
        }
      });
    }
    const out = new Map<string, ReadResult>();
    for (const r of requests) out.set(readKey(r), this.#cache.get(readKey(r))!);
    return out;
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
