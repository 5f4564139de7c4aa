/**
 * The portal's offline event queue (one per app and `auth_connector`), as
 * api-reference/events/offline-events.md, event-offline-{get,clear,error,list}.md
 * describe it:
 * - one record per (event name, data): a repeat of the same change updates the
 *   unreserved record (its TIMESTAMP_X, EVENT_DATA, EVENT_ADDITIONAL, keeping ID
 *   and the ERROR mark); once that record is reserved, a repeat adds a new one;
 * - `get` with `clear=0` reserves records under a 32-character `process_id`
 *   that hides them from other readers; `get` with that `process_id` re-reads
 *   the batch (it reserves nothing new); `clear=1` deletes what it read;
 * - `error` marks batch records erroneous and releases them (they are read
 *   back with `error=1` only), deleting other not-yet-processed records with
 *   the same MESSAGE_ID;
 * - reserved records older than the reservation lifetime are dropped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { formatIso } from '../clock.js';
import { compileFilter, compileOrder, GET_FIELDS, LIST_FIELDS } from './record-filter.js';

/** One queue record, as the portal's b_rest_event_offline row. */
export interface OfflineRecord {
  id: number;
  appId: string;
  /** `auth_connector` of the binding the record was queued for; '' = no source. */
  connector: string;
  messageId: string;
  eventName: string;
  eventData: unknown;
  /** Who made the change (0 = no user: robot, agent). */
  userId: number;
  /** Emulator clock, ms. */
  timestamp: number;
  /** '' until reserved by `get` with `clear=0`. */
  processId: string;
  error: 0 | 1;
}

/** Which queue: the app and the source key. */
export interface QueueScope {
  appId: string;
  connector: string;
}

/** A record as `event.offline.get` returns it. */
export interface OfflineEventItem {
  ID: string;
  TIMESTAMP_X: string;
  EVENT_NAME: string;
  EVENT_DATA: unknown;
  EVENT_ADDITIONAL: { user_id: string } | false;
  MESSAGE_ID: string;
}

/** A record as `event.offline.list` returns it. */
export interface OfflineListItem extends OfflineEventItem {
  PROCESS_ID: string;
  ERROR: string;
}

export interface OfflineGetOptions {
  filter?: unknown;
  order?: unknown;
  /** Positive. */
  limit: number;
  clear: boolean;
  /** Re-read (and with `clear` delete) this batch instead of reserving a new one. */
  processId?: string;
  /** Read records marked erroneous instead of the others. */
  error: boolean;
}

export interface OfflineQueueOptions {
  now: () => number;
  /** Portal UTC offset for TIMESTAMP_X. */
  offsetMinutes: number;
  /** How long reserved records survive (the portal's PROCESS_ID_LIFETIME, 2,952,000 s). */
  reservationLifetimeMs: number;
}

/** MESSAGE_ID: md5 of the event name and its JSON data, so one object's repeated changes share it. */
export function messageIdOf(eventName: string, data: unknown): string {
  return createHash('md5').update(`${eventName}|${JSON.stringify(data ?? null)}`).digest('hex');
}

function isEmpty(data: unknown): boolean {
  if (data === null || data === undefined || data === false) return true;
  if (Array.isArray(data)) return data.length === 0;
  return typeof data === 'object' && Object.keys(data).length === 0;
}

/** The offline queues of all apps of one portal. */
export class OfflineQueue {
  readonly #records = new Map<number, OfflineRecord>();
  readonly #options: OfflineQueueOptions;
  #nextId = 1;

  constructor(options: OfflineQueueOptions) {
    this.#options = options;
  }

  /** Queue a change, or refresh the unreserved record of the same object. Returns true when a record was added. */
  record(scope: QueueScope, eventName: string, data: unknown, userId: number): boolean {
    const now = this.#options.now();
    const messageId = messageIdOf(eventName, data);
    for (const r of this.#records.values()) {
      if (this.#inScope(r, scope) && r.messageId === messageId && r.processId === '') {
        r.timestamp = now;
        r.eventData = data;
        r.userId = userId;
        return false;
      }
    }
    const id = this.#nextId++;
    this.#records.set(id, { id, ...scope, messageId, eventName, eventData: data, userId, timestamp: now, processId: '', error: 0 });
    return true;
  }

