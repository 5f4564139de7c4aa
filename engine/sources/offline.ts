/**
 * Offline-events source (OAuth apps). The no-loss cycle:
 *
 * 1. `event.offline.get` with `clear=0` and the `auth_connector` reserves a
 *    batch under a new `process_id`;
 * 2. the records go into the inbox in one transaction, keyed
 *    `${process_id}:${MESSAGE_ID}` (a repeat is harmless);
 * 3. the pipeline processes them;
 * 4. `acknowledge()` clears (`event.offline.clear`) only the message ids the
 *    inbox says are done, and reports dead-lettered ones with
 *    `event.offline.error` (they stay in the local DLQ).
 *
 * Crash recovery on start: re-read every process id the inbox still has open
 * (a crash between 3 and 4: the inbox says done, so they are just cleared),
 * and look for reservations nobody remembers (a crash between 1 and 2:
 * `event.offline.list` shows their PROCESS_ID) and re-read them with `get` and
 * that process id, instead of leaving them hidden for 30 days.
 */
import { B24RulesError } from '../errors.js';
import type { B24ClientApi } from '../client/index.js';
import { realTimers } from '../clock.js';
import type { CompiledRule } from '../rules/index.js';
import type { InboxItemInput } from '../store/index.js';
import { startSource, type SourcePlugin } from './plugin.js';
import { countFinished, recordAdded, type Source, type SourceContext } from './types.js';

export interface OfflineConfig {
  client: B24ClientApi;
  /** The connector key: passed to bind, get, list and (by the engine) to every write, so the engine's own changes do not come back. */
  authConnector: string;
  /** Event names the rules need (ONCRMDEALUPDATE...). */
  events: string[];
  /** Records per `event.offline.get`. @default 50 */
  batchSize?: number;
  /** Wait between polls when the queue was empty. @default 2000 */
  pollIntervalMs?: number;
  /** While the queue stays empty the wait doubles up to this (each poll costs a request of the portal's rate budget). @default 5 × pollIntervalMs */
  maxIdleIntervalMs?: number;
  /** Longest wait after failed polls (exponential backoff). @default 30000 */
  maxBackoffMs?: number;
  /** Stop reserving while the inbox holds this many unfinished items. @default 1000 */
  maxDepth?: number;
  /** Pages of `event.offline.list` scanned for unknown reservations at start. @default 200 */
  maxListPages?: number;
  /** How long stop() waits for a poll in flight; past it the poll is abandoned (its reservation is recovered at the next start). @default 2000 */
  stopTimeoutMs?: number;
  /** Repeat the recovery scan this often while running (a batch reserved but not stored, e.g. the disk was full). @default 600000 */
  recoverEveryMs?: number;
}

/** What the daemon's configuration may tune (DaemonOptions.offline). */
export type OfflineTuning = Pick<OfflineConfig, 'pollIntervalMs' | 'batchSize' | 'maxDepth'>;

export const DEFAULTS = {
  /** @default 50 (the portal's maximum page) */
  batchSize: 50,
  /** @default 2000 ms */
  pollIntervalMs: 2000,
  /** @default 30000 ms */
  maxBackoffMs: 30_000,
  /** @default 1000 */
  maxDepth: 1000,
  /** @default 200 (10,000 records) */
  maxListPages: 200,
  /** @default 2000 ms */
  stopTimeoutMs: 2000,
  /** @default 10 min */
  recoverEveryMs: 600_000,
};

/**
 * An offline-queue call failed in a way retrying will not fix (no admin rights,
 * webhook auth...: OFFLINE_SOURCE_FAILED), or the portal answered a reservation
 * that could never be cleared (OFFLINE_NO_PROCESS_ID; the source polls again).
 */
export class OfflineSourceError extends B24RulesError {
  constructor(message: string, options: { cause?: unknown; code?: 'OFFLINE_SOURCE_FAILED' | 'OFFLINE_NO_PROCESS_ID' } = {}) {
    super(options.code ?? 'OFFLINE_SOURCE_FAILED', message, options.cause === undefined ? {} : { cause: options.cause });
  }
}

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

interface GetResult {
  process_id: string | null;
  events: OfflineRecord[];
}

export interface OfflineSource extends Source {
  /** Bind the offline events that `event.get` does not show yet; returns the names bound. */
  bind(): Promise<string[]>;
  /** Re-read known and unknown reservations into the inbox; returns the process ids recovered. */
  recover(): Promise<{ known: string[]; unknown: string[] }>;
  /** Reserve one batch and store it; returns how many records it held (0: queue empty or backpressure). */
  poll(): Promise<number>;
  /** Clear done message ids, report dead ones (event.offline.error), per open process id. */
  acknowledge(): Promise<void>;
  /** Wake the poll loop now (ONOFFLINEEVENT push signal). */
  signal(): void;
  setEvents(events: string[]): Promise<void>;
}

function asRecordObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function createOfflineSource(config: OfflineConfig, ctx: SourceContext): OfflineSource {
  const timers = ctx.timers ?? realTimers;
  const batchSize = config.batchSize ?? DEFAULTS.batchSize;
  const pollInterval = config.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const maxIdle = Math.max(pollInterval, config.maxIdleIntervalMs ?? pollInterval * 5);
  let idleWait = pollInterval;
  const maxBackoff = config.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
  const maxDepth = config.maxDepth ?? DEFAULTS.maxDepth;
  const maxListPages = config.maxListPages ?? DEFAULTS.maxListPages;
  const connector = config.authConnector;
  let events = [...new Set(config.events.map((e) => e.toUpperCase()))];
  let running = false;
  let timer: unknown = null;
  let inFlight: Promise<void> | null = null;
  let failures = 0;
  let lastRecover = 0;
  const recoverEvery = config.recoverEveryMs ?? DEFAULTS.recoverEveryMs;

  function toItems(processId: string, records: OfflineRecord[]): InboxItemInput[] {
    const now = ctx.clock.now();
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
        receivedAt: now,
      };
    });
  }

  function store(processId: string, records: OfflineRecord[]): number {
    if (records.length === 0) return 0;
    const result = ctx.inbox.add(toItems(processId, records));
    recordAdded(ctx, 'offline', result);
    return result.inserted;
  }

  async function get(params: Record<string, unknown>): Promise<GetResult> {
    const env = await config.client.call<GetResult>('event.offline.get', { ...params, auth_connector: connector });
    const r = env.result ?? { process_id: null, events: [] };
    return { process_id: r.process_id ?? null, events: Array.isArray(r.events) ? r.events : [] };
  }

  /** Re-read every record still reserved under `processId` (paging by ID when a page is full). */
  async function reread(processId: string): Promise<number> {
    let inserted = 0;
    let lastId: number | null = null;
    for (let page = 0; page < maxListPages; page++) {
      const params: Record<string, unknown> = { process_id: processId, clear: 0, limit: batchSize, order: { ID: 'ASC' } };
      if (lastId !== null) params.filter = { '>ID': lastId };
      const r = await get(params);
      inserted += store(processId, r.events);
      if (r.events.length < batchSize) break;
      const maxId: number = Math.max(...r.events.map((e) => Number(e.ID)));
      if (!Number.isFinite(maxId) || (lastId !== null && maxId <= lastId)) break;
      lastId = maxId;
    }
    return inserted;
  }

  async function bind(): Promise<string[]> {
    if (events.length === 0) return [];
    const env = await config.client.call<Array<Record<string, unknown>>>('event.get', {});
    const bound = new Set<string>();
    for (const h of Array.isArray(env.result) ? env.result : []) {
      // A binding for another connector queues to another queue: it does not count.
      const sameConnector = h.connector_id === undefined || h.connector_id === null || String(h.connector_id) === connector;
      if (Number(h.offline) === 1 && sameConnector && typeof h.event === 'string') bound.add(h.event.toUpperCase());
    }
    const missing = events.filter((e) => !bound.has(e));
    for (const event of missing) {
      await config.client.call('event.bind', { event, event_type: 'offline', auth_connector: connector });
      ctx.logger.info({ event }, `bound offline event ${event}`);
    }
    return missing;
  }

  async function recover(): Promise<{ known: string[]; unknown: string[] }> {
    const known = ctx.inbox.openProcessIds();
    for (const pid of known) {
      const n = await reread(pid);
      ctx.logger.info({ processId: pid, inserted: n }, `offline: re-read known reservation ${pid}`);
    }
    const knownSet = new Set(known);
    const unknown = new Set<string>();
    let start = 0;
    for (let page = 0; page < maxListPages; page++) {
      const env = await config.client.call<OfflineRecord[]>('event.offline.list', {
        // Reserved records only (PROCESS_ID is '' until reserved); checked again below in case a portal ignores it.
        filter: { ERROR: 0, '>PROCESS_ID': '' },
        order: { ID: 'ASC' },
        start,
        auth_connector: connector,
      });
      const rows = Array.isArray(env.result) ? env.result : [];
      for (const row of rows) {
        const pid = row.PROCESS_ID ? String(row.PROCESS_ID) : '';
        if (pid !== '' && Number(row.ERROR ?? 0) === 0 && !knownSet.has(pid)) unknown.add(pid);
      }
      if (env.next === undefined || env.next === null || rows.length === 0) break;
      start = Number(env.next);
    }
    for (const pid of unknown) {
      const n = await reread(pid);
      ctx.logger.warn({ processId: pid, inserted: n }, `offline: recovered ${n} event(s) from reservation ${pid} that no one remembered (a crash between reserve and store)`);
    }
    await acknowledge();
    return { known, unknown: [...unknown] };
  }

  async function poll(): Promise<number> {
    if (ctx.inbox.depth() >= maxDepth) return 0;
    const r = await get({ clear: 0, limit: batchSize });
    if (r.events.length === 0) return 0;
    if (!r.process_id) {
      throw new OfflineSourceError('event.offline.get with clear=0 returned events without a process_id; refusing to store them, as they could never be cleared', { code: 'OFFLINE_NO_PROCESS_ID' });
    }
    store(r.process_id, r.events);
    ctx.logger.debug({ processId: r.process_id, count: r.events.length }, 'offline: reserved a batch');
    return r.events.length;
  }

  let acking: Promise<void> | null = null;

  /** One acknowledgement pass at a time (the daemon's loop and a recovery may both ask). */
  function acknowledge(): Promise<void> {
    acking ??= acknowledgeOnce().finally(() => {
      acking = null;
    });
    return acking;
  }

  async function acknowledgeOnce(): Promise<void> {
    for (const pid of ctx.inbox.openProcessIds()) {
      const finished = ctx.inbox.finished('offline', pid);
      if (finished.length === 0) continue;
      const done = finished.filter((i) => i.status === 'done' && i.messageId !== undefined);
      const dead = finished.filter((i) => i.status === 'dead' && i.messageId !== undefined);
      try {
        if (done.length > 0) {
          await config.client.call('event.offline.clear', { process_id: pid, message_id: done.map((i) => i.messageId), auth_connector: connector });
          ctx.metrics?.offlineAcks.inc({ method: 'clear' }, done.length);
        }
        if (dead.length > 0) {
          await config.client.call('event.offline.error', { process_id: pid, message_id: dead.map((i) => i.messageId), auth_connector: connector });
          ctx.metrics?.offlineAcks.inc({ method: 'error' }, dead.length);
          ctx.logger.warn({ processId: pid, messageIds: dead.map((i) => i.messageId) }, `offline: ${dead.length} event(s) dead-lettered; reported with event.offline.error`);
        }
        ctx.inbox.markAcknowledged(finished.map((i) => i.id));
        countFinished(ctx, 'offline', finished);
      } catch (err) {
        // Not marked: the next acknowledge (or the next start) clears them.
        ctx.logger.warn({ err, processId: pid }, 'offline: acknowledging failed; will retry');
      }
    }
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer !== null) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = null;
      inFlight = loopOnce().finally(() => {
        inFlight = null;
      });
    }, ms);
  }

  async function loopOnce(): Promise<void> {
    if (!running) return;
    try {
      if (ctx.clock.now() - lastRecover >= recoverEvery) {
        lastRecover = ctx.clock.now();
        await recover();
      }
      const n = await poll();
      failures = 0;
      if (n > 0) idleWait = pollInterval;
      schedule(n >= batchSize ? 0 : n > 0 ? pollInterval : idleWait);
      if (n === 0) idleWait = Math.min(maxIdle, idleWait * 2);
    } catch (err) {
      failures++;
      const wait = Math.min(maxBackoff, pollInterval * 2 ** Math.min(failures, 10));
      ctx.logger.warn({ err, retryInMs: wait }, 'offline: polling failed');
      schedule(wait);
    }
  }

  return {
    kind: 'offline',
    bind,
    recover,
    poll,
    acknowledge,
    signal() {
      idleWait = pollInterval;
      if (running && inFlight === null) schedule(0);
    },
    async setEvents(next) {
      events = [...new Set(next.map((e) => e.toUpperCase()))];
      if (running) await bind();
    },
    async start() {
      try {
        await bind();
      } catch (err) {
        throw new OfflineSourceError(
          `cannot bind the offline events the rules need (${err instanceof Error ? err.message : String(err)}): offline events need an OAuth app authorized by a portal administrator, and auth_connector needs the Professional plan or higher (feature.get CODE=rest_auth_connector)`,
          { cause: err },
        );
      }
      await recover();
      lastRecover = ctx.clock.now();
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
      if (inFlight) {
        const limit = config.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, limit)))]);
        clearTimeout(timer);
      }
    },
  };
}

