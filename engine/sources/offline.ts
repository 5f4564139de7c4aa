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
 *    `event.offline.error` (they stay in the local DLQ); offline-acks.ts.
 *    While the daemon runs, the clears ride along in the next batch request
 *    anyone sends (no request of their own); all reservations' clears share
 *    one request.
 *
 * Pages are as large as the portal allows. The docs give `limit` a default
 * of 50 and no maximum, and the rest module's handler (`Event::eventOfflineGet`)
 * only refuses a limit <= 0: the page is `batchSize`, 1,000 by default (the
 * inbox's backpressure depth: a larger page would only hide more records in
 * one reservation). Polling backs off while the queue is idle, to a long
 * safety poll when the ONOFFLINEEVENT wake-up is armed (offline-cadence.ts).
 *
 * The start first checks the plan's features (offline-features.ts).
 *
 * Recovery (offline-reservations.ts: batched, a few requests however many
 * reservations are open): re-read every process id the inbox still has open
 * (a crash between 3 and 4: the inbox says done, so they are just cleared),
 * and look for reservations nobody remembers (a crash between 1 and 2:
 * `event.offline.list` shows their PROCESS_ID) and re-read them with `get` and
 * that process id, instead of leaving them hidden for 30 days. It runs in the
 * source's own loop, not in start(): the daemon starts working at once (the
 * inbox already holds what the open reservations brought), and polling for
 * new events follows the recovery. It repeats every `recoverEveryMs`.
 *
 * A reserving `get` whose answer may have been lost (no answer, a timeout, a
 * 5xx: the client re-sends the read, and the re-send reserves the *next*
 * batch) leaves a reservation nobody knows. The loop looks for it with
 * `event.offline.list` right after that poll, or, when every attempt failed,
 * before the next poll: such a batch is hidden for one poll cycle, not until
 * the next periodic recovery.
 */
import type { B24ClientApi, ClientEvent } from '../client/index.js';
import { realTimers } from '../clock.js';
import { B24RulesError } from '../errors.js';
import { createOfflineAcker } from './offline-acks.js';
import { bindOfflineEvents } from './offline-bind.js';
import { PollCadence } from './offline-cadence.js';
import { OfflineSourceError } from './offline-error.js';
import { checkOfflineFeatures } from './offline-features.js';
import { createReservationReader, toInboxItems, type OfflineRecord } from './offline-reservations.js';
import { recordAdded, type Source, type SourceContext } from './types.js';

export { OfflineSourceError } from './offline-error.js';
export type { OfflineRecord } from './offline-reservations.js';

export interface OfflineConfig {
  client: B24ClientApi;
  /** The connector key: passed to bind, get, list and (by the engine) to every write, so the engine's own changes do not come back. */
  authConnector: string;
  /** Event names the rules need (ONCRMDEALUPDATE...). */
  events: string[];
  /** Records per `event.offline.get` (its `limit`; the portal sets no maximum). @default 1000 */
  batchSize?: number;
  /** Wait between polls when the queue was empty. @default 2000 */
  pollIntervalMs?: number;
  /** While the queue stays empty the wait doubles up to this (each poll costs a request of the portal's rate budget). @default 5 × pollIntervalMs */
  maxIdleIntervalMs?: number;
  /** With the ONOFFLINEEVENT wake-up armed, the idle wait doubles up to this instead: a safety poll in case a signal is lost. @default 600000 */
  safetyPollMs?: number;
  /** An ONOFFLINEEVENT receiver is attached (the outgoing-webhook receiver wakes this source); with the binding, the wake-up is armed. @default false */
  signalReceiver?: boolean;
  /** Longest wait after failed polls (exponential backoff). @default 30000 */
  maxBackoffMs?: number;
  /** Stop reserving while the inbox holds this many unfinished items. @default 1000 */
  maxDepth?: number;
  /** Pages of `event.offline.list` scanned for unknown reservations (50 records each). @default 200 */
  maxListPages?: number;
  /** How long stop() waits for a poll in flight; past it the poll is abandoned (its reservation is recovered at the next start). @default 2000 */
  stopTimeoutMs?: number;
  /** Longest the start waits for the binding before it goes on in the background. @default 5000 ms */
  startBindWaitMs?: number;
  /** Repeat the full recovery this often while running (a batch reserved but not stored, e.g. the disk was full). @default 600000 */
  recoverEveryMs?: number;
}

