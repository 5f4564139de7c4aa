/** `rules emulator`: start the Bitrix24 portal emulator and print its credentials as one JSON line. */
import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';
import { startEmulator, type EmulatorOptions } from '../../emulator/index.js';
import { intOption, logLevel, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules emulator [--port N] [--host 127.0.0.1] [--data FILE] [--plan standard|enterprise]
                      [--token-ttl SECONDS] [--tls [--ca-file FILE]] [--fault-error-rate R] [--fault-drop-rate R]
                      [--fault-drop-when before|after] [--fault-latency-ms MS] [--fault-seed N] [--unthrottled]

Start a stand-in Bitrix24 portal over HTTP. When it is ready, one JSON line goes
to stdout with url, webhook, client_id, client_secret, access_token,
refresh_token, application_token, oauth_url, member_id and domain (with --tls
also ca_file). Logs go to stderr. Stops on SIGTERM or SIGINT.

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
`;

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
    const options: EmulatorOptions = {
      logger,
      plan,
      ...(port !== undefined ? { port } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(values.data ? { data: values.data } : {}),
      ...(ttl !== undefined ? { tokenTtlSeconds: ttl } : {}),
      ...(values.tls ? { tls: true } : {}),
      ...(values.unthrottled ? { limits: UNTHROTTLED_LIMITS } : {}),
      ...(values['ca-file'] !== undefined ? { caFile: resolvePath(values['ca-file']) } : {}),
      faults: {
        ...(errorRate !== undefined ? { errorRate } : {}),
        ...(dropRate !== undefined ? { dropRate } : {}),
        ...(dropWhen !== undefined ? { dropWhen } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        ...(seed !== undefined ? { seed } : {}),
      },
    };
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
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    await stopped;
    await emu.close();
    return EXIT.OK;
  },
};

export default command;
