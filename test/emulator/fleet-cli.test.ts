/** `rules emulator --portals N` as a subprocess: one ready line for the fleet, working credentials per portal, secrets kept out of the logs. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fleetMemberId } from '../../emulator/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { CLI, cliCeilingMs, runCli } from '../helpers/cli.js';

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface FleetLine {
  token_server: string;
  oauth_url: string;
  client_id: string;
  client_secret: string;
  env: Record<string, string>;
  portals: Array<{ index: number; url: string; domain: string; member_id: string; webhook: string; access_token: string; refresh_token: string; application_token: string; env: Record<string, string> }>;
}

function start(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; ready: FleetLine; stderr: () => string; exit: Promise<number | null> }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  const child = spawn(process.execPath, [CLI, 'emulator', ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const ceiling = cliCeilingMs();
    const timer = setTimeout(() => reject(new Error(`'rules emulator ${args.join(' ')}' printed no ready line within ${ceiling} ms; stderr: ${err || '(nothing)'}`)), ceiling);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({ child, ready: JSON.parse(out.slice(0, nl)) as FleetLine, stderr: () => err, exit });
    });
    child.on('close', (code) => reject(new Error(`exited ${String(code)} before ready; stderr: ${err}`)));
  });
}

describe('rules emulator --portals N', () => {
  it('prints the token server, the app and per portal its domain, member_id and environment; they work; SIGTERM exits 0', async () => {
    const s = await start(['--portals', '2', '--seed', '3', '--log-level', 'info']);
    const { ready } = s;
    expect(ready.portals).toHaveLength(2);
    expect(ready.oauth_url).toBe(`${ready.token_server}/oauth/token/`);
    expect(ready.env).toEqual({ B24_OAUTH_URL: ready.oauth_url, B24_CLIENT_ID: ready.client_id, B24_CLIENT_SECRET: ready.client_secret });
    expect(ready.portals.map((p) => p.member_id)).toEqual([fleetMemberId(3, 0), fleetMemberId(3, 1)]);
    expect(new Set(ready.portals.map((p) => p.domain)).size).toBe(2);
    for (const p of ready.portals) {
      expect(p.env).toMatchObject({ B24_DOMAIN: p.url, B24_AUTH_MODE: 'oauth', B24_ACCESS_TOKEN: p.access_token, B24_REFRESH_TOKEN: p.refresh_token, ...ready.env });
      expect((await fetch(`${p.webhook}server.time`)).status).toBe(200);
      expect((await fetch(`${p.url}/rest/user.current?auth=${p.access_token}`)).status).toBe(200);
      const q = new URLSearchParams({ grant_type: 'refresh_token', client_id: ready.client_id, client_secret: ready.client_secret, refresh_token: p.refresh_token });
      const refreshed = (await (await fetch(`${ready.oauth_url}?${q.toString()}`)).json()) as { member_id: string; domain: string };
      expect(refreshed).toMatchObject({ member_id: p.member_id, domain: p.domain });
    }
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    const logs = s.stderr();
    expect(logs).toContain('emulator fleet: ready');
    for (const secret of [ready.client_secret, ...ready.portals.flatMap((p) => [p.access_token, p.refresh_token, p.application_token, p.webhook.split('/')[5] as string])]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('refuses options that belong to one portal, and --seed without --portals (exit 2)', async () => {
    for (const args of [['--portals', '2', '--tls'], ['--portals', '2', '--port', '8080'], ['--seed', '3'], ['--portals', '0']]) {
      const r = await runCli(['emulator', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
  });
});
