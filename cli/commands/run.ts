/** `rules run`: the daemon. */
import { resolve } from 'node:path';
import { DEFAULTS as CONFIG_DEFAULTS, loadConfig, readEnvironment } from '../../engine/config.js';
import { createDaemon, DAEMON_DEFAULTS as DEFAULTS, DEFAULT_STATE_PATH, parseRetention, runUntilSignalled, startRetention } from '../../engine/daemon/index.js';
import { createLogger } from '../../engine/logger.js';
import { UsageError } from '../../engine/errors.js';
import { registerSecret } from '../../engine/redact.js';
import { checkConsoleListen, daemonConsole, parseConsoleOrigins, readConsoleToken } from '../../engine/console/index.js';
import { parseListen } from '../../engine/status/index.js';
import { isPostgresUrl } from '../../engine/store/index.js';
import { intOption, logLevel, parse } from '../args.js';
import { type Command } from '../command.js';
import { runWorker, WORKER_USAGE } from './run-worker.js';

const usage = `Usage: rules run [PATHS...] [--state PATH] [--listen HOST:PORT] [--console-token-file FILE | --no-console] [--retention SPEC]
                 [--no-watch] [--poll-interval-ms N] [--offline-page N] [--in-doubt-settle-ms N] [--log-level LEVEL]
       rules run [PATHS...] --state postgres://USER@HOST/DB [--worker-id NAME] [--lease-ttl-ms N] [--lease-grace-ms N]
                 [--max-portal-labels N] [--listen HOST:PORT] [--no-watch] [--poll-interval-ms N] ...

Run the rules: the daemon. Work comes from
  - offline events (OAuth app: B24_AUTH_MODE=oauth; the daemon binds the events
    its rules need and polls the portal's offline queue),
  - outgoing webhooks POSTed to http://HOST:PORT/b24/events (set
    B24_APPLICATION_TOKEN to the token the portal shows),
  - form webhooks POSTed to http://HOST:PORT/hooks/<path> (per rule, shared secret),
  - schedules (cron, in each rule's time zone; a missed run is caught up once).

PATHS are rule files or directories (default ./rules). The connection comes
from the environment or .env, as for 'rules call' (B24_DOMAIN, B24_AUTH_MODE,
B24_WEBHOOK_URL or the OAuth variables; B24_AUTH_CONNECTOR, default ${CONFIG_DEFAULTS.authConnector}).

Options:
  --state PATH         state file (default ${DEFAULT_STATE_PATH})
  --listen HOST:PORT   status and webhook server (default ${DEFAULTS.listen};
                       /healthz, /metrics, the web console at /console).
                       Loopback unless you say otherwise; anywhere else the
                       console needs a token (B24_RULES_CONSOLE_TOKEN or
                       --console-token-file), or the daemon does not start.
                       Behind a proxy set the token too; B24_RULES_CONSOLE_ORIGIN
                       names the origin(s) the browser uses (https://host)
  --console-token-file FILE
                       the console token from FILE's first line (16+ chars)
  --no-console         no web console (/console, /api): the status server
                       serves /healthz, /metrics and the webhooks only
  --no-watch           do not reload when a rule file changes (SIGHUP still does)
  --poll-interval-ms N offline queue: wait between polls when it was empty
                       (default 2000; doubles up to 5x while it stays empty)
  --retention SPEC     prune finished work by outcome, hourly: 'default' is
                       skipped=1d,done=7d,failed=30d,dead=30d (give any of
                       them to change it; AGE in m, h or d), so the traces of
                       failures outlive routine skips. Without it the state
                       file keeps everything (DLQ entries and runs on a timer
                       are always kept)
  --offline-page N     records per event.offline.get (default 1000; the portal
                       sets no maximum)
  --in-doubt-settle-ms N
                       a create in doubt after a crash that its lookup does not
                       find is sent again only N ms after its first send (default
                       60000: the request timeout; the portal may still run it)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)

${WORKER_USAGE}
Signals: SIGTERM/SIGINT stop (exit 0 within 10 s), SIGHUP reloads the rules.
A rule set with errors is refused at start (exit 1) and on reload (the running
set keeps working).
`;

