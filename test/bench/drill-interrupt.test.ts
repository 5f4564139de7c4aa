/**
 * `npm run drill` stopped by Ctrl-C: the built drill (dist/bench/drill/run.js --quick) as a subprocess,
 * piped, SIGINT once its backlog exists: it stops the workload, the daemon and every process it started,
 * says what was done and that nothing was checked, and exits 130; piped, its progress is plain lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { until } from '../daemon/harness.js';

const DRILL = join(PACKAGE_ROOT, 'dist', 'bench', 'drill', 'run.js');

/** The processes `pid` started, still running. */
function childrenOf(pid: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run drill and Ctrl-C', { timeout: 120_000 }, () => {
  it('stops everything it started, says what was done and that nothing was checked, exit 130', async () => {
    expect(existsSync(DRILL), `${DRILL} (npm run build)`).toBe(true);
    const child = spawn(process.execPath, [DRILL, '--quick', '--seed', '7'], { cwd: PACKAGE_ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await until(() => stderr.includes('drill: backlog:') || child.exitCode !== null, 'the drill creating its backlog', 90_000);
    const started = childrenOf(child.pid as number);
    expect(started.length, 'the daemon (and the rule fuzzer) run as child processes').toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stdout).toMatch(/^drill: stopped by Ctrl-C after \d+ s: \d+ of \d+ disturbances done, \d+ of \d+ leads followed up; not done: the rest of the workload and every invariant check \(nothing was checked\)/m);
    expect(stdout).not.toMatch(/^(ok|FAIL) /m);
    expect(stderr).toContain('drill: Ctrl-C: stopping the workload');
    expect(stderr).not.toContain('\r');
    expect(stderr).not.toContain('\x1b');
    for (const pid of started) expect(alive(pid), `child ${pid} stopped`).toBe(false);
    const workDir = /work directory: (\S+)$/m.exec(stdout)?.[1];
    expect(workDir).toMatch(/b24-drill-/);
    rmSync(workDir as string, { recursive: true, force: true });
  });
});
