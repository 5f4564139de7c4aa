/** Run the built `rules` command as a subprocess (tests exercise the CLI the way users do). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestRunner } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';

export const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'rules.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Kill the process and reject after this many ms. @default what is left of the current test's timeout, less a margin (cliCeilingMs) */
  timeoutMs?: number;
}

/** Outside a test (a hook, a helper run on its own), the ceiling of one CLI run. */
const DEFAULT_CEILING_MS = 60_000;
/** Kept back from the test's timeout so that the run fails with its own message before the test times out. */
const MARGIN_MS = 2_000;

/**
 * How long a CLI run may take: whatever is left of the running test's timeout, less a small margin, so a slow
 * machine gets all the time the test allows, and a run that never ends fails naming itself instead of the test
 * timing out (or the child being killed early and the test seeing exit `null`).
 */
export function cliCeilingMs(): number {
  const test = TestRunner.getCurrentTest();
  const startedAt = test?.result?.startTime;
  if (!test || !test.timeout || startedAt === undefined) return DEFAULT_CEILING_MS;
  return Math.max(1_000, startedAt + test.timeout - Date.now() - MARGIN_MS);
}

function tail(text: string, max = 4_000): string {
  const t = text.trimEnd();
  return t.length > max ? `…${t.slice(-max)}` : t || '(nothing)';
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does it)`);
  const ceiling = options.timeoutMs ?? cliCeilingMs();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? PACKAGE_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ceiling);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`'rules ${args.join(' ')}' did not exit within ${ceiling} ms and was killed; stdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`));
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
