/**
 * `rules demo` (npm start): the daemon against an in-process emulator, with
 * the scenario rules in rules/, OAuth app credentials and offline events from
 * the emulator, a local stub of the external services the rules call, and a
 * generator of portal activity. Prints what people do in the portal and what
 * the rules did about it, one readable line each.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createClient, type ClientConfig } from '../engine/client/index.js';
import { daemonConsole } from '../engine/console/index.js';
import { createDaemon, type Daemon } from '../engine/daemon/index.js';
import { authConnectorFor } from '../engine/config.js';
import type { Logger, LogLevel } from '../engine/logger.js';
import { RULES_DIR } from '../engine/paths.js';
import { redact, registerSecret } from '../engine/redact.js';
import { runActivity } from './activity.js';
import { describeRun, type UserNames } from './narrate.js';
import { startStubServices, type StubServices } from './stub-services.js';

/** The demo's own rules beside the scenario ones: a shadow twin of a scenario rule (rules/demo/). */
export const DEMO_RULES_DIR = join(RULES_DIR, 'demo');

export interface DemoOptions {
  /** Rule files or directories. @default the package's rules/ and rules/demo/ */
  rulesPaths?: string[];
  /** Status/webhook server. @default '127.0.0.1:0' */
  listen?: string;
  /** State file. @default a temporary file, removed at the end */
  statePath?: string;
  /** Where the readable lines go. @default process.stdout */
  out?: (line: string) => void;
  /** Daemon log lines at this level and above are shown too (besides the narration). @default 'warn' */
  logLevel?: LogLevel;
  /** ANSI colours. @default out is a TTY */
  color?: boolean;
  /** Seconds between the generator's leads after the scripted minute. @default 15 */
  everySeconds?: number;
  /** Multiplies the generator's delays (tests run the script faster). @default 1 */
  timeScale?: number;
  /** The web console's token (readConsoleToken); a `listen` beyond loopback needs one (CONSOLE_TOKEN_REQUIRED). @default null */
  consoleToken?: string | null;
}

export interface RunningDemo {
  daemon: Daemon;
  emulator: Emulator;
  stubs: StubServices;
  /** Resolves once every step of the scripted minute has run (each done, or reported as failed); never rejects. */
  scripted: Promise<void>;
  /** Stop the generator, the daemon, the emulator and the stubs; prints a summary. */
  stop(): Promise<void>;
}

