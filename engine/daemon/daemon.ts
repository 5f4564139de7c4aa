/**
 * The daemon: one process that owns the state file, runs the engine's tick
 * loop, and feeds it from the work sources of its registry (by default
 * engine/sources/registry.ts: schedules, form webhooks, offline events in
 * OAuth mode, outgoing webhooks when an application token is configured),
 * with `/healthz` and `/metrics` on the same HTTP server.
 *
 * Lifecycle: `start()` loads the rules (refusing a set with errors), opens the
 * state, attaches the sources in registry order (the offline source binds its
 * events; it recovers open reservations in its own loop, so the daemon's
 * loop starts at once) and starts the loop. `reload()` swaps in a new rule
 * set only if it validates and every source accepts it. `stop()` stops
 * taking work, lets the tick in flight finish (bounded: past the deadline it
 * is abandoned, which the effect ledger makes safe), logs and counts the runs
 * finished so far, acknowledges what is done, and closes the state.
 */
import { realTimers, systemClock, type Clock, type Timers } from '../clock.js';
import { authConnectorFor } from '../config.js';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createClient, type B24ClientApi, type ClientConfig, type ClientOptions } from '../client/index.js';
import { createEngine, type CreateEngineOptions, type EngineStats, type EngineTuning, type FetchLike, type TickReport } from '../pipeline/index.js';
import type { CompiledRule } from '../rules/index.js';
import { DAEMON_SOURCES, type OfflineTuning, type SourcePlugin } from '../sources/index.js';
import { createDaemonMetrics, startStatusServer, type DaemonMetrics, type HealthReport, type RequestHandler, type StatusServer } from '../status/index.js';
import { openStateStore, type StateStore } from '../store/index.js';
import { AttachedSources } from './attached-sources.js';
import { countClientEvents } from './client-metrics.js';
import { loadRuleSet, logRefusedReload, refusedReload, type RefusedReload } from './rule-set.js';
import { watchRules } from './rule-watcher.js';
import { Waker } from './waker.js';
import { RunLog } from './run-log.js';

export { RuleSetInvalidError } from './rule-set.js';

export interface DaemonOptions {
  /** Rule files and directories. */
  rulesPaths: string[];
  /** The state file (`:memory:` in some tests). One of `statePath` and `openStore` is required. */
  statePath?: string;
  /**
   * Opens the state store instead of `statePath` (a worker: the portal's PostgreSQL schema). Called once, at start;
   * stop() closes what it returns.
   */
  openStore?: () => StateStore;
  /** Where the portal is and how to authenticate (loadConfig). */
  config: ClientConfig;
  logger: Logger;
  /** Status and webhook server `host:port`; null: no server. @default '127.0.0.1:7424' */
  listen?: string | null;
  /** Values for rules' `env.NAME` and form-hook secrets. @default process.env */
  env?: Record<string, string | undefined>;
  /** The one clock of the daemon: its loop, its sources, its engine, its state store and its REST client. @default systemClock */
  clock?: Clock;
  timers?: Timers;
  /** OAuth: the connector key for offline events and the client's writes. @default CONFIG_DEFAULTS.authConnector (engine/config.ts) */
  authConnector?: string;
  /** Enables the outgoing-webhook receiver (`/b24/events`) with this token. @default undefined */
  applicationToken?: string;
  /** Offline source in OAuth mode. @default true */
  offline?: boolean | OfflineTuning;
  /** The source plug-ins, attached in this order when they apply. @default DAEMON_SOURCES (engine/sources/registry.ts) */
  sources?: readonly SourcePlugin[];
  /** Reload when a rule file changes. @default true */
  watch?: boolean;
  /** Wait between ticks when idle (ms). @default 250 */
  tickIntervalMs?: number;
  /** Longest time stop() spends draining (ms): stopping the pulling sources, the tick in flight, the last acknowledgement. @default 6000 */
  drainTimeoutMs?: number;
  /** Passed to the REST client (tests: rate limit, retries); its clock is the daemon's. */
  clientOptions?: Omit<ClientOptions, 'logger' | 'onEvent' | 'authConnector' | 'clock'>;
  /** Passed to the engine. */
  engineOptions?: EngineTuning;
  /** For `http` actions. @default globalThis.fetch */
  http?: FetchLike;
  /** A ready client instead of one built from `config` (tests). */
  client?: B24ClientApi;
  /**
   * More handlers on the status server, after the sources' (the web console, engine/console): made
   * with the daemon once its state is open, and the address the server will listen on (the console
   * checks it: no token, loopback only); `close` runs when the server closes. @default none
   */
  mount?: (daemon: Daemon, server: { listen: string }) => { handlers: RequestHandler[]; close?: () => void };
  /**
   * Whether this process may send to the portal now (a worker: it still holds the portal's lease). Passed to the
   * REST client (ClientOptions.canSend: a request is not sent when false), and the loop does not tick while false.
   * @default always true
   */
  canSend?: () => boolean;
  /**
   * Let the event loop run before each tick (a worker: many portals' engines and the lease renewals share one thread,
   * and a PostgreSQL store's statements block it while they run, so a backlog ticked without a break would starve the
   * renewals). @default false: the single-portal daemon ticks straight on
   */
  yieldEachTick?: boolean;
}

