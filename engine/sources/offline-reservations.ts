/**
 * Reading reservations of the portal's offline queue back into the inbox, in
 * as few requests as the portal allows (each one spends the rate budget the
 * rules need too):
 *
 * - `reread(pids)`: `event.offline.get` with `process_id` and `clear=0` for
 *   each reservation, 50 process ids per `batch` request; a reservation with a
 *   full page is paged on by ID with single calls (rare: a reservation holds
 *   one poll's batch).
 * - `findUnknown(known)`: the process ids of reserved records
 *   (`event.offline.list`) that the inbox does not know: the first page with
 *   one call (it tells the total), the other pages 50 to a `batch` request.
 *
 * With 20 reservations open after a crash, a full recovery costs one request
 * for the re-reads and two for the list, where it cost one per reservation.
 */
import { B24ApiError, MAX_BATCH, type B24ClientApi, type BatchCommand, type BatchItemResult } from '../client/index.js';
import type { Logger } from '../logger.js';
import type { InboxItemInput } from '../store/index.js';

/** One record of `event.offline.get` / `event.offline.list`. */
export interface OfflineRecord {
  ID: string | number;
  TIMESTAMP_X?: string;
  EVENT_NAME: string;
  EVENT_DATA?: unknown;
  EVENT_ADDITIONAL?: unknown;
  MESSAGE_ID: string | number;
  PROCESS_ID?: string;
  ERROR?: string | number;
}

function asRecordObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A reservation's records as inbox items, keyed `${process_id}:${MESSAGE_ID}` (a repeat is harmless). */
export function toInboxItems(processId: string, records: OfflineRecord[], receivedAt: number): InboxItemInput[] {
  return records.map((r) => {
    const event = String(r.EVENT_NAME).toUpperCase();
    const messageId = String(r.MESSAGE_ID);
    return {
      source: 'offline' as const,
      key: `${processId}:${messageId}`,
      event,
      ruleId: null,
      payload: {
        event,
        data: asRecordObject(r.EVENT_DATA),
        additional: asRecordObject(r.EVENT_ADDITIONAL),
        ts: r.TIMESTAMP_X ?? null,
        id: String(r.ID),
        message_id: messageId,
      },
      processId,
      messageId,
      receivedAt,
    };
  });
}

/** The `result` of `event.offline.get`. */
export interface GetResult {
  process_id: string | null;
  events: OfflineRecord[];
}

export interface ReservationReaderConfig {
  client: B24ClientApi;
  authConnector: string;
  /** Records per `event.offline.get`. */
  batchSize: number;
  /** Pages of `event.offline.list` read at most. */
  maxListPages: number;
  /** Store records of one reservation; returns how many were new to the inbox. */
  store(processId: string, records: OfflineRecord[]): number;
  logger: Logger;
}

/** What a batched re-read did. */
export interface RereadReport {
  /** Records new to the inbox, per process id re-read. */
  inserted: Map<string, number>;
  /** Process ids whose command the portal refused (logged; the next full recovery tries them again). */
  failed: string[];
  /** HTTP requests spent. */
  requests: number;
}

export interface ReservationReader {
  /** Re-read these reservations into the inbox. */
  reread(processIds: readonly string[]): Promise<RereadReport>;
  /** Process ids of reserved, not erroneous records that are not in `known`, and the HTTP requests spent finding them. */
  findUnknown(known: ReadonlySet<string>): Promise<{ processIds: string[]; requests: number }>;
  /** One `event.offline.get` (the connector added). */
  get(params: Record<string, unknown>, onEvent?: Parameters<B24ClientApi['call']>[2]): Promise<GetResult>;
}

/** The portal's page of `event.offline.list`. */
const LIST_PAGE = 50;

function asGetResult(raw: unknown): GetResult {
  const r = raw && typeof raw === 'object' ? (raw as Partial<GetResult>) : {};
  return { process_id: r.process_id ?? null, events: Array.isArray(r.events) ? r.events : [] };
}

function maxId(records: OfflineRecord[]): number {
  return Math.max(...records.map((e) => Number(e.ID)));
}