/** The offline event names that `rules` need (enabled event rules). */
export function offlineEventNames(rules: CompiledRule[]): string[] {
  return [...new Set(rules.filter((r) => r.enabled && r.trigger.kind === 'event').map((r) => (r.trigger as { event: string }).event.toUpperCase()))];
}

/**
 * The offline-events plug-in: attached in OAuth mode with a connector unless
 * turned off. Attaching binds the events the rules need and recovers
 * reservations before it resolves, so the daemon's loop starts after both.
 */
export const offlinePlugin: SourcePlugin = {
  kind: 'offline',
  triggers: ['event'],
  applies: (setup) => setup.authMode === 'oauth' && setup.offline !== false && Boolean(setup.authConnector),
  async attach(ctx) {
    const connector = ctx.setup.authConnector;
    if (!connector) throw new OfflineSourceError('offline events need an auth connector (OAuth)');
    const tuning = typeof ctx.setup.offline === 'object' ? ctx.setup.offline : {};
    const source = await startSource(createOfflineSource({ client: ctx.client, authConnector: connector, events: offlineEventNames(ctx.rules), ...tuning }, ctx));
    return {
      kind: source.kind,
      detach: () => source.stop(),
      acknowledge: () => source.acknowledge(),
      wake: () => source.signal(),
      rulesChanged: (rules) => async () => {
        try {
          await source.setEvents(offlineEventNames(rules));
        } catch (err) {
          ctx.logger.warn({ err }, 'binding the offline events of the new rules failed; will bind at the next start');
        }
      },
    };
  },
};
