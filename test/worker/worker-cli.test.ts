/**
 * `rules run --state postgres://... --worker-id NAME` as a subprocess: a worker serving an emulator fleet's
 * portals from the control plane, its /healthz, SIGTERM (exit 0 within the 10 s promise, every lease
 * released so the next worker need not wait for the TTL), and the command line's refusals.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, type EmulatorFleet } from '../../emulator/index.js';
import type { ControlPlane } from '../../engine/portals/index.js';
import { CLI, startDaemonProcess, tempDir, until, type DaemonProcess } from '../daemon/harness.js';
import { pgUrl } from '../helpers/pg.js';
import { addLeads, bound, closeUsers, commentsByTitle, fleetDeployment, ruleFolder } from './helpers.js';

describe.skipIf(!pgUrl())('rules run --state postgres:// (a worker, as a subprocess)', () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  let rules: string;
  const procs: DaemonProcess[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    B24_CLIENT_ID: fleet.clientId,
    B24_CLIENT_SECRET: fleet.clientSecret,
    B24_OAUTH_URL: fleet.oauthUrl,
    ...extra,
  });

  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: 2, limits: { burst: 1e9 } });
    ({ url, cp } = await fleetDeployment(fleet, 'worker_cli'));
    rules = ruleFolder();
  });
  afterAll(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  it('serves the portals of the control plane; SIGTERM drains, releases every lease and exits 0', async () => {
    const w = startDaemonProcess([rules, '--state', url, '--worker-id', 'cli-w1', '--listen', '127.0.0.1:0', '--lease-ttl-ms', '3000', '--poll-interval-ms', '50'], env(), tempDir());
    procs.push(w);
    const started = await w.waitForLog((r) => r.msg.startsWith('worker cli-w1 started'), 60_000);
    await until(() => fleet.portals.every(bound), 'both portals bound', 30_000);
    const health = (await (await fetch(`${String(started.url)}/healthz`)).json()) as { worker: string; leases: number; portals: Array<{ memberId: string }> };
    expect(health.worker).toBe('cli-w1');
    expect(health.leases).toBe(2);
    expect(health.portals.map((p) => p.memberId).sort()).toEqual(fleet.portals.map((p) => p.memberId).sort());
    for (const p of fleet.portals) await addLeads(p, `cli${p.index}`, 5);
    await until(() => fleet.portals.every((p) => commentsByTitle(p).size === 5), 'the leads commented', 30_000);
    // The worker's requests say who sent them.
    expect(fleet.workersSeen(0).map((r) => r.worker)).toContain('cli-w1');

    // A second process with the same worker id is refused while this one lives: it would take its leases for its own.
    const twin = spawnSync(process.execPath, [CLI, 'run', rules, '--state', url, '--worker-id', 'cli-w1', '--listen', '127.0.0.1:0', '--lease-ttl-ms', '3000'], { cwd: tempDir(), encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env() }, timeout: 60_000 });
    expect(twin.status).toBe(1);
    expect(twin.stdout + twin.stderr).toMatch(/WORKER_ID_IN_USE|worker id 'cli-w1' is in use by another live process/);
    const health2 = (await (await fetch(`${String(started.url)}/healthz`)).json()) as { leases: number };
    expect(health2.leases).toBe(2);

    const { at } = w.kill('SIGTERM');
    const exit = await w.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - at).toBeLessThan(10_000);
    const { rows } = await cp.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM b24rules.leases WHERE worker_id = 'cli-w1'`);
    expect(rows[0]?.n).toBe(0);
    expect(w.logs.some((r) => r.msg.startsWith('worker cli-w1 stopped'))).toBe(true);
    // No token in what the worker logged.
    const logged = JSON.stringify(w.logs) + w.stderr();
    for (const p of fleet.portals) expect(logged).not.toContain(p.app.refresh_token);
    expect(logged).not.toContain(fleet.clientSecret);
    // Nor any secret the fleet ever handed out: every access and refresh token, application token, webhook code.
    const secrets = fleet.secrets();
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    expect(secrets.filter((secret) => logged.includes(secret))).toEqual([]);
  });

  it('refuses worker flags without a PostgreSQL state (exit 2), and a rule set with errors (exit 1) before taking any portal', () => {
    const dir = tempDir();
    const usage = spawnSync(process.execPath, [CLI, 'run', rules, '--worker-id', 'x', '--state', `${dir}/state.db`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--worker-id is for a worker of a PostgreSQL deployment/);
    const bad = ruleFolder({ 'bad.yaml': 'id: bad\ntrigger: { event: ONCRMLEADADD }\nactions: []\n' });
    const invalid = spawnSync(process.execPath, [CLI, 'run', bad, '--state', url, '--worker-id', 'bad-w', '--listen', '127.0.0.1:0'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env() }, timeout: 60_000 });
    expect(invalid.status).toBe(1);
    expect(invalid.stdout + invalid.stderr).toMatch(/RULES_INVALID|rule set has/);
  });
});
