/**
 * One real `rules run` process for a benchmark: OAuth mode, offline events,
 * the state file's default synchronous=FULL, the log at its default level
 * (info), everything it sends to the portal going through the counting
 * proxy. Its CPU is read from /proc, apart from the emulator's and the
 * bench's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, RULES_CLI } from './drill/index.js';
import type { EmulatorReady } from './emulator-process.js';
import { processCpuMs } from './proc-cpu.js';

export interface BenchDaemonOptions {
  rulesDir: string;
  workDir: string;
  /** The portal as the daemon sees it: the proxy's URL. */
  portalUrl: string;
  app: EmulatorReady;
  /** `--poll-interval-ms` (unset: the daemon's default). */
  pollIntervalMs?: number;
  /** @default 60000 */
  startTimeoutMs?: number;
  /** Called with the pid right after the spawn (before the daemon has started). */
  onSpawn?: (pid: number | undefined) => void;
}

export interface BenchDaemon {
  readonly pid: number | undefined;
  /** Its status and webhook server (`http://127.0.0.1:PORT`). */
  readonly url: string;
  /** Date.now() when its "daemon started" line arrived. */
  readonly startedAt: number;
  /** Its CPU so far, ms (null: gone). */
  cpuMs(): number | null;
  /** Log lines at warn or above (level >= 40), for a failed run's message. */
  readonly problems: string[];
  /** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** The daemon's environment: the app's credentials, the portal and the token server through the proxy, the enterprise plan's client limits. */
export function daemonEnv(o: Pick<BenchDaemonOptions, 'workDir' | 'portalUrl' | 'app'>): Record<string, string> {
  return {
    B24_DOMAIN: o.portalUrl,
    B24_AUTH_MODE: 'oauth',
    B24_ACCESS_TOKEN: o.app.access_token,
    B24_REFRESH_TOKEN: o.app.refresh_token,
    B24_CLIENT_ID: o.app.client_id,
    B24_CLIENT_SECRET: o.app.client_secret,
    B24_OAUTH_URL: o.portalUrl,
    B24_TOKEN_FILE: `${o.workDir}/tokens.json`,
    B24_APPLICATION_TOKEN: o.app.application_token,
    B24_PLAN: 'enterprise',
  };
}

/** Spawn `rules run` and resolve once it logged "daemon started". */
export async function startBenchDaemon(o: BenchDaemonOptions): Promise<BenchDaemon> {
  const args = [RULES_CLI, 'run', o.rulesDir, '--state', `${o.workDir}/state.db`, '--listen', '127.0.0.1:0', '--no-watch', ...(o.pollIntervalMs ? ['--poll-interval-ms', String(o.pollIntervalMs)] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: o.workDir, env: childEnv(daemonEnv(o)), stdio: ['ignore', 'pipe', 'pipe'] });
  o.onSpawn?.(child.pid);
  const problems: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await new Promise<{ url: string; at: number }>((resolve, reject) => {
    let buf = '';
    let done = false;
    const timeout = o.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rules run did not start within ${timeout} ms; stderr: ${stderr}; ${problems.join('; ')}`));
    }, timeout);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        let rec: { level?: number; msg?: string; url?: string };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue;
        }
        if ((rec.level ?? 0) >= 40 && problems.length < 50) problems.push(line.slice(0, 500));
        if (!done && typeof rec.msg === 'string' && rec.msg.startsWith('daemon started')) {
          done = true;
          clearTimeout(timer);
          resolve({ url: rec.url ?? '', at: Date.now() });
        }
      }
    });
    void exited.then((code) => {
      if (done) return;
      clearTimeout(timer);
      reject(new Error(`rules run exited (${String(code)}) before it started; stderr: ${stderr}; ${problems.join('; ')}`));
    });
  });
  return {
    pid: child.pid,
    url: started.url,
    startedAt: started.at,
    cpuMs: () => processCpuMs(child.pid),
    problems,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