export const DEFAULTS = {
  /** @default '127.0.0.1:7424' */
  listen: '127.0.0.1:7424',
  /** @default 250 ms */
  tickIntervalMs: 250,
  /**
   * @default 6000 ms. The CLI promises an exit within 10 s of SIGTERM: after the
   * drain the server closes (at most STATUS_SERVER_DEFAULTS.closeGraceMs), which
   * leaves a margin of 3 s, not the few hundred ms a loaded machine eats.
   */
  drainTimeoutMs: 6000,
  /** @default 10000 ms, the longest wait after a failed tick */
  tickBackoffMaxMs: 10_000,
  /** @default 500 finished runs read per query when logging them */
  runLogPage: 500,
};

interface Engine {
  tick(): Promise<TickReport>;
  setRules(rules: CompiledRule[]): void;
  readonly stats: EngineStats;
}

export interface Daemon {
  /** Base URL of the status/webhook server, once started (null without one). */
  readonly url: string | null;
  readonly metrics: DaemonMetrics;
  /** The open state store (after start). */
  readonly store: StateStore;
  readonly rules: CompiledRule[];
  /** The last rule reload refused (its error diagnostics), or null when the last reload took. */
  readonly lastRefusedReload: RefusedReload | null;
  start(): Promise<void>;
  /** Reload the rule files; false (and the old set kept) when the new set has errors. */
  reload(): Promise<boolean>;
  /**
   * Stop taking work, drain, persist. Resolves `{ abandoned }`: true when the tick in flight had to be left unfinished.
   * `drainTimeoutMs` replaces the option's for this stop (a worker handing a portal over, its lease still held, can wait longer).
   */
  stop(options?: { drainTimeoutMs?: number }): Promise<{ abandoned: boolean }>;
  /** Resolves after the next complete tick (tests and `rules apply`). */
  nextTick(): Promise<TickReport>;
  /** What `/healthz` reports: running, rules, inbox depth, DLQ size, the last tick and its error, the sources. */
  health(): HealthReport;
}

