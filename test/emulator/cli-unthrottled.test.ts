/** `rules emulator --unthrottled` as a subprocess: nothing is refused for load (the benchmarks' portal). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { CLI, cliCeilingMs } from '../helpers/cli.js';

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(args: string[]): Promise<{ webhook: string; child: ChildProcessWithoutNullStreams }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  const child = spawn(process.execPath, [CLI, 'emulator', '--log-level', 'silent', ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`'rules emulator ${args.join(' ')}' printed no ready line; stdout: ${out}`)), cliCeilingMs());
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({ webhook: (JSON.parse(out.slice(0, nl)) as { webhook: string }).webhook, child });
    });
    child.on('close', (code) => reject(new Error(`exited ${String(code)} before ready`)));
  });
}

/** 200 reads at once: four times the standard plan's burst of 50. */
async function statuses(webhook: string): Promise<number[]> {
  return Promise.all(Array.from({ length: 200 }, () => fetch(`${webhook}user.current`).then(async (r) => (await r.arrayBuffer(), r.status))));
}

describe('rules emulator --unthrottled', () => {
  it('answers 200 reads at once without a refusal; the same burst without the flag is refused in part (503)', async () => {
    const free = await start(['--unthrottled']);
    expect((await statuses(free.webhook)).filter((s) => s !== 200)).toEqual([]);
    const plain = await start([]);
    expect((await statuses(plain.webhook)).filter((s) => s === 503).length).toBeGreaterThan(0);
  }, 120_000);
});
