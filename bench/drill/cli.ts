/**
 * The built `rules` command as the drill runs it: a child process of
 * dist/cli/rules.js with a clean environment (only what the drill sets, never
 * the caller's B24_* variables, so a drill cannot reach a real portal) in the
 * drill's work directory (so no `.env` of the caller is read).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../engine/paths.js';

/** The CLI the drill drives. */
export const RULES_CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'rules.js');

/** The environment of every child: the few variables a process needs, plus the drill's. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = { NO_COLOR: '1' };
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) keep[k] = v;
  }
  return { ...keep, ...extra };
}

export interface CliRun {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed because it ran past its time limit. */
  timedOut: boolean;
}

/** Run `rules ARGS` to the end (killed after `timeoutMs`). */
export function runRules(args: string[], options: { env: Record<string, string>; cwd: string; timeoutMs: number }): Promise<CliRun> {
  if (!existsSync(RULES_CLI)) throw new Error(`${RULES_CLI} is missing: run 'npm run build' first ('npm run drill' does)`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RULES_CLI, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}