/** What the daemon's configuration may tune (DaemonOptions.offline). */
export type OfflineTuning = Pick<OfflineConfig, 'pollIntervalMs' | 'batchSize' | 'maxDepth' | 'safetyPollMs'>;

export const DEFAULTS = {
  /**
   * @default 1000. The docs give `limit` a default of 50 and no maximum; the portal's handler
   * refuses only a limit <= 0. 1,000 is the default inbox depth (maxDepth): one page fills it.
   */
  batchSize: 1000,
  /** @default 2000 ms */
  pollIntervalMs: 2000,
  /** @default 10 min: with the wake-up armed, an idle queue costs one poll (and one recovery scan) per 10 minutes */
  safetyPollMs: 600_000,
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
  /** Longest the start waits for the binding; a slower one (a busy portal, the client's backoff) goes on in the background. @default 5000 ms */
  startBindWaitMs: 5_000,
};

/**
 * Client error codes of an attempt whose request may have reached the portal
 * and run there without an answer coming back. A refusal for load
 * (RATE_LIMITED, OPERATION_TIME_LIMIT, OVERLOAD_LIMIT) or a 4xx did not run.
 */
const MAY_HAVE_RUN = new Set(['NETWORK_ERROR', 'NETWORK_TIMEOUT', 'B24_SERVER_ERROR', 'B24_BAD_RESPONSE', 'UNEXPECTED', 'UNKNOWN']);

/** Whether a failed reserving `get` may have reserved a batch whose answer was lost. */
function mayHaveRun(err: unknown): boolean {
  return !(err instanceof B24RulesError) || MAY_HAVE_RUN.has(err.code);
}

export interface OfflineSource extends Source {
  /** Bind the offline events that `event.get` does not show yet; returns the names bound. */
  bind(): Promise<string[]>;
  /** Re-read known and unknown reservations into the inbox, then acknowledge; returns the process ids re-read. */
  recover(): Promise<{ known: string[]; unknown: string[] }>;
  /** Reserve one batch and store it; returns how many records it held (0: queue empty or backpressure). */
  poll(): Promise<number>;
  /**
   * Clear done message ids (all reservations in one request), report dead ones (event.offline.error).
   * `rideAlong` (the daemon's call after each tick): while running, the clears wait for the next batch
   * request and this resolves once they are queued; otherwise it resolves once the portal answered.
   */
  acknowledge(options?: { rideAlong?: boolean }): Promise<void>;
  /** Wake the poll loop now (ONOFFLINEEVENT push signal). */
  signal(): void;
  /** Whether the ONOFFLINEEVENT wake-up is armed (bound, a receiver attached, signals arriving). */
  readonly wakeUpArmed: boolean;
  setEvents(events: string[]): Promise<void>;
}

