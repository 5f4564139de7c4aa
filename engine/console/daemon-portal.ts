/**
 * The single daemon as the console's one portal: its store, its rules, its
 * `/healthz` report, its last refused reload, and a HealthRing fed from its
 * metrics. A worker of many portals builds one of these per daemon.
 */
import { realTimers, systemClock, type Clock, type Timers } from '../clock.js';
import { readTokens, type ClientConfig } from '../client/index.js';
import type { Daemon } from '../daemon/index.js';
import type { Logger } from '../logger.js';
import type { RequestHandler } from '../status/index.js';
import { createConsole } from './console.js';
import { checkConsoleListen } from './security.js';
import { HealthRing } from './health-ring.js';
import type { PortalView } from './source.js';

export interface DaemonPortalOptions {
  /** @default 'default' */
  key?: string;
  /** @default the key */
  label?: string;
  /** The daemon's clock. @default systemClock */
  clock?: Clock;
  /** For the minute sampler. @default realTimers (unref'd) */
  timers?: Timers;
  /** When the access token expires (ms), null when unknown. @default never known */
  tokenExpiresAt?: () => number | null;
}

/** The daemon's view, and `close()` to stop its sampler. */
export type DaemonPortal = PortalView & { close(): void };

export function daemonPortal(daemon: Daemon, options: DaemonPortalOptions = {}): DaemonPortal {
  const clock = options.clock ?? systemClock;
  const tokenExpiresAt = options.tokenExpiresAt ?? (() => null);
  const sum = (c: { get(labels?: Record<string, string>): number }, kinds: string[]) => kinds.reduce((n, kind) => n + c.get({ kind }), 0);
  const ring = new HealthRing(clock, {
    depth: () => daemon.store.inbox.depth(),
    dlq: () => daemon.store.dlq.count(),
    callsTotal: () => daemon.metrics.restCalls.get(),
    rateLimitWaitsTotal: () => sum(daemon.metrics.rateLimitWaits, ['request_rate', 'operating']),
    offlineReservations: () => daemon.store.inbox.openProcessIds().length,
    tokenExpiresAt,
  });
  ring.start(options.timers ?? realTimers);
  const key = options.key ?? 'default';
  return {
    key,
    label: options.label ?? key,
    get store() {
      return daemon.store;
    },
    rules: () => daemon.rules,
    health: () => {
      const report = daemon.health();
      const sources = Array.isArray(report.sources) ? (report.sources as string[]) : [];
      return { report, samples: ring.samples(), offline: sources.includes('offline'), tokenExpiresAt: tokenExpiresAt() };
    },
    lastRefusedReload: () => daemon.lastRefusedReload,
    close: () => ring.stop(),
  };
}

/**
 * The access token's expiry as the token file says (re-read at most once a minute, in the
 * background), else as configured; null with webhook auth. Only `expiresAt` is read: no token
 * leaves the file's parsing.
 */
export function tokenFileExpiry(config: ClientConfig, clock: Clock = systemClock): () => number | null {
  if (config.auth.mode !== 'oauth') return () => null;
  const auth = config.auth;
  let known: number | null = auth.accessTokenExpiresAt ?? null;
  let readAt = -Infinity;
  return () => {
    const now = clock.now();
    if (now - readAt >= 60_000) {
      readAt = now;
      readTokens(auth.tokenFile)
        .then((t) => {
          if (t && t.portal === config.baseUrl && typeof t.expiresAt === 'number') known = t.expiresAt;
        })
        .catch(() => undefined);
    }
    return known;
  };
}

export interface DaemonConsoleOptions {
  /** The console token (readConsoleToken); null: no login, loopback only (the daemon's listen address is checked). */
  token: string | null;
  /** B24_RULES_CONSOLE_ORIGIN (parseConsoleOrigins). @default none */
  allowedOrigins?: readonly string[];
  /** The daemon's portal: its host labels it, and its token file tells the token's expiry. */
  config?: ClientConfig;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

/**
 * The `mount` of createDaemon that serves the console of this one daemon on its status server.
 * Throws CONSOLE_TOKEN_REQUIRED (the daemon does not start) when the server would listen beyond
 * loopback without a token.
 */
export function daemonConsole(options: DaemonConsoleOptions): (daemon: Daemon, server: { listen: string }) => { handlers: RequestHandler[]; close(): void } {
  return (daemon, server) => {
    const clock = options.clock ?? systemClock;
    // Checked before the sampler starts: a refused console leaves nothing running.
    checkConsoleListen(server.listen, options.token);
    const portal = daemonPortal(daemon, {
      clock,
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.config ? { label: new URL(options.config.baseUrl).hostname, tokenExpiresAt: tokenFileExpiry(options.config, clock) } : {}),
    });
    const app = createConsole({
      source: { portals: () => [portal] },
      token: options.token,
      listen: server.listen,
      clock,
      ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    return { handlers: [app.handler], close: () => portal.close() };
  };
}
