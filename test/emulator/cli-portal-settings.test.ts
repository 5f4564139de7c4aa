/**
 * `rules emulator --operating-limit S --lack-feature CODE` as a subprocess (issue 15): a portal with another
 * operating limit than the docs' 480 s, and a plan without a feature (feature.get answers N, the offline method
 * that needs it 403 WRONG_LICENSE). Bad values are bad usage (exit 2).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { CLI, cliCeilingMs } from '../helpers/cli.js';

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(args: string[]): Promise<{ webhook: string; access_token: string; url: string }> {
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
      resolve(JSON.parse(out.slice(0, nl)) as { webhook: string; access_token: string; url: string });
    });
    child.on('close', (code) => reject(new Error(`exited ${String(code)} before ready`)));
  });
}

async function post(url: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('rules emulator: the portal\'s settings', () => {
  it('--operating-limit 1 refuses a method once it went past 1 s; --lack-feature rest_offline_extended answers N and WRONG_LICENSE for a reserving get', async () => {
    const emu = await start(['--plan', 'enterprise', '--operating-limit', '1', '--lack-feature', 'rest_offline_extended']);
    // user.get costs 0.05 s: about 20 calls reach 1 s, and the next is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await post(`${emu.webhook}user.get`, {})).status);
    const refused = statuses.indexOf(429);
    expect(refused).toBeGreaterThanOrEqual(19);
    expect(refused).toBeLessThanOrEqual(21);
    expect(statuses.slice(0, refused).every((s) => s === 200)).toBe(true);

    expect((await post(`${emu.webhook}feature.get`, { CODE: 'rest_offline_extended' })).body.result).toEqual({ value: 'N' });
    expect((await post(`${emu.webhook}feature.get`, { CODE: 'rest_auth_connector' })).body.result).toEqual({ value: 'Y' });
    const reserve = await post(`${emu.url}/rest/event.offline.get`, { clear: 0, auth: emu.access_token });
    expect(reserve).toMatchObject({ status: 403, body: { error: 'WRONG_LICENSE' } });
  }, 120_000);

  it('bad values are bad usage (exit 2)', () => {
    for (const args of [['--lack-feature', 'rest_everything'], ['--operating-limit', '0'], ['--operating-limit', '30', '--unthrottled'], ['--portals', '2', '--lack-feature', 'rest_auth_connector']]) {
      const r = spawnSync(process.execPath, [CLI, 'emulator', ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: cliCeilingMs() });
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
    }
  }, 120_000);
});
