/**
 * `rules emulator`: start the Bitrix24 portal emulator (or, with `--portals N`,
 * a fleet of N portals sharing one token server) and print its credentials as
 * one JSON line.
 */
import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';
import { startEmulator, startEmulatorFleet, type EmulatorFleet, type EmulatorOptions } from '../../emulator/index.js';
import { intOption, logLevel, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules emulator [--port N] [--host 127.0.0.1] [--data FILE] [--plan standard|enterprise]
                      [--token-ttl SECONDS] [--tls [--ca-file FILE]] [--fault-error-rate R] [--fault-drop-rate R]
                      [--fault-drop-when before|after] [--fault-latency-ms MS] [--fault-seed N] [--unthrottled]
                      [--operating-limit SECONDS] [--lack-feature CODE]...
       rules emulator --portals N [--seed S] [same options but --port, --tls, --ca-file]

Start a stand-in Bitrix24 portal over HTTP. When it is ready, one JSON line goes
to stdout with url, webhook, client_id, client_secret, access_token,
refresh_token, application_token, oauth_url, member_id and domain (with --tls
also ca_file). Logs go to stderr. Stops on SIGTERM or SIGINT.

With --portals N: N portals, each on its own free port (its own domain
127.0.0.1:<port>, member_id, webhook, bucket and offline queue), one app
installed on all, and ONE token server for all (the stand-in for
oauth.bitrix.info). The ready line has token_server, oauth_url, client_id,
client_secret, env (what every worker needs: B24_OAUTH_URL, B24_CLIENT_ID,
B24_CLIENT_SECRET) and portals: per portal index, url, domain, member_id,
webhook, access_token, refresh_token, application_token and env (a
single-portal daemon's environment for that portal).

Options:
  --port N               port to listen on; 0 picks a free one (default 0)
  --host HOST            address to listen on (default 127.0.0.1)
  --data FILE            seed data, YAML or JSON (this project's shape or the docs
                         simulator's sample portal); default: the demo portal
  --plan PLAN            standard (50 burst, 2 req/s) or enterprise (250, 5 req/s)
  --token-ttl SECONDS    access-token lifetime (default 3600)
  --tls                  serve HTTPS with a self-signed certificate made at start; the
                         certificate is written (mode 0600) to the ready line's ca_file:
                         trust it with B24_CA_FILE=<ca_file> (or NODE_EXTRA_CA_CERTS)
  --ca-file FILE         with --tls: write the certificate there (default: a new private
                         temp directory, removed on stop)
  --fault-error-rate R   share of calls answered 500 (0..1, default 0)
  --fault-drop-rate R    share of calls whose connection is dropped (0..1, default 0)
  --fault-drop-when W    before: a dropped call does not run (default); after: it runs
                         (the write happens) and only the answer is lost
  --fault-latency-ms MS  delay added to every answer (default 0)
  --fault-seed N         seed of the fault RNG (default 1)
  --unthrottled          no leaky bucket and no operating budget: nothing is refused for
                         load (benchmarks that measure the work, not the portal's throttle)
  --operating-limit S    the per-method operating limit, seconds per 10 minutes (default 480,
                         the docs' example; a portal's real one is its configuration)
  --lack-feature CODE    the plan lacks this feature (rest_offline_extended or
                         rest_auth_connector): feature.get answers N, the offline methods that
                         need it answer 403 WRONG_LICENSE; repeat for both
  --portals N            start a fleet of N portals (1..1000) with one shared token server
  --seed S               with --portals: seed of the member_ids (same seed, same ids; default 1)
`;

/** Portals one `--portals` may start: each is a server with its own data in this process. */
const MAX_PORTALS = 1000;

/** Limits so high that neither the bucket nor the operating budget ever refuses. */
const UNTHROTTLED_LIMITS = { burst: 1e9, drainPerSec: 1e9, operatingBudgetSec: 1e12 } as const;

function rate(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number between 0 and 1; got '${v}'`);
  return n;
}

const command: Command = {
  summary: 'start the Bitrix24 portal emulator',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        plan: { type: 'string' },
        'token-ttl': { type: 'string' },
        tls: { type: 'boolean' },
        'ca-file': { type: 'string' },
        'fault-error-rate': { type: 'string' },
        'fault-drop-rate': { type: 'string' },
        'fault-drop-when': { type: 'string' },
        'fault-latency-ms': { type: 'string' },
        'fault-seed': { type: 'string' },
        unthrottled: { type: 'boolean' },
        'operating-limit': { type: 'string' },
        'lack-feature': { type: 'string', multiple: true },
        portals: { type: 'string' },
        seed: { type: 'string' },
      },
      false,
    );
    const plan = values.plan ?? 'standard';
    if (plan !== 'standard' && plan !== 'enterprise') throw new UsageError(`--plan must be standard or enterprise; got '${plan}'`);
    const port = intOption('port', values.port, 0);
    if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535; got '${port}'`);
    const ttl = intOption('token-ttl', values['token-ttl'], 1);
    if (values['ca-file'] !== undefined && !values.tls) throw new UsageError('--ca-file goes with --tls (it is where the HTTPS certificate is written)');
    const logger = createLogger({ level: logLevel(values['log-level']), toStderr: true, name: 'emulator' });
    const errorRate = rate('fault-error-rate', values['fault-error-rate']);
    const dropRate = rate('fault-drop-rate', values['fault-drop-rate']);
    const dropWhen = values['fault-drop-when'];
    if (dropWhen !== undefined && dropWhen !== 'before' && dropWhen !== 'after') throw new UsageError(`--fault-drop-when must be before or after; got '${dropWhen}'`);
    const latencyMs = intOption('fault-latency-ms', values['fault-latency-ms'], 0);
    const seed = intOption('fault-seed', values['fault-seed'], 0);
    const operatingLimit = intOption('operating-limit', values['operating-limit'], 1);
    if (operatingLimit !== undefined && values.unthrottled) throw new UsageError('--operating-limit and --unthrottled do not go together (--unthrottled turns the operating limit off)');
    const lacking = new Set<string>();
    for (const code of values['lack-feature'] ?? []) {
      const c = code.toLowerCase();
      if (c !== 'rest_offline_extended' && c !== 'rest_auth_connector') throw new UsageError(`--lack-feature takes rest_offline_extended or rest_auth_connector; got '${code}'`);
      lacking.add(c);
    }
    const options: EmulatorOptions = {
      logger,
      plan,
      ...(port !== undefined ? { port } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(values.data ? { data: values.data } : {}),
      ...(ttl !== undefined ? { tokenTtlSeconds: ttl } : {}),
      ...(values.tls ? { tls: true } : {}),
      ...(values.unthrottled ? { limits: UNTHROTTLED_LIMITS } : {}),
      ...(operatingLimit !== undefined ? { limits: { operatingBudgetSec: operatingLimit } } : {}),
      ...(lacking.size > 0 ? { features: { offlineExtended: !lacking.has('rest_offline_extended'), authConnector: !lacking.has('rest_auth_connector') } } : {}),
      ...(values['ca-file'] !== undefined ? { caFile: resolvePath(values['ca-file']) } : {}),
      faults: {
        ...(errorRate !== undefined ? { errorRate } : {}),
        ...(dropRate !== undefined ? { dropRate } : {}),
        ...(dropWhen !== undefined ? { dropWhen } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        ...(seed !== undefined ? { seed } : {}),
      },
    };
    const portals = intOption('portals', values.portals, 1);
    if (portals !== undefined && portals > MAX_PORTALS) throw new UsageError(`--portals must be at most ${MAX_PORTALS}; got '${portals}'`);
    const fleetSeed = intOption('seed', values.seed, 0);
    if (fleetSeed !== undefined && portals === undefined) throw new UsageError('--seed goes with --portals (it seeds the fleet\'s member_ids)');
    if (portals !== undefined) {
      for (const name of ['port', 'tls', 'ca-file'] as const) {
        if (values[name] !== undefined) throw new UsageError(`--${name} goes with one portal; a fleet's portals and token server take free ports on plain HTTP`);
      }
      if (lacking.size > 0) throw new UsageError('--lack-feature goes with one portal (a fleet\'s portals all have both features)');
      const { port: _port, tls: _tls, caFile: _caFile, ...shared } = options;
      const fleet = await startEmulatorFleet({ ...shared, portals, ...(fleetSeed !== undefined ? { seed: fleetSeed } : {}) });
      return serve(JSON.stringify(fleetReadyLine(fleet, plan)), () => fleet.close(), logger);
    }
    const emu = await startEmulator(options);
    const ready = {
      url: emu.url,
      webhook: emu.webhookUrl,
      client_id: emu.app.client_id,
      client_secret: emu.app.client_secret,
      access_token: emu.app.access_token,
      refresh_token: emu.app.refresh_token,
      application_token: emu.app.application_token,
      oauth_url: emu.app.oauth_url,
      member_id: emu.app.member_id,
      domain: emu.app.domain,
      plan,
      ...(emu.caFile !== undefined ? { ca_file: emu.caFile } : {}),
    };
    return serve(JSON.stringify(ready), () => emu.close(), logger);
  },
};

