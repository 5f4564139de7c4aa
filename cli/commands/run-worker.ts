/**
 * `rules run --state postgres://... --worker-id NAME`: a worker of a
 * PostgreSQL deployment instead of the single daemon (engine/worker). The
 * portals come from the database's control plane, the app's client id,
 * secret and token server from the environment (B24_CLIENT_ID,
 * B24_CLIENT_SECRET, B24_OAUTH_URL).
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { loadAppConfig } from '../../engine/config.js';
import { checkConsoleListen, parseConsoleOrigins, readConsoleToken } from '../../engine/console/index.js';
import { runUntilSignalled } from '../../engine/daemon/index.js';
import { UsageError } from '../../engine/errors.js';
import type { Logger } from '../../engine/logger.js';
import { LEASE_DEFAULTS } from '../../engine/portals/index.js';
import type { RetentionPolicy } from '../../engine/store/index.js';
import { createWorker, WORKER_DEFAULTS } from '../../engine/worker/index.js';
import { intOption } from '../args.js';

/** The options of `rules run` a worker takes. */
export interface WorkerRunValues {
  'worker-id'?: string | undefined;
  'lease-ttl-ms'?: string | undefined;
  'lease-grace-ms'?: string | undefined;
  'max-portal-labels'?: string | undefined;
  'no-watch'?: boolean | undefined;
  'console-token-file'?: string | undefined;
  'no-console'?: boolean | undefined;
}

/** The worker options' lines of `rules run --help`. */
export const WORKER_USAGE = `Many portals, several workers (PostgreSQL; docs/operations.md):
  --state postgres://USER@HOST/DB
                       (or B24_RULES_DATABASE_URL) run a worker: it serves
                       every portal it holds a lease on (rules portals add,
                       or installs posted to /b24/app), sharing them with
                       the other workers on the same database
  --worker-id NAME     this worker's name, unique among the live workers
                       (default B24_RULES_WORKER_ID, else hostname:pid)
  --lease-ttl-ms N     how long a portal's lease lasts without renewal
                       (default ${LEASE_DEFAULTS.ttlMs}; renewed every third of it; a dead
                       worker's portals are taken over after it)
  --lease-grace-ms N   an expired lease is taken only N ms after its expiry
                       (default ${LEASE_DEFAULTS.graceMs}, at least 1000): a request to a portal
                       waits at most min(N, ${WORKER_DEFAULTS.requestTimeoutMs}) ms for its answer, so a dead
                       worker's last request is over before another takes it
  --in-doubt-settle-ms N
                       in a worker the default is that request cap plus
                       ${WORKER_DEFAULTS.inDoubtSettleMarginMs} ms (30000 at the default grace), not 60000
  --max-portal-labels N
                       distinct portal label values in /metrics (default
                       ${WORKER_DEFAULTS.maxPortalLabels}; the rest are summed under portal="other")
`;

/** Run a worker until SIGTERM/SIGINT; resolves with the exit code. */
export async function runWorker(options: {
  databaseUrl: string;
  values: WorkerRunValues;
  paths: string[];
  listen: string;
  env: Record<string, string | undefined>;
  logger: Logger;
  offline?: { pollIntervalMs?: number; batchSize?: number };
  engineOptions?: { inDoubtSettleMs?: number };
  retention?: RetentionPolicy | null;
}): Promise<number> {
  const { values, env, logger } = options;
  const withConsole = values['no-console'] !== true;
  if (!withConsole && values['console-token-file'] !== undefined) throw new UsageError('--console-token-file and --no-console exclude each other');
  // The web console of the portals it serves, as the daemon's: beyond loopback only with a token (checked before the database is opened).
  const consoleToken = withConsole ? readConsoleToken(env, values['console-token-file']) : null;
  if (withConsole) checkConsoleListen(options.listen, consoleToken);
  const allowedOrigins = withConsole ? parseConsoleOrigins(env.B24_RULES_CONSOLE_ORIGIN) : [];
  const leaseTtlMs = intOption('lease-ttl-ms', values['lease-ttl-ms'], 1000);
  const leaseGraceMs = intOption('lease-grace-ms', values['lease-grace-ms'], 1000);
  const maxPortalLabels = intOption('max-portal-labels', values['max-portal-labels'], 0);
  const workerId = (values['worker-id'] ?? env.B24_RULES_WORKER_ID ?? `${hostname()}:${process.pid}`).trim();
  if (!/^[\w.:@-]{1,100}$/.test(workerId)) throw new UsageError(`--worker-id must be 1-100 letters, digits and _ . : @ -; got '${workerId}'`);
  const { app, tls } = loadAppConfig(env);
  const worker = createWorker({
    databaseUrl: options.databaseUrl,
    workerId,
    rulesPaths: options.paths.map((p) => resolve(p)),
    logger,
    listen: options.listen,
    env,
    watch: values['no-watch'] !== true,
    ...(app ? { app } : {}),
    ...(tls ? { tls } : {}),
    ...(leaseTtlMs !== undefined ? { leaseTtlMs } : {}),
    ...(leaseGraceMs !== undefined ? { leaseGraceMs } : {}),
    ...(maxPortalLabels !== undefined ? { maxPortalLabels } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
    ...(withConsole ? { console: { token: consoleToken, allowedOrigins } } : {}),
    daemon: {
      ...(env.B24_AUTH_CONNECTOR ? { authConnector: env.B24_AUTH_CONNECTOR } : {}),
      ...(options.offline ? { offline: options.offline } : {}),
      ...(options.engineOptions ? { engineOptions: options.engineOptions } : {}),
    },
  });
  if (!app) logger.warn('B24_CLIENT_ID and B24_CLIENT_SECRET are not set: this worker serves webhook portals only, and /b24/app (the install endpoint) is not served');
  // Handlers first: a signal that arrives while starting is honoured once started.
  const done = runUntilSignalled(worker, logger);
  await worker.start();
  return done;
}
