/**
 * A worker of a PostgreSQL deployment (`rules run --state postgres://...
 * --worker-id NAME`): one process serving every portal it holds a lease on,
 * each with its own engine (engine/worker/portal-runner.ts), all under one
 * lease loop (lease-loop.ts), one rule watcher and one status server:
 * `/healthz` (the leases held, each portal's state, queue depth and last
 * tick), `/metrics` (each portal's daemon metrics with a bounded `portal`
 * label, plus `b24rules_leases_held` and `b24rules_portal_queue_depth`) and
 * the app's install endpoint `POST /b24/app`; the receivers of outgoing
 * webhooks (`POST /b24/events`) and form hooks (`POST /hooks/<member_id>/...`)
 * of every portal (webhook-receivers.ts); and the web console with one
 * view per portal it serves (engine/console, `/console?portal=MEMBER_ID`).
 */
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import { createConsole, type Console } from '../console/index.js';
import type { TlsConfig } from '../client/index.js';
import { loadRuleSet, watchRules, type DaemonOptions } from '../daemon/index.js';
import type { Logger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import {
  createInstallHandler,
  LEASE_DEFAULTS,
  LeaseManager,
  openControlPlane,
  PortalRegistry,
  type AppCredentials,
  type ControlPlane,
} from '../portals/index.js';
import { registerSecret } from '../redact.js';
import { MetricsRegistry, PortalLabels, renderPortalMetrics, startStatusServer, type HealthReport, type StatusServer } from '../status/index.js';
import { dropPortalState, PgBridge, type RetentionPolicy } from '../store/index.js';
import { LeaseLoop } from './lease-loop.js';
import { PortalRunner } from './portal-runner.js';
import { createWebhookReceivers, type WebhookReceivers } from './webhook-receivers.js';

export interface WorkerOptions {
  /** The deployment's database (`--state postgres://...`, B24_RULES_DATABASE_URL). */
  databaseUrl: string;
  /** This worker's name (`--worker-id`, B24_RULES_WORKER_ID; the CLI's default is hostname:pid). Unique among the live workers. */
  workerId: string;
  /** The shared rule files and directories; a portal's rule set adds `<dir>/portals/<name>/`. */
  rulesPaths: string[];
  logger: Logger;
  /** Status server `host:port`; null: none. @default '127.0.0.1:7424' */
  listen?: string | null;
  /** The app's client id, secret and token server: OAuth portals and the install endpoint need them. */
  app?: AppCredentials;
  /** Extra certificate authorities (B24_CA_FILE). */
  tls?: TlsConfig;
  /** Lease TTL (ms). @default 15000 */
  leaseTtlMs?: number;
  /** Subtracted from a lease's local validity (ms). @default min(2000, ttl / 5) */
  leaseMarginMs?: number;
  /**
   * An expired lease is taken only this long after its expiry (ms); this worker's requests wait at most
   * min(this, 20 s) for an answer, so none can still run when another worker takes the portal. @default 20000
   */
  leaseGraceMs?: number;
  /** The worker's monotonic clock for the leases' local validity (ms). @default performance.now */
  monotonicNow?: () => number;
  /** The portals' engines' clock. @default systemClock */
  clock?: Clock;
  /** `portal` label values at most in /metrics; later portals are summed under `other`. @default 100 */
  maxPortalLabels?: number;
  /** Reload every portal's rules when a rule file changes. @default true */
  watch?: boolean;
  /** Values for rules' `env.NAME`. @default process.env */
  env?: Record<string, string | undefined>;
  /** Prune each portal's finished work by outcome (`rules run --retention`). @default none */
  retention?: RetentionPolicy | null;
  /**
   * Passed to every portal's daemon (tick interval, drain, client and engine tuning, offline polling, auth connector).
   * `engineOptions.inDoubtSettleMs` defaults to workerInDoubtSettleMs(the request cap), not the daemon's 60 s.
   */
  daemon?: Pick<DaemonOptions, 'tickIntervalMs' | 'drainTimeoutMs' | 'clientOptions' | 'engineOptions' | 'offline' | 'authConnector' | 'http'>;
  /**
   * Serve the web console on the status server, one portal view per portal held (the CLI's default;
   * `--no-console` leaves it out). Without a token only on loopback: start() refuses otherwise
   * (CONSOLE_TOKEN_REQUIRED) before anything starts. @default none
   */
  console?: { token: string | null; allowedOrigins?: readonly string[] } | null;
}

export const WORKER_DEFAULTS = {
  /** @default '127.0.0.1:7424' */
  listen: '127.0.0.1:7424',
  /** @default 100 */
  maxPortalLabels: 100,
  /**
   * @default 5000 ms per portal, all portals at once: the CLI promises an exit within 10 s of SIGTERM, and after
   * the drain the leases are released and the server and connections closed.
   */
  drainTimeoutMs: 5000,
  /** @default 20000 ms: the longest a worker's request waits for its answer (headers, and between body chunks), at most the lease grace. */
  requestTimeoutMs: 20_000,
  /**
   * @default 10000 ms: added to the request cap for the default in-doubt settle (workerInDoubtSettleMs). The settle
   * counts from when a call was marked sent, and the request leaves after that: it may wait in the client for the
   * rate limit or the method's `operating` budget, or be sent again after an attempt the portal refused unrun
   * (503 QUERY_LIMIT_EXCEEDED, a refused connection), 0.5 s then 1 s then 2 s... apart.
   */
  inDoubtSettleMarginMs: 10_000,
};

/**
 * A worker's default in-doubt settle (ms; `--in-doubt-settle-ms` overrides it): its request cap plus a margin. A create
 * in doubt is sent again only after a lookup at or after sentAt + settle found nothing; the single daemon waits 60 s,
 * its request timeout. A worker's requests wait at most `requestTimeoutMs` for their answer, and a portal runs a
 * request at most that long (the grace is chosen so, docs/operations.md): one still running at the portal left at most
 * the margin after it was marked sent.
 */
export function workerInDoubtSettleMs(requestTimeoutMs: number): number {
  return requestTimeoutMs + WORKER_DEFAULTS.inDoubtSettleMarginMs;
}

/** A running worker. */
export interface Worker {
  readonly workerId: string;
  /** The status server's base URL once started (null without one). */
  readonly url: string | null;
  /** The member_ids of the portals held now (starting, running or stopping). */
  held(): string[];
  /** The runner of a portal held now. */
  runner(memberId: string): PortalRunner | undefined;
  /** One lease round now (tests; the install endpoint asks for one too). */
  round(): Promise<void>;
  /** Lease rounds completed. */
  readonly rounds: number;
  health(): HealthReport;
  /** The /metrics text (without the process's families, which the status server appends). */
  metrics(): Promise<string>;
  start(): Promise<void>;
  /** Reload every portal's rules. */
  reload(): Promise<boolean>;
  /** Drain every portal, release the leases, close. `abandoned`: a portal's tick in flight had to be left unfinished. */
  stop(): Promise<{ abandoned: boolean }>;
}

/** This build's version, for the user agent. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The user agent of a worker's requests: the emulator fleet (and a portal's admin) can tell the workers apart. */
export function workerUserAgent(workerId: string): string {
  return `b24-rules/${packageVersion()} (worker ${workerId.replace(/[()\r\n]/g, '_')})`;
}

/** Create a worker (nothing happens before start()). */
export function createWorker(options: WorkerOptions): Worker {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const labels = new PortalLabels(options.maxPortalLabels ?? WORKER_DEFAULTS.maxPortalLabels);
  const own = new MetricsRegistry();
  // A grace under a second would cap every request's wait below what a loaded portal needs (and 0 means no timeout).
  if (options.leaseGraceMs !== undefined && !(options.leaseGraceMs >= 1000)) throw new RangeError(`leaseGraceMs must be at least 1000 ms; got ${options.leaseGraceMs}`);
  registerSecret(options.app?.clientSecret);
  let cp: ControlPlane | null = null;
  let loop: LeaseLoop | null = null;
  let server: StatusServer | null = null;
  let bridge: PgBridge | null = null;
  let stopWatching: (() => void) | null = null;
  let receivers: WebhookReceivers | null = null;
  let starting: Promise<void> | null = null;
  let stopping: Promise<{ abandoned: boolean }> | null = null;
  let running = false;

  const runners = (): PortalRunner[] => loop?.runners ?? [];
  const holding = (): PortalRunner[] => runners().filter((r) => !r.lost);
  own.collect('b24rules_leases_held', 'Portal leases this worker holds.', 'gauge', () => holding().length);
  own.collect('b24rules_portal_queue_depth', 'Inbox items not yet done, by portal.', 'gauge', () => {
    const byLabel = new Map<string, number>();
    for (const r of runners()) byLabel.set(r.label, (byLabel.get(r.label) ?? 0) + r.depth());
    return [...byLabel].map(([portal, value]) => ({ labels: { portal }, value }));
  });
  own.collect('b24rules_worker_lease_rounds_total', 'Lease rounds (renew, take, hand over) completed.', 'counter', () => loop?.rounds ?? 0);

  const sharedBridge = (): PgBridge => {
    if (!bridge || bridge.closed) bridge = PgBridge.open(options.databaseUrl, { applicationName: `b24-rules ${options.workerId}` });
    return bridge;
  };

  function health(): HealthReport {
    const portals = runners().map((r) => r.health());
    return {
      ok: running && loop?.lastError === null,
      worker: options.workerId,
      leases: holding().length,
      ...(loop?.lastError ? { error: loop.lastError } : {}),
      portals,
    };
  }

  function metrics(): Promise<string> {
    const parts = runners().flatMap((r) => (r.metrics ? [{ portal: r.label, registry: r.metrics.registry }] : []));
    return renderPortalMetrics(parts, own);
  }

  /** The web console over the portals served now, or null (none asked for, or no server). Throws CONSOLE_TOKEN_REQUIRED. */
  function consoleFor(listen: string | null): Console | null {
    if (!options.console || listen === null) return null;
    return createConsole({
      source: { portals: () => holding().flatMap((r) => (r.view ? [r.view] : [])) },
      token: options.console.token,
      listen,
      clock,
      logger: logger.child({ component: 'console' }),
      ...(options.console.allowedOrigins ? { allowedOrigins: options.console.allowedOrigins } : {}),
    });
  }

  async function startOnce(): Promise<void> {
    const env = options.env ?? process.env;
    // First: a console open beyond loopback without its token is refused before anything starts.
    const consoleApp = consoleFor(options.listen === undefined ? WORKER_DEFAULTS.listen : options.listen);
    // The shared rules are every portal's: a set with errors is refused before anything starts (RULES_INVALID), as the daemon does.
    await loadRuleSet(options.rulesPaths, logger, env);
    cp = await openControlPlane(options.databaseUrl, { logger, applicationName: `b24-rules ${options.workerId}` });
    const leases = new LeaseManager(cp.pool, {
      workerId: options.workerId,
      ttlMs: options.leaseTtlMs ?? LEASE_DEFAULTS.ttlMs,
      ...(options.leaseMarginMs !== undefined ? { marginMs: options.leaseMarginMs } : {}),
      ...(options.leaseGraceMs !== undefined ? { graceMs: options.leaseGraceMs } : {}),
      ...(options.monotonicNow ? { monotonicNow: options.monotonicNow } : {}),
    });
    const requestTimeoutMs = Math.min(WORKER_DEFAULTS.requestTimeoutMs, leases.graceMs);
    const inDoubtSettleMs = options.daemon?.engineOptions?.inDoubtSettleMs ?? workerInDoubtSettleMs(requestTimeoutMs);
    const registry = new PortalRegistry(cp.pool);
    const pool = cp.pool;
    const userAgent = workerUserAgent(options.workerId);
    const drainTimeoutMs = options.daemon?.drainTimeoutMs ?? WORKER_DEFAULTS.drainTimeoutMs;
    loop = new LeaseLoop({
      leases,
      registry,
      logger,
      stopBudgetMs: drainTimeoutMs + 1000,
      makeRunner: (lease, conn) =>
        new PortalRunner(
          {
            databaseUrl: options.databaseUrl,
            pool,
            bridge: sharedBridge,
            rulesPaths: options.rulesPaths,
            ...(options.app ? { app: options.app } : {}),
            ...(options.tls ? { tls: options.tls } : {}),
            userAgent,
            logger,
            clock,
            env,
            valid: (l) => leases.valid(l),
            remainingMs: (l) => leases.remainingMs(l),
            requestTimeoutMs,
            ...(options.retention ? { retention: options.retention } : {}),
            daemon: { ...options.daemon, drainTimeoutMs, engineOptions: { ...options.daemon?.engineOptions, inDoubtSettleMs } },
          },
          lease,
          conn,
          labels.label(lease.memberId, conn.domain),
        ),
    });
    const listen = options.listen === undefined ? WORKER_DEFAULTS.listen : options.listen;
    const handlers = options.app
      ? [
          createInstallHandler({
            registry,
            app: options.app,
            logger: logger.child({ component: 'install' }),
            onClean: async (memberId) => {
              await dropPortalState(pool, memberId);
            },
            onChange: () => void loop?.round(),
          }),
        ]
      : [];
    // Outgoing webhooks and form hooks of every portal, stored in its inbox whoever holds it.
    receivers = createWebhookReceivers({ registry, pool, databaseUrl: options.databaseUrl, bridge: sharedBridge, rulesPaths: options.rulesPaths, env, logger: logger.child({ component: 'receivers' }), clock, metrics: own });
    handlers.push(...receivers.handlers);
    if (consoleApp) handlers.push(consoleApp.handler);
    try {
      if (listen !== null) server = await startStatusServer({ listen, metrics: { render: metrics }, health, handlers, logger });
      running = true;
      await loop.start();
    } catch (err) {
      running = false;
      loop.close();
      await server?.close();
      server = null;
      await cp.close().catch(() => undefined);
      throw err;
    }
    if (options.watch ?? true) {
      stopWatching = watchRules({
        paths: options.rulesPaths,
        logger,
        onChange: (files) => {
          logger.info({ files }, 'rule files changed; reloading every portal');
          void reload();
        },
      });
    }
    logger.info(
      { worker: options.workerId, url: server?.url, database: cp.database, leaseTtlMs: leases.ttlMs, leaseGraceMs: leases.graceMs, requestTimeoutMs, inDoubtSettleMs, leases: holding().length },
      `worker ${options.workerId} started: ${holding().length} portal(s) leased${server ? `, status on ${server.url}` : ''}`,
    );
  }

  async function reload(): Promise<boolean> {
    receivers?.reload();
    const results = await Promise.all(runners().map((r) => r.reload()));
    return results.every(Boolean);
  }

  async function stopOnce(): Promise<{ abandoned: boolean }> {
    if (starting) await starting.catch(() => undefined);
    running = false;
    stopWatching?.();
    stopWatching = null;
    const started = clock.now();
    const result = loop ? await loop.drain() : { abandoned: false };
    await server?.close();
    server = null;
    // An engine abandoned at any time may still be finishing its tick on the shared connection: leave it open then (the process exits).
    if (!result.abandoned && (loop?.abandoned ?? 0) === 0) {
      bridge?.close();
      bridge = null;
    }
    await cp?.close().catch(() => undefined);
    logger.info({ ms: clock.now() - started, abandoned: result.abandoned }, `worker ${options.workerId} stopped`);
    return result;
  }

  return {
    workerId: options.workerId,
    get url() {
      return server?.url ?? null;
    },
    held: () => holding().map((r) => r.memberId),
    runner: (memberId) => runners().find((r) => r.memberId === memberId && !r.lost),
    round: () => loop?.round() ?? Promise.resolve(),
    get rounds() {
      return loop?.rounds ?? 0;
    },
    health,
    metrics,
    reload,
    start() {
      starting ??= startOnce();
      return starting;
    },
    stop() {
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
