/**
 * One portal served by a worker: the single-portal daemon (engine/daemon),
 * built from the portal's row in the control plane, with its state in the
 * portal's PostgreSQL schema, its own REST client (leaky bucket and budgets
 * in memory, as ever), no server and no rule watcher of its own (the worker
 * has both). Every request it sends is guarded by the lease: once the lease
 * is lost or its local validity has run out, nothing more leaves for the
 * portal (LEASE_LOST), the requests in flight are ended (an AbortSignal fired
 * when the lease's local validity ends: a request that had left is in doubt, as
 * after a timeout), the loop stops ticking, and the runner is stopped; the
 * effect ledger resumes the unfinished work wherever the portal is served next.
 * Its requests wait at most `requestTimeoutMs` for an answer (at most the
 * lease's grace, so another worker never takes the portal while one may run).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { daemonPortal, type DaemonPortal, type PortalView } from '../console/index.js';
import { requestsCutShort, type TlsConfig } from '../client/index.js';
import { createDaemon, startRetention, type Daemon, type DaemonOptions } from '../daemon/index.js';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pgTokenPersistence, portalClientConfig, type AppCredentials, type Lease, type PortalConnection } from '../portals/index.js';
import { DAEMON_SOURCES, retireFinished, type SourcePlugin } from '../sources/index.js';
import type { DaemonMetrics, HealthReport } from '../status/index.js';
import { openPgStateStore, type PgBridge, type RetentionPolicy } from '../store/index.js';
import type pg from 'pg';

/** What a portal runner needs from its worker. */
export interface RunnerDeps {
  databaseUrl: string;
  /** The control plane's pool (the token pair of an OAuth portal). */
  pool: pg.Pool;
  /** The worker's connection for the portals' state stores (shared: one statement at a time anyway). */
  bridge: () => PgBridge;
  rulesPaths: string[];
  app?: AppCredentials;
  tls?: TlsConfig;
  userAgent: string;
  logger: Logger;
  clock: Clock;
  env: Record<string, string | undefined>;
  /** Whether the lease is still valid on the worker's clock. */
  valid: (lease: Lease) => boolean;
  /** How long until the lease's local validity ends (ms, the worker's clock). */
  remainingMs: (lease: Lease) => number;
  /** The longest a request to the portal waits for its answer (headers, and between body chunks): at most the lease grace. */
  requestTimeoutMs: number;
  /** `rules run --retention`: prune each portal's finished work by outcome. @default none */
  retention?: RetentionPolicy | null;
  /** Passed to each portal's daemon (tests and the bench: tick interval, drain, client and engine tuning, offline polling). */
  daemon?: Pick<DaemonOptions, 'tickIntervalMs' | 'drainTimeoutMs' | 'clientOptions' | 'engineOptions' | 'offline' | 'authConnector' | 'http'>;
}

/**
 * The outgoing-webhook events of a worker's portal arrive at the worker's receivers (webhook-receivers.ts), whichever
 * worker that is; the engine serving the portal retires them once done, as the daemon's receiver does.
 */
const outgoingRetirement: SourcePlugin = {
  kind: 'outgoing',
  // It brings no event in itself (the receivers take only an installed app's): the daemon's warning about event rules nothing serves stays.
  triggers: [],
  applies: () => true,
  async attach(ctx) {
    return { kind: 'outgoing', detach: async () => undefined, acknowledge: async () => retireFinished(ctx, 'outgoing') };
  },
};

/** A portal's sources in a worker: the daemon's (schedules, form hooks, offline events), and the retirement of outgoing-webhook events. */
export const WORKER_PORTAL_SOURCES: readonly SourcePlugin[] = [...DAEMON_SOURCES.filter((p) => p.kind !== 'outgoing'), outgoingRetirement];

export const RUNNER_DEFAULTS = {
  /**
   * @default 30000 ms: the longest a portal handed over to another worker (the fair share changed) drains. Its lease
   * is renewed meanwhile, so nothing waits on a TTL; a tick abandoned instead would leave its calls in doubt.
   */
  handOverDrainMs: 30_000,
};