export function createDaemon(options: DaemonOptions): Daemon {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? realTimers;
  // The tick loop's own wait is what keeps the process alive while the daemon runs (the sources' timers are unref'd).
  const loopTimers: Timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  const env = options.env ?? process.env;
  const tickInterval = options.tickIntervalMs ?? DEFAULTS.tickIntervalMs;
  const authConnector = authConnectorFor(options.config, options.authConnector);
  const canSend = options.canSend ?? (() => true);

  let store: StateStore | undefined;
  let rules: CompiledRule[] = [];
  let engine: Engine | undefined;
  let ownClient: { close(): Promise<void> } | null = null;
  let server: StatusServer | null = null;
  let stopWatching: (() => void) | null = null;
  const sources = new AttachedSources(options.sources ?? DAEMON_SOURCES, logger);
  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let lastTick: { at: number; error: string | null } = { at: 0, error: null };
  const tickWaiters: Array<(r: TickReport) => void> = [];
  let reloading: Promise<boolean> | null = null;
  let starting: Promise<void> | null = null;
  let lastRefused: RefusedReload | null = null;
  let mounted: { handlers: RequestHandler[]; close?: () => void } | null = null;
  const closeMounted = (): void => {
    mounted?.close?.();
    mounted = null;
  };

  const metrics = createDaemonMetrics({
    depth: () => (store ? store.inbox.depth() : 0),
    dlqSize: () => (store ? store.dlq.count() : 0),
    oldestAge: () => {
      const at = store?.inbox.oldestWaitingAt() ?? null;
      return at === null ? 0 : Math.max(0, clock.now() - at) / 1000;
    },
  });

  const runLog = new RunLog(logger, metrics, DEFAULTS.runLogPage);
  const load = () => loadRuleSet(options.rulesPaths, logger, env);

  const waker = new Waker(loopTimers);
  const notify = (): void => waker.notify();
  const sleep = (ms: number): Promise<void> => waker.sleep(ms);

  async function loop(): Promise<void> {
    let failures = 0;
    while (running) {
      let report: TickReport;
      if (options.yieldEachTick) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!running) break;
      }
      // Without the lease every request fails at once, unsent: ticking would only spin.
      if (!canSend()) {
        await sleep(tickInterval);
        continue;
      }
      // Work stored from here on, while the tick runs, ends the idle wait after it.
      waker.clear();
      try {
        report = await (engine as Engine).tick();
        failures = 0;
        lastTick = { at: clock.now(), error: null };
        metrics.ticks.inc({ outcome: 'ok' });
      } catch (err) {
        failures++;
        const e = err instanceof Error ? err.message : String(err);
        lastTick = { at: clock.now(), error: e };
        metrics.ticks.inc({ outcome: 'error' });
        logger.error({ err }, 'engine tick failed');
        if (running) await sleep(Math.min(DEFAULTS.tickBackoffMaxMs, tickInterval * 2 ** failures));
        continue;
      }
      const f = report.finished;
      const finished = f.done + f.skipped + f.failed + f.dead;
      // Every tick, not only when this one finished runs: it is one index lookup, and a run finished
      // by another process on the same state file is then not missed either.
      if (store) runLog.logFinished(store);
      await sources.acknowledge();
      for (const w of tickWaiters.splice(0)) w(report);
      const busy = report.items > 0 || report.runsCreated > 0 || report.calls > 0 || finished > 0 || (report.timersFired ?? 0) > 0;
      // The next wake-up is the idle interval, or sooner when a timer falls due before it.
      const untilTimer = report.nextTimerAt === undefined || report.nextTimerAt === null ? tickInterval : Math.max(0, report.nextTimerAt - clock.now());
      if (running && (!busy || !canSend())) await sleep(Math.min(tickInterval, untilTimer));
    }
  }

  function openStore(): StateStore {
    if (options.openStore) return options.openStore();
    if (options.statePath === undefined) throw new B24RulesError('CONFIG_INVALID', 'the daemon needs a state: statePath or openStore', { kind: 'user' });
    return openStateStore(options.statePath, { now: () => clock.now() });
  }

  function health(): HealthReport {
    if (!store) return { ok: false, error: 'not started' };
    const depth = store.inbox.depth();
    const dlq = store.dlq.count();
    return {
      ok: running,
      running,
      rules: rules.length,
      depth,
      dlq,
      lastTickAt: lastTick.at ? new Date(lastTick.at).toISOString() : null,
      lastTickError: lastTick.error,
      sources: sources.kinds,
    };
  }

  async function reload(): Promise<boolean> {
    if (starting) await starting.catch(() => undefined);
    if (!running) return false;
    if (reloading) return reloading;
    reloading = (async () => {
      let next: CompiledRule[];
      let applyToSources: () => Promise<void>;
      try {
        next = await load();
        // Every source validates before anything swaps, so one refusal (a bad cron) refuses the whole set.
        applyToSources = await sources.prepare(next);
      } catch (err) {
        metrics.reloads.inc({ outcome: 'refused' });
        logRefusedReload(logger, err);
        lastRefused = refusedReload(err, clock.now());
        return false;
      }
      rules = next;
      lastRefused = null;
      engine?.setRules(rules);
      await applyToSources();
      metrics.reloads.inc({ outcome: 'ok' });
      metrics.rulesLoaded.set(rules.length);
      logger.info({ rules: rules.length }, `rules reloaded: ${rules.length} rule(s)`);
      return true;
    })().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  const self: Daemon = {
    get url() {
      return server?.url ?? null;
    },
    metrics,
    get store() {
      if (!store) throw new B24RulesError('DAEMON_NOT_STARTED', 'the daemon is not started', { kind: 'bug' });
      return store;
    },
    get rules() {
      return rules;
    },
    get lastRefusedReload() {
      return lastRefused;
    },
    reload,
    nextTick: () => new Promise<TickReport>((resolve) => tickWaiters.push(resolve)),
    health,

    start() {
      starting ??= startOnce();
      return starting;
    },

    async stop(stopOptions) {
      if (starting) await starting.catch(() => undefined);
      return stopOnce(stopOptions?.drainTimeoutMs);
    },
  };
  return self;

  async function startOnce(): Promise<void> {
    rules = await load();
    store = openStore();
    runLog.startAt(store);
    const client =
      options.client ??
      createClient(options.config, {
        // Tasks stay in REST 1 batches unless B24_REST_V3=on: REST 3.0 sends each task alone, 23.3x the HTTP requests
        // for 500 tasks (npm run bench -- --only rest-v3), and the bucket is a real portal's bottleneck.
        ...options.clientOptions,
        ...(options.canSend ? { canSend: options.canSend } : {}),
        clock,
        logger: logger.child({ component: 'client' }),
        onEvent: countClientEvents(metrics),
        ...(authConnector ? { authConnector } : {}),
      });
    if (!options.client) ownClient = client as unknown as { close(): Promise<void> };
    const engineOptions: CreateEngineOptions = {
      store,
      client,
      rules,
      clock: () => clock.now(),
      logger: logger.child({ component: 'engine' }),
      mode: 'run',
      ...(options.http ? { http: options.http } : {}),
      options: { env, ...options.engineOptions },
    };
    engine = createEngine(engineOptions);

    // The server comes first, so /healthz answers while the sources attach (binding offline events is a few requests, retried).
    const listen = options.listen === undefined ? DEFAULTS.listen : options.listen;
    try {
      if (listen !== null) {
        mounted = options.mount?.(self, { listen }) ?? null;
        server = await startStatusServer({ listen, metrics: metrics.registry, health, handlers: [sources.handler, ...(mounted?.handlers ?? [])], logger });
      }
      await sources.attach({
        inbox: store.inbox,
        logger: logger.child({ component: 'sources' }),
        clock,
        timers,
        metrics,
        notify,
        setup: {
          authMode: options.config.auth.mode,
          ...(authConnector ? { authConnector } : {}),
          ...(options.applicationToken ? { applicationToken: options.applicationToken } : {}),
          offline: options.offline ?? true,
          env,
        },
        rules,
        client,
        schedules: store.schedules,
      });
    } catch (err) {
      await server?.close();
      server = null;
      closeMounted();
      store.close();
      await ownClient?.close().catch(() => undefined);
      throw err;
    }
    for (const hint of sources.unserved(rules)) logger.warn(hint);

    running = true;
    metrics.up.set(1);
    metrics.rulesLoaded.set(rules.length);
    loopDone = loop();
    if (options.watch ?? true) {
      stopWatching = watchRules({
        paths: options.rulesPaths,
        logger,
        onChange: (files) => {
          logger.info({ files }, 'rule files changed; reloading');
          void reload();
        },
      });
    }
    logger.info(
      { rules: rules.length, url: server?.url, sources: sources.kinds, ...sources.describe(server?.url ?? null) },
      `daemon started: ${rules.length} rule(s), sources ${sources.kinds.join(', ')}${server ? `, status on ${server.url}` : ''}`,
    );
  }

  async function stopOnce(drainTimeoutMs?: number): Promise<{ abandoned: boolean }> {
    if (!store) return { abandoned: false };
    if (!running && sources.empty) return { abandoned: false };
    const openStore = store;
    const stopStarted = clock.now();
    running = false;
    metrics.up.set(0);
    stopWatching?.();
    stopWatching = null;
    // One deadline for the whole drain, armed first: a source slow to stop must not push the tick's share past the 10 s promise.
    const budget = drainTimeoutMs ?? options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs;
    const drained: { phase: 'sources' | 'tick' | 'acknowledge' | 'done' } = { phase: 'sources' };
    let deadlineTimer: unknown;
    const deadline = new Promise<void>((resolve) => {
      deadlineTimer = timers.setTimeout(resolve, budget);
    });
    const drain = (async () => {
      // Receivers keep storing until the server closes: the portal never re-sends an
      // event it could not deliver, and a stored one is simply processed after the restart.
      await sources.detach('pulling');
      drained.phase = 'tick';
      notify();
      await loopDone;
      drained.phase = 'acknowledge';
      await sources.acknowledge();
      drained.phase = 'done';
    })();
    // Past the deadline nobody awaits it any more; a late failure must not become an unhandled rejection.
    drain.catch(() => undefined);
    try {
      await Promise.race([drain, deadline]);
    } finally {
      timers.clearTimeout(deadlineTimer);
    }
    // The loop logs after each tick it completes, not a tick left unfinished here, and a restarted
    // daemon starts its log after the latest finished run: log (and count) every run finished so far now.
    try {
      runLog.logFinished(openStore);
    } catch (err) {
      logger.warn({ err }, 'could not read the finished runs from the state file to log them');
    }
    const phase = drained.phase;
    if (phase !== 'done') {
      notify();
      const what = { sources: 'stopping the sources', tick: 'the tick in flight', acknowledge: 'acknowledging finished work' }[phase];
      logger.warn({ drainMs: budget, phase, ms: clock.now() - stopStarted }, `${what} did not finish in time; abandoning it (the effect ledger resumes unfinished work at the next start)`);
      await sources.detach('receiving');
      await server?.close();
      server = null;
      closeMounted();
      sources.clear();
      return { abandoned: true };
    }
    await sources.detach('receiving');
    await server?.close();
    server = null;
    closeMounted();
    sources.clear();
    openStore.close();
    await ownClient?.close().catch(() => undefined);
    logger.info({ ms: clock.now() - stopStarted }, 'daemon stopped');
    return { abandoned: false };
  }
}
