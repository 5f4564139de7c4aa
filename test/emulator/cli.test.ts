/** `rules emulator` as a subprocess: one ready JSON line on stdout, working credentials, clean stop on SIGTERM/SIGINT. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { CLI, cliCeilingMs, runCli } from '../helpers/cli.js';

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: Record<string, string>;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Promise<Started> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  const child = spawn(process.execPath, [CLI, 'emulator', ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    // As long as the test allows (a loaded machine starts node slowly), then a failure that names the command.
    const ceiling = cliCeilingMs();
    const timer = setTimeout(() => reject(new Error(`'rules emulator ${args.join(' ')}' printed no ready line within ${ceiling} ms; stdout: ${out || '(nothing)'}; stderr: ${err || '(nothing)'}`)), ceiling);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({ child, ready: JSON.parse(out.slice(0, nl)) as Record<string, string>, stderr: () => err, exit });
    });
    child.on('close', (code) => reject(new Error(`exited ${String(code)} before ready; stderr: ${err}`)));
  });
}

describe('rules emulator', () => {
  it('--port 0: prints one ready line with url, webhook and app credentials; they work; SIGTERM exits 0', async () => {
    const s = await start(['--port', '0']);
    expect(Object.keys(s.ready)).toEqual(expect.arrayContaining(['url', 'webhook', 'client_id', 'client_secret', 'access_token', 'refresh_token', 'application_token', 'oauth_url']));
    expect(s.ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const viaHook = (await (await fetch(`${s.ready.webhook}crm.deal.list`)).json()) as { total: number };
    expect(viaHook.total).toBeGreaterThan(0);
    const viaToken = await fetch(`${s.ready.url}/rest/user.current?auth=${s.ready.access_token}`);
    expect(viaToken.status).toBe(200);
    const refreshed = await fetch(`${s.ready.oauth_url}?grant_type=refresh_token&client_id=${s.ready.client_id}&client_secret=${s.ready.client_secret}&refresh_token=${s.ready.refresh_token}`);
    expect(refreshed.status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    // Logs go to stderr and never carry the secrets.
    expect(s.stderr()).toContain('portal ready');
    expect(s.stderr()).not.toContain(s.ready.access_token);
  });

  it('regression: SIGTERM sent the moment the ready line arrives still exits 0 (signal handlers were installed after the line)', async () => {
    for (let i = 0; i < 3; i++) {
      const s = await start(['--log-level', 'silent']);
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
    }
  });

  it('SIGINT also stops it cleanly', async () => {
    const s = await start(['--port', '0', '--plan', 'enterprise', '--log-level', 'silent']);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
  });

  it('--data takes the official docs simulator sample portal; --fault-error-rate 1 answers 500', async () => {
    const s = await start(['--data', join(PACKAGE_ROOT, 'emulator', 'data', 'official-simulator-dataset.json'), '--fault-error-rate', '1', '--log-level', 'silent']);
    const res = await fetch(`${s.ready.webhook}crm.deal.list`);
    expect(res.status).toBe(500);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('--tls serves HTTPS with a self-signed certificate', async () => {
    const s = await start(['--tls', '--log-level', 'silent']);
    expect(s.ready.url).toMatch(/^https:\/\//);
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const res = await undiciFetch(`${s.ready.webhook}server.time`, { dispatcher });
    expect(res.status).toBe(200);
    await dispatcher.close();
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('regression: --tls prints ca_file (0600); rules call trusts it through B24_CA_FILE or NODE_EXTRA_CA_CERTS, and without either says B24_CA_FILE', async () => {
    const s = await start(['--tls', '--log-level', 'silent']);
    const caFile = s.ready.ca_file as string;
    expect(caFile).toMatch(/ca\.pem$/);
    expect(statSync(caFile).mode & 0o777).toBe(0o600);
    const cwd = mkdtempSync(join(tmpdir(), 'b24-emu-tls-'));
    try {
      // Only the webhook: no other B24_* setting of the machine running the tests, no .env.
      const base = { ...Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('B24_') || k === 'NODE_EXTRA_CA_CERTS').map((k) => [k, undefined])), B24_WEBHOOK_URL: s.ready.webhook };
      const trusted = await runCli(['call', 'user.current'], { cwd, env: { ...base, B24_CA_FILE: caFile } });
      expect(trusted.stderr).toBe('');
      expect(trusted.code).toBe(0);
      expect((JSON.parse(trusted.stdout) as { result: { ID: string } }).result.ID).toBe('1');
      const viaNode = await runCli(['call', 'user.current'], { cwd, env: { ...base, NODE_EXTRA_CA_CERTS: caFile } });
      expect(viaNode.code).toBe(0);
      const untrusted = await runCli(['call', 'user.current'], { cwd, env: base });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(untrusted.stderr).toContain('B24_CA_FILE');
      expect(untrusted.stderr).toContain('ca_file');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    // The certificate made for this run goes with it.
    expect(existsSync(caFile)).toBe(false);
  });

  it('--ca-file writes the certificate where asked; without --tls it is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-emu-ca-'));
    try {
      const file = join(dir, 'emulator-ca.pem');
      const s = await start(['--tls', '--ca-file', file, '--log-level', 'silent']);
      expect(s.ready.ca_file).toBe(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
      const bad = await runCli(['emulator', '--ca-file', file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--ca-file goes with --tls');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad usage exits 2 with a message', async () => {
    const r = await runCli(['emulator', '--plan', 'gold']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--plan must be standard or enterprise');
    const bad = await runCli(['emulator', '--fault-drop-rate', '3']);
    expect(bad.code).toBe(2);
    const when = await runCli(['emulator', '--fault-drop-when', 'sometimes']);
    expect(when.code).toBe(2);
    expect(when.stderr).toContain('--fault-drop-when must be before or after');
  });

  it('a port in use is an error that says so (exit 1)', async () => {
    const s = await start(['--log-level', 'silent']);
    const port = new URL(s.ready.url as string).port;
    const r = await runCli(['emulator', '--port', port]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('EMULATOR_LISTEN');
    expect(r.stderr).toContain('the port is in use');
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('a missing data file is an error naming the file (exit 1)', async () => {
    const r = await runCli(['emulator', '--data', '/nonexistent/portal.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('EMULATOR_DATA_INVALID');
    expect(r.stderr).toContain('/nonexistent/portal.yaml');
  });
});
