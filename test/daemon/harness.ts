/**
 * The daemon as a subprocess (`node dist/cli/rules.js run ...`) against an
 * emulator started in the test process, with its JSON log lines parsed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';

export const CLI = join(PACKAGE_ROOT, 'dist/cli/rules.js');

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface DaemonProcess {
  proc: ChildProcess;
  logs: LogRecord[];
  stderr: () => string;
  /** Resolves with the status server's base URL once the daemon logged that it started. */
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  waitForLog(pred: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  kill(signal: NodeJS.Signals): { at: number };
}

/** The environment that points the daemon at the emulator's installed app (OAuth, offline events). */
export function emulatorEnv(emu: Emulator, dir: string): Record<string, string> {
  return {
    B24_DOMAIN: emu.url,
    B24_AUTH_MODE: 'oauth',
    B24_ACCESS_TOKEN: emu.app.access_token,
    B24_REFRESH_TOKEN: emu.app.refresh_token,
    B24_CLIENT_ID: emu.app.client_id,
    B24_CLIENT_SECRET: emu.app.client_secret,
    B24_OAUTH_URL: emu.url,
    B24_TOKEN_FILE: join(dir, 'tokens.json'),
  };
}

export function tempDir(prefix = 'b24-daemon-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeRule(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

export function startDaemonProcess(args: string[], env: Record<string, string>, cwd: string): DaemonProcess {
  const started = Date.now();
  const proc = spawn(process.execPath, [CLI, 'run', ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogRecord[] = [];
  const waiters: Array<{ pred: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }> = [];
  let stderr = '';
  let buf = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        continue;
      }
      logs.push(rec);
      for (const w of [...waiters]) {
        if (w.pred(rec)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
    }
  });
  proc.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started }));
  });
  const waitForLog = (pred: (r: LogRecord) => boolean, timeoutMs = 25_000): Promise<LogRecord> => {
    const hit = logs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; last: ${JSON.stringify(logs.slice(-5))}`)), timeoutMs);
      waiters.push({
        pred,
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
      });
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`daemon exited before the log line; stderr: ${stderr}; last: ${JSON.stringify(logs.slice(-5))}`));
      });
    });
  };
  const url = waitForLog((r) => r.msg.startsWith('daemon started')).then((r) => String(r.url));
  url.catch(() => undefined);
  return {
    proc,
    logs,
    stderr: () => stderr,
    url,
    exited,
    waitForLog,
    kill(signal) {
      proc.kill(signal);
      return { at: Date.now() };
    },
  };
}

/**
 * Poll a condition (the daemon works in real time in another process). The default ceiling is generous: a wait
 * is not an assertion on speed, and 20 s ran out for worker tests beside CPU hogs (load average 15 on 2 cores).
 */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