  /** `event.offline.get`. */
  get(scope: QueueScope, options: OfflineGetOptions): { process_id: string | null; events: OfflineEventItem[] } {
    this.#expire();
    const matches = compileFilter(options.filter, GET_FIELDS, this.#options.offsetMinutes, false);
    const order = compileOrder(options.order, GET_FIELDS, { TIMESTAMP_X: 'ASC' });
    const error = options.error ? 1 : 0;
    const base = (r: OfflineRecord): boolean => this.#inScope(r, scope) && r.error === error && matches(r);
    let processId = options.processId;
    const returnProcessId = !options.clear || processId !== undefined;
    if (processId === undefined) {
      processId = newProcessId();
      const free = [...this.#records.values()].filter((r) => base(r) && r.processId === '').sort(order);
      for (const r of free.slice(0, options.limit)) r.processId = processId;
    }
    const batch = [...this.#records.values()]
      .filter((r) => base(r) && r.processId === processId)
      .sort(order)
      .slice(0, options.limit);
    const events = batch.map((r) => this.#item(r));
    if (options.clear && batch.length > 0) this.#deleteWhere((r) => this.#inScope(r, scope) && r.processId === processId);
    return { process_id: returnProcessId ? processId : null, events };
  }

  /** `event.offline.clear`: delete the batch's records, all or those with the given IDs or MESSAGE_IDs. */
  clear(scope: QueueScope, processId: string, only?: { ids?: number[]; messageIds?: string[] }): void {
    const ids = only?.ids ? new Set(only.ids) : undefined;
    const messageIds = only?.messageIds ? new Set(only.messageIds) : undefined;
    this.#deleteWhere(
      (r) =>
        this.#inScope(r, scope) &&
        r.processId === processId &&
        (messageIds ? messageIds.has(r.messageId) : ids ? ids.has(r.id) : true),
    );
  }

  /**
   * `event.offline.error`: mark the batch's records with these MESSAGE_IDs
   * erroneous and release them; other unmarked records with the same keys
   * (newer changes, other batches) are deleted, as the portal does.
   */
  markError(scope: QueueScope, processId: string, messageIds: string[]): void {
    if (messageIds.length === 0) return;
    const keys = new Set(messageIds);
    const hit = (r: OfflineRecord): boolean => this.#inScope(r, scope) && keys.has(r.messageId);
    this.#deleteWhere((r) => hit(r) && r.error === 0 && r.processId !== processId);
    for (const r of [...this.#records.values()]) {
      if (!hit(r) || r.error !== 0 || r.processId !== processId) continue;
      // The portal's unique key (MESSAGE_ID, APP, CONNECTOR, PROCESS_ID) admits one released record per key.
      const existing = [...this.#records.values()].find((o) => o !== r && hit(o) && o.messageId === r.messageId && o.processId === '');
      if (existing) {
        this.#records.delete(r.id);
        continue;
      }
      r.error = 1;
      r.processId = '';
    }
  }

  /** `event.offline.list`: one page of 50 from `start`, without changing anything. */
  list(scope: QueueScope, options: { filter?: unknown; order?: unknown; start: number; pageSize: number }): { items: OfflineListItem[]; total: number } {
    this.#expire();
    const matches = compileFilter(options.filter, LIST_FIELDS, this.#options.offsetMinutes, true);
    const order = compileOrder(options.order, LIST_FIELDS, { ID: 'ASC' });
    const all = [...this.#records.values()].filter((r) => this.#inScope(r, scope) && matches(r)).sort(order);
    const items = all.slice(options.start, options.start + options.pageSize).map((r) => ({
      ...this.#item(r),
      PROCESS_ID: r.processId,
      ERROR: String(r.error),
    }));
    return { items, total: all.length };
  }

  /** Delete every record of one app, in all its queues (the app was uninstalled); returns how many went. */
  dropApp(appId: string): number {
    const before = this.#records.size;
    this.#deleteWhere((r) => r.appId === appId);
    return before - this.#records.size;
  }

  /** Every record (a copy), for inspection by tests and the CLI. */
  snapshot(): OfflineRecord[] {
    this.#expire();
    return [...this.#records.values()].map((r) => ({ ...r }));
  }

  #inScope(r: OfflineRecord, scope: QueueScope): boolean {
    return r.appId === scope.appId && r.connector === scope.connector;
  }

  #item(r: OfflineRecord): OfflineEventItem {
    return {
      ID: String(r.id),
      TIMESTAMP_X: formatIso(r.timestamp, this.#options.offsetMinutes),
      EVENT_NAME: r.eventName,
      EVENT_DATA: isEmpty(r.eventData) ? false : r.eventData,
      EVENT_ADDITIONAL: r.userId > 0 ? { user_id: String(r.userId) } : false,
      MESSAGE_ID: r.messageId,
    };
  }

  #deleteWhere(pred: (r: OfflineRecord) => boolean): void {
    for (const [id, r] of this.#records) if (pred(r)) this.#records.delete(id);
  }

  #expire(): void {
    const cutoff = this.#options.now() - this.#options.reservationLifetimeMs;
    this.#deleteWhere((r) => r.processId !== '' && r.timestamp < cutoff);
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random lowercase letters and digits, like the portal's `Random::getString(32)`. */
function newProcessId(): string {
  return [...randomBytes(32)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}