/** How the script waits for the rules to take the changes made so far (ActivityContext.settled). */
const SETTLE = {
  /** @default 100 ms */
  pollMs: 100,
  /** Past this the script goes on anyway: a stuck daemon must not stop the portal's activity. @default 60000 ms */
  ceilingMs: 60_000,
};

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function paint(color: boolean) {
  const c = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { dim: c('2'), green: c('32'), yellow: c('33'), red: c('31'), cyan: c('36'), bold: c('1') };
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/** Start everything; resolves once the daemon runs and the generator has begun. */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const out = options.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const col = paint(options.color ?? Boolean(process.stdout.isTTY));
  const showLevel = LEVELS[options.logLevel ?? 'warn'] ?? 40;
  const tmp = options.statePath ? null : mkdtempSync(join(tmpdir(), 'b24-rules-demo-'));
  const statePath = options.statePath ?? join(tmp as string, 'state.db');

  const stubs = await startStubServices();
  // The default data (emulator/data/demo-portal.yaml) has the users, pipeline and fields the scenario rules refer to.
  const emulator = await startEmulator({ port: 0 });
  const formSecret = randomBytes(16).toString('hex');
  for (const v of [formSecret, ...Object.values(stubs.env)]) registerSecret(v);
  const env: Record<string, string | undefined> = { ...process.env, ...stubs.env, FORM_SECRET: formSecret, APPROVAL_TEMPLATE_ID: '17' };

  const config: ClientConfig = {
    baseUrl: emulator.url,
    plan: 'standard',
    auth: {
      mode: 'oauth',
      accessToken: emulator.app.access_token,
      refreshToken: emulator.app.refresh_token,
      clientId: emulator.app.client_id,
      clientSecret: emulator.app.client_secret,
      oauthUrl: emulator.url,
      tokenFile: join(tmp ?? tmpdir(), `b24-rules-demo-tokens-${process.pid}.json`),
    },
  };

  const names: UserNames = new Map();
  let daemonRef: Daemon | null = null;
  const narrate = (rec: Record<string, unknown>) => {
    const level = Number(rec.level ?? 30);
    if (typeof rec.run === 'number' && typeof rec.rule === 'string' && daemonRef) {
      const outcome = String(rec.outcome);
      if (outcome === 'done' && rec.mode === 'shadow') {
        const text = describeRun(daemonRef.store.effects.forRun(rec.run), names, 'shadow');
        if (text) out(`${col.dim(clock())} ${col.dim('shadow')}  ${col.dim('◌')} ${col.bold(String(rec.rule))} would have (not sent): ${col.dim(text)}`);
      } else if (outcome === 'done') {
        const text = describeRun(daemonRef.store.effects.forRun(rec.run), names);
        if (text) out(`${col.dim(clock())} ${col.green('rules ')}  ${col.green('✓')} ${col.bold(String(rec.rule))}: ${text}`);
      } else if (outcome === 'failed' || outcome === 'dead') {
        out(`${col.dim(clock())} ${col.red('rules ')}  ${col.red('✗')} ${col.bold(String(rec.rule))} ${outcome}: ${redact(String(rec.error ?? ''))}  ${col.dim(`(rules trace ${rec.run})`)}`);
      }
      return;
    }
    // The client logs a 503 QUERY_LIMIT_EXCEEDED under its own code, RATE_LIMITED.
    if (level === 40 && rec.code === 'RATE_LIMITED') {
      // The portal's request-rate limit is shared by everyone working in it; the client waits and retries.
      out(`${col.dim(clock())} ${col.dim('limit   ')}  ${col.dim(`rate limit reached on ${String(rec.method ?? 'a call')}: waiting, then retrying`)}`);
      return;
    }
    if (level >= showLevel) {
      const paintLevel = level >= 50 ? col.red : col.yellow;
      const detail = ['method', 'code', 'rule', 'attempt'].filter((k) => rec[k] !== undefined).map((k) => `${k}=${String(rec[k])}`).join(' ');
      out(`${col.dim(clock())} ${paintLevel(level >= 50 ? 'error ' : 'warn  ')}  ${redact(String(rec.msg ?? ''))}${detail ? col.dim(`  (${detail})`) : ''}`);
    }
  };
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          narrate(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log record
        }
      }
      cb();
    },
  });
  const logger: Logger = pino({ level: 'info' }, stream);

  const rulesPaths = options.rulesPaths ?? [RULES_DIR, DEMO_RULES_DIR];
  const daemon = createDaemon({
    rulesPaths,
    statePath,
    config,
    logger,
    env,
    listen: options.listen ?? '127.0.0.1:0',
    watch: false,
    offline: { pollIntervalMs: 300 },
    tickIntervalMs: 200,
    // The web console as `rules run` serves it: beyond loopback only with a token (the mount refuses otherwise).
    mount: daemonConsole({ token: options.consoleToken ?? null, config }),
  });
  daemonRef = daemon;
  try {
    await daemon.start();
  } catch (err) {
    await emulator.close();
    await stubs.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    throw err;
  }

  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emulator.webhookUrl) as RegExpExecArray;
  // The portal's request limit is per client address, shared with the daemon here: the user's client keeps its own
  // bucket so that after a QUERY_LIMIT_EXCEEDED its retries wait for the limit to drain instead of failing within a second.
  const user = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } });
  try {
    const users = await user.call<Array<{ ID: string; NAME?: string; LAST_NAME?: string }>>('user.get', {});
    for (const u of users.result) names.set(String(u.ID), [u.NAME, u.LAST_NAME].filter(Boolean).join(' '));
  } catch {
    // names are cosmetic
  }

  out(col.bold('b24-rules demo'));
  out(`  portal (emulator)   ${emulator.url}`);
  out(`  daemon status       ${daemon.url}/healthz   ${daemon.url}/metrics`);
  out(`  web console         ${daemon.url}/console/rules`);
  out(`  rules               ${daemon.rules.length} rules from ${rulesPaths.join(', ')}`);
  out(`  external services   ${stubs.url} (enrichment, AI summary, deal/contact and task sync, ERP invoicing: stubs)`);
  out(`  state               ${statePath}`);
  out(col.dim('  Leads arrive, deals move, a form is submitted; the rules act within seconds. Ctrl-C stops.'));
  out('');

  const abort = new AbortController();
  let scriptedDone!: () => void;
  const scripted = new Promise<void>((resolve) => (scriptedDone = resolve));
  const activity = runActivity(
    {
      user,
      formUrl: `${daemon.url}/hooks/forms/contact-us`,
      formSecret,
      signal: abort.signal,
      say: (text) => out(`${col.dim(clock())} ${col.cyan('portal')}  ▸ ${text}`),
      settled: async () => {
        // Nothing left in the portal's queue for the daemon (records stay there until the daemon has finished them) and nothing unfinished in its inbox.
        const connector = authConnectorFor(config);
        const until = Date.now() + SETTLE.ceilingMs;
        while (!abort.signal.aborted && Date.now() < until) {
          const queued = emulator.events.hub.queue.snapshot().some((r) => r.connector === connector);
          if (!queued && daemon.store.inbox.depth() === 0) return;
          await new Promise((resolve) => setTimeout(resolve, SETTLE.pollMs));
        }
      },
      fireSchedule: (ruleId) => {
        const at = new Date().toISOString();
        daemon.store.inbox.add([{ source: 'schedule', key: `${ruleId}@${at}`, event: null, ruleId, payload: { schedule: { at, manualDemo: true } }, receivedAt: Date.now() }]);
      },
    },
    {
      ...(options.everySeconds !== undefined ? { everySeconds: options.everySeconds } : {}),
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      onScripted: () => scriptedDone(),
    },
  );

  let stopped = false;
  return {
    daemon,
    emulator,
    stubs,
    scripted,
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await activity.catch(() => undefined);
      const counts = daemon.store.runs.countByStatus();
      const effects = daemon.store.effects.countByState();
      await daemon.stop();
      await emulator.close();
      await stubs.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      out('');
      out(
        `Stopped. Rule runs: ${counts.done} done, ${counts.skipped} skipped (condition false or nothing to change), ${counts.failed + counts.dead} failed; ` +
          `${effects.done} call(s) made, ${effects.shadow ?? 0} journaled in shadow (not sent), ${stubs.received.length} external request(s).`,
      );
    },
  };
}