export function createOfflineSource(config: OfflineConfig, ctx: SourceContext): OfflineSource {
  const timers = ctx.timers ?? realTimers;
  const batchSize = config.batchSize ?? DEFAULTS.batchSize;
  const pollInterval = config.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const maxIdle = Math.max(pollInterval, config.maxIdleIntervalMs ?? pollInterval * 5);
  const maxBackoff = config.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
  const cadence = new PollCadence({
    pollIntervalMs: pollInterval,
    maxIdleMs: maxIdle,
    safetyPollMs: config.safetyPollMs ?? DEFAULTS.safetyPollMs,
    maxBackoffMs: maxBackoff,
    receiver: config.signalReceiver ?? false,
    logger: ctx.logger,
  });
  const maxDepth = config.maxDepth ?? DEFAULTS.maxDepth;
  const maxListPages = config.maxListPages ?? DEFAULTS.maxListPages;
  const connector = config.authConnector;
  let events = [...new Set(config.events.map((e) => e.toUpperCase()))];
  let running = false;
  let timer: unknown = null;
  let inFlight: Promise<void> | null = null;
  /** A signal arrived while a cycle was in flight: poll again as soon as it ends. */
  let wakePending = false;
  let failures = 0;
  /** The start could not bind (the portal was busy or unreachable): the loop binds before it polls. */
  let bindPending = false;
  /** The start's binding, still running in the background when it outlasted startBindWaitMs. */
  let binding: Promise<void> | null = null;
  const recoverEvery = config.recoverEveryMs ?? DEFAULTS.recoverEveryMs;
  /** When the next full recovery is due (clock ms); 0: at the loop's first cycle. */
  let recoverAt = 0;
  let recoverFailures = 0;
  /** A reserving get may have lost its answer: look for the reservation before reserving more. */
  let scanDue = false;

  function store(processId: string, records: OfflineRecord[]): number {
    if (records.length === 0) return 0;
    const result = ctx.inbox.add(toInboxItems(processId, records, ctx.clock.now()));
    recordAdded(ctx, 'offline', result);
    return result.inserted;
  }

  const reader = createReservationReader({ client: config.client, authConnector: connector, batchSize, maxListPages, store, logger: ctx.logger });

  let featuresChecked = false;
  async function bind(): Promise<string[]> {
    if (!featuresChecked) {
      await checkOfflineFeatures(config.client, ctx.logger);
      featuresChecked = true;
    }
    const r = await bindOfflineEvents(config.client, connector, events, ctx.logger);
    cadence.wakeUpBound = r.wakeUp;
    return r.bound;
  }

  const acker = createOfflineAcker(config.client, connector, ctx);
  let acking: Promise<void> | null = null;
  let scanning = false;

  /**
   * The list scan pages by offset: records cleared while it runs would shift
   * its pages and could hide a reservation. It waits for an acknowledgement in
   * flight and for the clears still riding along, and acknowledgements asked
   * for meanwhile are skipped (the daemon's next one, after its next tick,
   * clears them).
   */
  async function scan(): Promise<{ processIds: string[]; requests: number }> {
    while (acking) await acking;
    scanning = true;
    try {
      await acker.settle();
      return await reader.findUnknown(new Set(ctx.inbox.openProcessIds()));
    } finally {
      scanning = false;
    }
  }

  /** Find the reservations the inbox does not know and re-read them; returns their process ids. */
  async function recoverUnknown(why: string): Promise<string[]> {
    const found = await scan();
    const report = await reader.reread(found.processIds);
    for (const [pid, n] of report.inserted) {
      ctx.logger.warn({ processId: pid, inserted: n }, `offline: recovered ${n} event(s) from reservation ${pid} that no one remembered (${why})`);
    }
    return found.processIds;
  }

  async function recover(): Promise<{ known: string[]; unknown: string[] }> {
    const known = ctx.inbox.openProcessIds();
    if (known.length > 0) {
      const report = await reader.reread(known);
      const inserted = [...report.inserted.values()].reduce((a, b) => a + b, 0);
      ctx.logger.info({ processIds: known, inserted, requests: report.requests }, `offline: re-read ${known.length} known reservation(s) in ${report.requests} request(s)`);
    }
    const unknown = await recoverUnknown('a crash between reserve and store');
    scanDue = false;
    await acknowledge();
    return { known, unknown };
  }

  /**
   * A due full recovery, or the scan after a lost answer. A failure is logged
   * and tried again (a full recovery after a growing wait, a scan before the
   * next poll); polling goes on meanwhile.
   */
  async function catchUp(): Promise<void> {
    const full = ctx.clock.now() >= recoverAt;
    if (!full && !scanDue) return;
    try {
      if (full) {
        await recover();
        recoverFailures = 0;
        recoverAt = ctx.clock.now() + recoverEvery;
      } else {
        await recoverUnknown('the answer to the get that reserved it was lost');
        scanDue = false;
      }
    } catch (err) {
      if (full) {
        recoverFailures++;
        recoverAt = ctx.clock.now() + Math.min(maxBackoff, pollInterval * 2 ** Math.min(recoverFailures, 10));
      }
      ctx.logger.warn({ err }, full ? 'offline: recovering reservations failed; will try again' : 'offline: looking for a reservation whose answer was lost failed; will try again before the next poll');
    }
  }

  async function poll(): Promise<number> {
    if (ctx.inbox.depth() >= maxDepth) return 0;
    cadence.pollStarted();
    let lost = false;
    const onEvent = (e: ClientEvent): void => {
      if (e.type === 'retry' && MAY_HAVE_RUN.has(e.code)) lost = true;
    };
    let r;
    try {
      r = await reader.get({ clear: 0, limit: batchSize }, { onEvent });
    } catch (err) {
      if (lost || mayHaveRun(err)) scanDue = true;
      throw err;
    }
    // An earlier attempt may have reserved a batch and lost the answer; the loop looks for it right away.
    if (lost) scanDue = true;
    if (r.events.length === 0) return 0;
    if (!r.process_id) {
      throw new OfflineSourceError('event.offline.get with clear=0 returned events without a process_id; refusing to store them, as they could never be cleared', { code: 'OFFLINE_NO_PROCESS_ID' });
    }
    try {
      store(r.process_id, r.events);
    } catch (err) {
      // Reserved but not stored (the disk is full...): look for it before reserving more, not only at the periodic recovery.
      scanDue = true;
      throw err;
    }
    ctx.logger.debug({ processId: r.process_id, count: r.events.length }, 'offline: reserved a batch');
    return r.events.length;
  }

  /** One acknowledgement pass at a time (the daemon's loop and a recovery may both ask); none during a list scan. */
  function acknowledge(options: { rideAlong?: boolean } = {}): Promise<void> {
    if (scanning) return Promise.resolve();
    acking ??= acker.run(running && options.rideAlong === true).finally(() => {
      acking = null;
    });
    return acking;
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer !== null) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = null;
      inFlight = loopOnce().finally(() => {
        inFlight = null;
        if (wakePending) {
          wakePending = false;
          schedule(cadence.immediate());
        }
      });
    }, ms);
  }

  async function loopOnce(): Promise<void> {
    if (!running) return;
    await catchUp();
    try {
      if (binding) await binding;
      if (bindPending) {
        await bind();
        bindPending = false;
        ctx.logger.info({ events }, 'offline: events bound');
      }
      const n = await poll();
      failures = 0;
      if (scanDue) await catchUp();
      schedule(cadence.afterPoll(n, n >= batchSize));
    } catch (err) {
      failures++;
      const wait = cadence.afterFailure(failures);
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
      cadence.signal();
      if (!running) return;
      if (inFlight === null) schedule(cadence.immediate());
      else wakePending = true;
    },
    get wakeUpArmed() {
      return cadence.armed;
    },
    async setEvents(next) {
      events = [...new Set(next.map((e) => e.toUpperCase()))];
      if (running) await bind();
    },
    async start() {
      // Rights, the plan or an unknown event stop the start with their hint; a busy or unreachable portal
      // (a rate-limit storm, 5xx, network) does not: the daemon starts and the loop binds with its backoff.
      // Nor does a slow one: past startBindWaitMs the binding goes on in the background, so the daemon's
      // other sources (outgoing webhooks, which the portal never re-sends) are not held up by the client's backoff.
      const attempt = bind().then(
        () => null,
        (err: unknown) => err,
      );
      let slowTimer: unknown = null;
      const slow = new Promise<'slow'>((resolve) => (slowTimer = timers.setTimeout(() => resolve('slow'), config.startBindWaitMs ?? DEFAULTS.startBindWaitMs)));
      const first = await Promise.race([attempt, slow]);
      timers.clearTimeout(slowTimer);
      const failed = (err: unknown) => {
        bindPending = true;
        ctx.logger.warn({ err }, 'offline: binding the events failed; starting anyway, binding again in the background');
      };
      if (first === 'slow') {
        bindPending = true;
        ctx.logger.warn({ waitedMs: config.startBindWaitMs ?? DEFAULTS.startBindWaitMs }, 'offline: binding the events is slow; starting anyway, binding goes on in the background');
        binding = attempt
          .then((err) => {
            if (err === null) bindPending = false;
            else failed(err);
          })
          .finally(() => {
            binding = null;
          });
      } else if (first !== null) {
        if (!(first instanceof B24RulesError && first.kind === 'operational')) throw first;
        failed(first);
      }
      // Recovery is the loop's first step (catchUp), so start() returns after the binding only.
      recoverAt = 0;
      running = true;
      schedule(cadence.immediate());
    },
    async stop() {
      running = false;
      wakePending = false;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
      // The poll in flight, and the clears still riding along (sent now): past the limit they are abandoned (read again at the next start).
      const limit = config.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
      let limitTimer: ReturnType<typeof setTimeout> | undefined;
      const done = Promise.all([inFlight, acker.settle().catch(() => undefined)]).then(() => undefined);
      await Promise.race([done, new Promise<void>((resolve) => (limitTimer = setTimeout(resolve, limit)))]);
      clearTimeout(limitTimer);
    },
  };
}