/** Where a runner is in its life. */
export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** The rule paths of a portal: the shared ones, plus `<dir>/portals/<ruleSet>/` of each shared directory that has it. */
export function portalRulePaths(shared: readonly string[], ruleSet: string | null): string[] {
  if (ruleSet === null) return [...shared];
  const extra = shared.filter((p) => isDirectory(p)).map((dir) => join(dir, 'portals', ruleSet)).filter((dir) => isDirectory(dir));
  if (extra.length === 0) {
    throw new B24RulesError('RULES_INVALID', `the portal's rule set '${ruleSet}' has no folder: create portals/${ruleSet}/ in a rules directory (${shared.join(', ')}), or clear it (rules portals set ID --no-rule-set)`, { kind: 'user' });
  }
  return [...shared, ...extra];
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One leased portal's engine. */
export class PortalRunner {
  readonly memberId: string;
  /** The portal's label in metrics, logs and /healthz (its domain, or `other` past the cap for metrics). */
  readonly label: string;
  readonly domain: string;
  #lease: Lease;
  #lost = false;
  #state: RunnerState = 'starting';
  #error: string | null = null;
  #daemon: Daemon | null = null;
  #stopping: Promise<{ abandoned: boolean }> | null = null;
  #stopRetention: (() => void) | null = null;
  /** The web console's view of the portal while it runs (its store, rules, health samples). */
  #view: DaemonPortal | null = null;
  /** Ends the portal's requests in flight once the lease is not valid locally any more. */
  readonly #abort = new AbortController();
  #abortTimer: ReturnType<typeof setTimeout> | null = null;
  /** The connection of the portal's state store. */
  #bridge: PgBridge | null = null;
  readonly #deps: RunnerDeps;
  readonly #conn: PortalConnection;
  readonly #logger: Logger;

  constructor(deps: RunnerDeps, lease: Lease, conn: PortalConnection, label: string) {
    this.#deps = deps;
    this.#lease = lease;
    this.#conn = conn;
    this.memberId = lease.memberId;
    this.domain = conn.domain;
    this.label = label;
    this.#logger = deps.logger.child({ portal: conn.domain });
  }

  get lease(): Lease {
    return this.#lease;
  }

  get state(): RunnerState {
    return this.#state;
  }

  get error(): string | null {
    return this.#error;
  }

  /** What the worker's web console shows of this portal: while it runs, else null. */
  get view(): PortalView | null {
    return this.#state === 'running' ? this.#view : null;
  }

  /** The daemon's metrics once started (null before). */
  get metrics(): DaemonMetrics | null {
    return this.#daemon?.metrics ?? null;
  }

  /** Whether this worker may send to the portal now: the lease is neither lost nor past its local validity. */
  canSend(): boolean {
    return !this.#lost && this.#deps.valid(this.#lease);
  }

  /** A renewal came back: the lease (same epoch) with its new local validity. */
  renewed(lease: Lease): void {
    if (this.#lost || lease.epoch !== this.#lease.epoch) return;
    this.#lease = lease;
    this.#arm();
  }

  /** The lease is gone (not renewed, revoked, past its validity): from now on nothing is sent, and what is in flight is ended. */
  lose(): void {
    this.#lost = true;
    this.#arm();
  }

  /** Whether none of the portal's requests was ended in flight by the lease running out (none can still be running there). */
  quiet(): boolean {
    return requestsCutShort(this.#abort.signal) === 0;
  }

  /**
   * Whether its requests were ended for good: the lease's local validity ran out once, and the AbortSignal that
   * ended them stays fired. A renewal that comes back after that cannot revive the runner (every request would be
   * ended at once): it must be stopped as lost, and the portal served by a new one.
   */
  get cutOff(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Whether the portal's state store lost its connection for good (the bridge closed): the runner must be restarted. */
  broken(): boolean {
    return this.#state === 'running' && this.#bridge !== null && this.#bridge.closed;
  }

  /** Abort the requests in flight at the end of the lease's local validity (rescheduled by each renewal). */
  #arm(): void {
    if (this.#abortTimer) clearTimeout(this.#abortTimer);
    this.#abortTimer = null;
    if (this.#abort.signal.aborted) return;
    if (!this.canSend()) {
      this.#abort.abort();
      return;
    }
    this.#abortTimer = setTimeout(() => this.#arm(), Math.max(1, Math.ceil(this.#deps.remainingMs(this.#lease))));
    this.#abortTimer.unref();
  }

  #disarm(): void {
    if (this.#abortTimer) clearTimeout(this.#abortTimer);
    this.#abortTimer = null;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Open the portal's state, build its client from the row, start its daemon. Throws (state `failed`) when it cannot. */
  async start(): Promise<void> {
    const d = this.#deps;
    const lease = this.#lease;
    this.#arm();
    const cap = (ms: number | undefined): number => Math.min(ms ?? d.requestTimeoutMs, d.requestTimeoutMs);
    try {
      const rulesPaths = portalRulePaths(d.rulesPaths, this.#conn.ruleSet);
      const config = portalClientConfig(this.#conn, {
        ...(d.app ? { app: d.app } : {}),
        ...(d.tls ? { tls: d.tls } : {}),
        tokenPersistence: pgTokenPersistence({ pool: d.pool, lease, portal: this.#conn.baseUrl, logger: this.#logger }),
      });
      const daemon = createDaemon({
        ...d.daemon,
        rulesPaths,
        openStore: () => {
          this.#bridge = d.bridge();
          return openPgStateStore({ url: d.databaseUrl, portal: this.memberId, now: () => d.clock.now(), bridge: this.#bridge, exclusive: true });
        },
        config,
        logger: this.#logger,
        env: d.env,
        listen: null,
        watch: false,
        clock: d.clock,
        canSend: () => this.canSend(),
        sources: WORKER_PORTAL_SOURCES,
        clientOptions: {
          ...d.daemon?.clientOptions,
          userAgent: d.userAgent,
          signal: this.#abort.signal,
          headersTimeoutMs: cap(d.daemon?.clientOptions?.headersTimeoutMs),
          bodyTimeoutMs: cap(d.daemon?.clientOptions?.bodyTimeoutMs),
        },
        yieldEachTick: true,
      });
      this.#daemon = daemon;
      await daemon.start();
      if (this.#stopping) return;
      this.#state = 'running';
      this.#view = daemonPortal(daemon, { key: this.memberId, label: this.#conn.domain, clock: d.clock });
      if (d.retention) this.#stopRetention = startRetention(() => daemon.store, d.retention, this.#logger.child({ component: 'retention' }));
      this.#logger.info({ epoch: lease.epoch, rules: daemon.rules.length }, `portal ${this.#conn.domain}: serving (lease epoch ${lease.epoch})`);
    } catch (err) {
      this.#disarm();
      this.#state = 'failed';
      this.#error = err instanceof Error ? err.message : String(err);
      this.#daemon = null;
      throw err;
    }
  }

  /**
   * Stop the portal's engine. `lost`: the lease is gone, nothing is sent any
   * more, and what the tick in flight has not finished is abandoned to the
   * ledger. Otherwise (shed, shutdown) the tick in flight finishes and the
   * sources acknowledge while the lease still holds. The state is closed
   * either way, so an abandoned tick cannot write to it any more.
   */
  stop(reason: 'lost' | 'shed' | 'shutdown'): Promise<{ abandoned: boolean }> {
    if (reason === 'lost') this.lose();
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: 'lost' | 'shed' | 'shutdown'): Promise<{ abandoned: boolean }> {
    const daemon = this.#daemon;
    this.#view?.close();
    this.#view = null;
    this.#stopRetention?.();
    if (this.#state !== 'failed') this.#state = 'stopping';
    if (!daemon) {
      this.#disarm();
      if (this.#state !== 'failed') this.#state = 'stopped';
      return { abandoned: false };
    }
    let abandoned = false;
    try {
      // Handing over, the lease is still renewed: the tick in flight may take its time rather than leave calls in doubt.
      ({ abandoned } = await daemon.stop(reason === 'shed' ? { drainTimeoutMs: RUNNER_DEFAULTS.handOverDrainMs } : undefined));
    } catch (err) {
      abandoned = true;
      this.#logger.warn({ err }, 'stopping the portal failed');
    }
    if (abandoned) {
      // The daemon left the state open for its tick in flight: close it, so that tick cannot write after the lease.
      try {
        daemon.store.close();
      } catch {
        // already closed, or never opened
      }
    }
    this.#disarm();
    this.#state = 'stopped';
    this.#logger.info({ reason, abandoned, epoch: this.#lease.epoch }, `portal ${this.#conn.domain}: stopped (${reason})`);
    return { abandoned };
  }

  /** Reload the rule files (the worker's watcher or SIGHUP). */
  async reload(): Promise<boolean> {
    return this.#daemon && this.#state === 'running' ? this.#daemon.reload() : false;
  }

  /** This portal's part of the worker's /healthz. */
  health(): Record<string, unknown> {
    const base = { portal: this.domain, memberId: this.memberId, state: this.#state, epoch: this.#lease.epoch, lost: this.#lost };
    if (this.#error) return { ...base, error: this.#error };
    if (!this.#daemon || this.#state !== 'running') return base;
    let h: HealthReport;
    try {
      h = this.#daemon.health();
    } catch (err) {
      return { ...base, error: err instanceof Error ? err.message : String(err) };
    }
    return { ...base, depth: h.depth, dlq: h.dlq, lastTickAt: h.lastTickAt, lastTickError: h.lastTickError };
  }

  /** Inbox items not yet done (0 while not running). */
  depth(): number {
    if (!this.#daemon || this.#state !== 'running') return 0;
    try {
      return this.#daemon.store.inbox.depth();
    } catch {
      return 0;
    }
  }
}
