/**
 * The portal of the process benchmarks: a real `rules emulator --unthrottled`
 * process (nothing refused for load: the run measures the work, not the
 * throttle), and the calls the benchmark itself makes to it directly, past
 * the counting proxy: seeding leads through the incoming webhook, binding
 * events and reading the offline queue with the app's token, checking the
 * records at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, RULES_CLI } from './drill/index.js';

/** The emulator's ready line (what `rules emulator` prints). */
export interface EmulatorReady {
  url: string;
  webhook: string;
  client_id: string;
  client_secret: string;
  access_token: string;
  refresh_token: string;
  application_token: string;
}

export interface EmulatorProcess {
  readonly ready: EmulatorReady;
  readonly pid: number | undefined;
  /** A REST call through the incoming webhook (user 1, every scope); throws on an error answer. */
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** A REST call with the app's OAuth token (the `event.*` methods are app-only); throws on an error answer. */
  appCall<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** The same, returning the whole envelope (`total`, `next`). */
  appEnvelope<T = unknown>(method: string, params?: Record<string, unknown>): Promise<Envelope<T>>;
  stop(): Promise<void>;
}

/** A REST answer's envelope. */
export interface Envelope<T> {
  result: T;
  total?: number;
  next?: number;
}

async function post<T>(url: string, body: Record<string, unknown>, what: string): Promise<Envelope<T>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = (await res.json()) as Envelope<T> & { error?: string; error_description?: string };
  if (!res.ok || data.error) throw new Error(`${what}: HTTP ${res.status} ${data.error ?? ''} ${data.error_description ?? ''}`.trim());
  return data;
}

/** Start `rules emulator --unthrottled` with `args` (e.g. `--data FILE`); resolves at its ready line. */
export async function startEmulatorProcess(args: string[], timeoutMs = 60_000): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(process.execPath, [RULES_CLI, 'emulator', '--unthrottled', '--log-level', 'warn', ...args], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<EmulatorReady>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`rules emulator printed no ready line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(out.slice(0, nl)) as EmulatorReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rules emulator exited (${String(code)}) before its ready line; stderr: ${stderr}`));
    });
  });
  return {
    ready,
    pid: child.pid,
    call: async (method, params = {}) => (await post<never>(`${ready.webhook}${method}.json`, params, method)).result,
    appCall: async (method, params = {}) => (await post<never>(`${ready.url}/rest/${method}.json`, { ...params, auth: ready.access_token }, method)).result,
    appEnvelope: (method, params = {}) => post(`${ready.url}/rest/${method}.json`, { ...params, auth: ready.access_token }, method),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