export function createReservationReader(config: ReservationReaderConfig): ReservationReader {
  const { client, authConnector: connector, batchSize, maxListPages } = config;

  async function get(params: Record<string, unknown>, options?: Parameters<B24ClientApi['call']>[2]): Promise<GetResult> {
    const env = await client.call<GetResult>('event.offline.get', { ...params, auth_connector: connector }, options);
    return asGetResult(env.result);
  }

  function rereadParams(processId: string, afterId: number | null): Record<string, unknown> {
    const params: Record<string, unknown> = { process_id: processId, clear: 0, limit: batchSize, order: { ID: 'ASC' }, auth_connector: connector };
    if (afterId !== null) params.filter = { '>ID': afterId };
    return params;
  }

  /** The rest of a reservation whose first page was full, paging by ID; returns [inserted, requests]. */
  async function pageOn(processId: string, first: OfflineRecord[]): Promise<[number, number]> {
    let inserted = 0;
    let requests = 0;
    let page = first;
    let lastId = maxId(page);
    for (let n = 1; n < maxListPages && page.length >= batchSize && Number.isFinite(lastId); n++) {
      const r = await get(rereadParams(processId, lastId));
      requests++;
      page = r.events;
      inserted += config.store(processId, page);
      const next = page.length > 0 ? maxId(page) : lastId;
      if (!(next > lastId)) break;
      lastId = next;
    }
    return [inserted, requests];
  }

  async function reread(processIds: readonly string[]): Promise<RereadReport> {
    const report: RereadReport = { inserted: new Map(), failed: [], requests: 0 };
    for (let from = 0; from < processIds.length; from += MAX_BATCH) {
      const group = processIds.slice(from, from + MAX_BATCH);
      const commands: Record<string, BatchCommand> = {};
      group.forEach((pid, i) => {
        commands[`r${i}`] = { method: 'event.offline.get', params: rereadParams(pid, null) };
      });
      const results = await client.batch(commands);
      report.requests++;
      for (const [i, pid] of group.entries()) {
        const item: BatchItemResult | undefined = results[`r${i}`];
        if (!item?.ok) {
          report.failed.push(pid);
          config.logger.warn({ processId: pid, error: item?.error }, `offline: re-reading reservation ${pid} was refused; the next full recovery tries again`);
          continue;
        }
        const events = asGetResult(item.result).events;
        let inserted = config.store(pid, events);
        if (events.length >= batchSize) {
          const [more, requests] = await pageOn(pid, events);
          inserted += more;
          report.requests += requests;
        }
        report.inserted.set(pid, inserted);
      }
    }
    return report;
  }

  function listParams(start: number): Record<string, unknown> {
    // Reserved records only (PROCESS_ID is '' until reserved); checked again below in case a portal ignores it.
    return { filter: { ERROR: 0, '>PROCESS_ID': '' }, order: { ID: 'ASC' }, start, auth_connector: connector };
  }

  async function findUnknown(known: ReadonlySet<string>): Promise<{ processIds: string[]; requests: number }> {
    const unknown = new Set<string>();
    const collect = (rows: unknown): void => {
      for (const row of Array.isArray(rows) ? (rows as OfflineRecord[]) : []) {
        const pid = row.PROCESS_ID ? String(row.PROCESS_ID) : '';
        if (pid !== '' && Number(row.ERROR ?? 0) === 0 && !known.has(pid)) unknown.add(pid);
      }
    };
    const first = await client.call<OfflineRecord[]>('event.offline.list', listParams(0));
    let requests = 1;
    collect(first.result);
    const total = Number(first.total);
    const next = first.next === undefined || first.next === null ? null : Number(first.next);
    if (next !== null && Number.isFinite(total)) {
      // The total says which pages remain: read them 50 pages to a request.
      const starts: number[] = [];
      for (let start = next; start < total && starts.length + 1 < maxListPages; start += LIST_PAGE) starts.push(start);
      for (let from = 0; from < starts.length; from += MAX_BATCH) {
        const commands: Record<string, BatchCommand> = {};
        for (const start of starts.slice(from, from + MAX_BATCH)) commands[`p${start}`] = { method: 'event.offline.list', params: listParams(start) };
        const results = await client.batch(commands);
        requests++;
        for (const item of Object.values(results)) {
          if (!item.ok) {
            // The whole scan is repeated later: a page missing would hide its reservations.
            throw new B24ApiError('B24_API_ERROR', { method: 'event.offline.list', status: 0, error: item.error?.error ?? '', errorDescription: item.error?.error_description ?? '' });
          }
          collect(item.result);
        }
      }
    } else if (next !== null) {
      // No total: follow `next` page by page.
      let start: number | null = next;
      for (let page = 1; start !== null && page < maxListPages; page++) {
        const env: { result: unknown; next?: number } = await client.call<OfflineRecord[]>('event.offline.list', listParams(start));
        requests++;
        collect(env.result);
        start = env.next === undefined || env.next === null || !Array.isArray(env.result) || env.result.length === 0 ? null : Number(env.next);
      }
    }
    return { processIds: [...unknown], requests };
  }

  return { reread, findUnknown, get };
}