const command: Command = {
  summary: 'run the daemon: offline events, outgoing webhooks, schedules (or a worker of many portals on PostgreSQL)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      state: { type: 'string' },
      listen: { type: 'string' },
      'no-watch': { type: 'boolean' },
      'poll-interval-ms': { type: 'string' },
      'offline-page': { type: 'string' },
      'in-doubt-settle-ms': { type: 'string' },
      'console-token-file': { type: 'string' },
      'no-console': { type: 'boolean' },
      retention: { type: 'string' },
      'worker-id': { type: 'string' },
      'lease-ttl-ms': { type: 'string' },
      'lease-grace-ms': { type: 'string' },
      'max-portal-labels': { type: 'string' },
    });
    const pollIntervalMs = intOption('poll-interval-ms', values['poll-interval-ms'], 50);
    const batchSize = intOption('offline-page', values['offline-page'], 1);
    const inDoubtSettleMs = intOption('in-doubt-settle-ms', values['in-doubt-settle-ms'], 0);
    const engineOptions = inDoubtSettleMs !== undefined ? { inDoubtSettleMs } : undefined;
    const listen = values.listen ?? DEFAULTS.listen;
    try {
      parseListen(listen);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const env = readEnvironment();
    const state = values.state ?? env.B24_RULES_DATABASE_URL?.trim();
    const paths = positionals.length > 0 ? positionals : ['rules'];
    const offline = pollIntervalMs !== undefined || batchSize !== undefined ? { ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}), ...(batchSize !== undefined ? { batchSize } : {}) } : undefined;
    if (state !== undefined && isPostgresUrl(state)) {
      const logger = createLogger({ level: logLevel(values['log-level']) });
      const retention = values.retention === undefined ? null : parseRetention(values.retention);
      return runWorker({ databaseUrl: state, values, paths, listen, env, logger, retention, ...(offline ? { offline } : {}), ...(engineOptions ? { engineOptions } : {}) });
    }
    for (const flag of ['worker-id', 'lease-ttl-ms', 'lease-grace-ms', 'max-portal-labels'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for a worker of a PostgreSQL deployment: give --state postgres://USER@HOST/DB (or B24_RULES_DATABASE_URL)`);
    }
    const retention = values.retention === undefined ? null : parseRetention(values.retention);
    const withConsole = values['no-console'] !== true;
    if (!withConsole && values['console-token-file'] !== undefined) throw new UsageError('--console-token-file and --no-console exclude each other');
    // Before anything starts: a console open to the network without a token is refused here (and again by the console itself).
    const consoleToken = withConsole ? readConsoleToken(env, values['console-token-file']) : null;
    if (withConsole) checkConsoleListen(listen, consoleToken);
    const allowedOrigins = withConsole ? parseConsoleOrigins(env.B24_RULES_CONSOLE_ORIGIN) : [];
    const logger = createLogger({ level: logLevel(values['log-level']) });
    const config = loadConfig();
    const applicationToken = env.B24_APPLICATION_TOKEN || undefined;
    registerSecret(applicationToken);
    const daemon = createDaemon({
      rulesPaths: paths.map((p) => resolve(p)),
      statePath: resolve(values.state ?? DEFAULT_STATE_PATH),
      config,
      logger,
      env,
      listen,
      watch: values['no-watch'] !== true,
      ...(withConsole ? { mount: daemonConsole({ token: consoleToken, allowedOrigins, config, logger: logger.child({ component: 'console' }) }) } : {}),
      ...(env.B24_AUTH_CONNECTOR ? { authConnector: env.B24_AUTH_CONNECTOR } : {}),
      ...(applicationToken ? { applicationToken } : {}),
      ...(offline ? { offline } : {}),
      ...(engineOptions ? { engineOptions } : {}),
    });
    // Handlers first: a signal that arrives while starting is honoured once started.
    const done = runUntilSignalled(daemon, logger);
    await daemon.start();
    if (retention) {
      const stop = startRetention(() => daemon.store, retention, logger.child({ component: 'retention' }));
      void done.finally(stop);
    }
    return done;
  },
};

export default command;