/**
 * The fleet's ready line: the token server and the app, what every worker needs, and per portal what a
 * single-portal daemon needs. Like the single portal's line, it carries the made-up local credentials.
 */
function fleetReadyLine(fleet: EmulatorFleet, plan: string): Record<string, unknown> {
  const shared = { B24_OAUTH_URL: fleet.oauthUrl, B24_CLIENT_ID: fleet.clientId, B24_CLIENT_SECRET: fleet.clientSecret };
  return {
    token_server: fleet.tokenServerUrl,
    oauth_url: fleet.oauthUrl,
    client_id: fleet.clientId,
    client_secret: fleet.clientSecret,
    plan,
    env: shared,
    portals: fleet.portals.map((p) => ({
      index: p.index,
      url: p.url,
      domain: p.domain,
      member_id: p.memberId,
      webhook: p.webhookUrl,
      access_token: p.app.access_token,
      refresh_token: p.app.refresh_token,
      application_token: p.app.application_token,
      env: { B24_DOMAIN: p.url, B24_AUTH_MODE: 'oauth', B24_ACCESS_TOKEN: p.app.access_token, B24_REFRESH_TOKEN: p.app.refresh_token, ...shared },
    })),
  };
}

/** Print the ready line, then run until SIGTERM or SIGINT and close. */
async function serve(line: string, close: () => Promise<void>, logger: ReturnType<typeof createLogger>): Promise<number> {
  // Handlers first: a supervisor may send SIGTERM as soon as it reads the ready line.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'emulator: stopping');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  // The emulator's credentials are local and made up at start; printing them is the point of this line.
  process.stdout.write(`${line}\n`);
  await stopped;
  await close();
  return EXIT.OK;
}

export default command;
