/**
 * Workers in this process on a throwaway PostgreSQL, serving an emulator fleet over HTTP: the fair share
 * (a second worker gets half the portals, handed over while their leases hold), a worker that stops hands its
 * portals over at once, a disabled portal is stopped without a restart and taken again once enabled, an
 * install through the worker's endpoint adds a portal a worker starts serving, and a lease past its local
 * validity (the worker's injected clock) stops every request to the portal until a renewal comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, type EmulatorFleet } from '../../emulator/index.js';
import type { ControlPlane, PortalRegistry } from '../../engine/portals/index.js';
import type { Worker } from '../../engine/worker/index.js';
import { until } from '../daemon/harness.js';
import { pgUrl } from '../helpers/pg.js';
import { addLeads, bound, closeUsers, commentsByTitle, fleetDeployment, offlineQueued, ruleFolder, testWorkers } from './helpers.js';

describe.skipIf(!pgUrl())('workers sharing portals (PostgreSQL + emulator fleet)', () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let registry: PortalRegistry;
  let url: string;
  let rules: string;
  const { workers, worker, clock } = testWorkers(() => ({ url, rules, fleet }));

  const all = () => fleet.portals.map((p) => p.memberId);
  const held = (...ws: Worker[]) => ws.flatMap((w) => w.held()).sort();
  const servedBy = (w: Worker, memberId: string) => w.runner(memberId)?.state === 'running';

  beforeAll(async () => {
    // The fourth portal is installed later, through the worker's endpoint.
    fleet = await startEmulatorFleet({ portals: 4, limits: { burst: 1e9 } });
    ({ url, cp, registry } = await fleetDeployment(fleet, 'workers'));
    await registry.remove(fleet.portal(3).memberId);
    rules = ruleFolder();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  it('a second worker gets its fair share, handed over while the leases hold; work on every portal is done once, by its holder', async () => {
    const w1 = worker('w1');
    await w1.start();
    await until(() => w1.held().length === 3 && fleet.portals.slice(0, 3).every(bound), 'w1 serving the three portals');
    const w2 = worker('w2');
    await w2.start();
    // w1 sees two live workers at its next round: 2 of 3 each at most; the portal it hands over goes to w2.
    await until(async () => {
      await w1.round();
      await w2.round();
      return w1.held().length === 2 && w2.held().length === 1 && w2.held().every((m) => servedBy(w2, m));
    }, 'the fair share', 30_000);
    expect(held(w1, w2)).toEqual(all().slice(0, 3).sort());

    for (const p of fleet.portals.slice(0, 3)) await addLeads(p, `p${p.index}`, 20);
    await until(() => fleet.portals.slice(0, 3).every((p) => commentsByTitle(p).size === 20 && offlineQueued(p) === 0), 'every lead commented', 30_000);
    for (const p of fleet.portals.slice(0, 3)) {
      const comments = commentsByTitle(p);
      expect([...comments.keys()].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${p.index}-${i}`).sort());
      expect([...comments.values()].every((n) => n === 1)).toBe(true);
      const holder = w1.held().includes(p.memberId) ? 'w1' : 'w2';
      const writers = new Set(fleet.requests(p.index).filter((r) => r.method === 'batch' || r.method === 'event.offline.get').map((r) => r.worker));
      expect([...writers]).toContain(holder);
    }
    expect(fleet.overlaps()).toEqual([]);
  });

  it('a worker that stops hands its portals over at once (no TTL to wait), and /healthz and /metrics say what each holds', async () => {
    const [w1, w2] = workers as [Worker, Worker];
    const w3 = worker('w3', { listen: '127.0.0.1:0', maxPortalLabels: 1 });
    await w3.start();
    const mine = w2.held();
    expect(mine.length).toBeGreaterThan(0);
    await w2.stop();
    // The leases were released: the next round of a worker with room takes them (no wait for the 6 s TTL to pass on the database's clock).
    const { rows } = await cp.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM b24rules.leases WHERE worker_id = 'w2'`);
    expect(rows[0]?.n).toBe(0);
    await until(async () => {
      await w1.round();
      await w3.round();
      return held(w1, w3).join() === all().slice(0, 3).sort().join() && [w1, w3].every((w) => w.held().every((m) => servedBy(w, m)));
    }, 'w1 and w3 serving all three', 30_000);

    const health = (await (await fetch(`${w3.url}/healthz`)).json()) as { status: string; worker: string; leases: number; portals: Array<{ portal: string; state: string; depth: number }> };
    expect(health).toMatchObject({ status: 'ok', worker: 'w3', leases: w3.held().length });
    expect(health.portals.map((p) => p.state)).toEqual(w3.held().map(() => 'running'));
    const metrics = await (await fetch(`${w3.url}/metrics`)).text();
    expect(metrics).toContain(`b24rules_leases_held ${w3.held().length}`);
    expect(metrics).toMatch(/b24rules_portal_queue_depth\{portal="[^"]+"\} 0/);
    expect(metrics).toMatch(/b24rules_engine_ticks_total\{outcome="ok",portal="[^"]+"\} \d+/);
    const portalLabels = new Set([...metrics.matchAll(/portal="([^"]+)"/g)].map((m) => m[1]));
    // At most one portal of its own (maxPortalLabels: 1), the rest summed under "other"; never a token.
    expect([...portalLabels].filter((l) => l !== 'other').length).toBeLessThanOrEqual(1);
    for (const p of fleet.portals) expect(metrics).not.toContain(p.app.access_token);
  });

  it('a disabled portal is stopped without a restart and served again once enabled', async () => {
    const [w1, , w3] = workers as [Worker, Worker, Worker];
    const target = fleet.portal(0).memberId;
    const holder = () => [w1, w3].find((w) => w.held().includes(target));
    expect(holder()).toBeDefined();
    await registry.setEnabled(target, false);
    await until(async () => {
      await w1.round();
      await w3.round();
      return holder() === undefined;
    }, 'the disabled portal stopped');
    await addLeads(fleet.portal(0), 'off', 3);
    await registry.setEnabled(target, true);
    // Its revoked lease is free once it expires on the database's clock (the 6 s TTL and the 1 s grace).
    await until(async () => {
      await w1.round();
      await w3.round();
      const h = holder();
      return h !== undefined && servedBy(h, target);
    }, 'the portal served again', 30_000);
    await until(() => commentsByTitle(fleet.portal(0)).size === 23, 'the leads added while it was disabled commented');
    expect([...commentsByTitle(fleet.portal(0)).values()].every((n) => n === 1)).toBe(true);
    expect(fleet.overlaps()).toEqual([]);
  });

  it('an install posted to the worker adds the portal, and a worker serves it; a forged one is refused', async () => {
    const [w1, , w3] = workers as [Worker, Worker, Worker];
    const handler = `${w3.url}/b24/app`;
    const p = fleet.portal(3);
    const made = await fleet.install(3, handler, { forge: true });
    // Made-up tokens: the token server does not know them, so the install is not recorded.
    expect(made.status).not.toBe(200);
    expect(await registry.get(p.memberId)).toBeUndefined();
    const r = await fleet.install(3, handler);
    expect(r.status, r.body).toBe(200);
    const forged = await fleet.install(3, handler, { forge: { application_token: 'forged-app-token' } });
    expect(forged.status).toBe(403);
    expect(forged.body).not.toContain('forged-app-token');
    await until(async () => {
      await w1.round();
      await w3.round();
      return [w1, w3].some((w) => servedBy(w, p.memberId)) && bound(p);
    }, 'the installed portal served', 30_000);
    await addLeads(p, 'new', 5);
    await until(() => commentsByTitle(p).size === 5, 'the new portal working');
  });

  it("past a lease's local validity nothing is sent to the portal; the next renewal makes it valid again", async () => {
    const [w1] = workers as [Worker];
    const memberId = w1.held()[0] as string;
    const runner = w1.runner(memberId);
    expect(runner?.canSend()).toBe(true);
    // The worker's clock jumps past the validity (a process stalled, a renewal slower than the TTL): the watchdog stops the portal.
    clock.skew += 10_000;
    expect(runner?.canSend()).toBe(false);
    await until(() => runner?.state === 'stopped', 'the runner stopped');
    clock.skew -= 10_000;
    // The database's lease did not expire (no TTL passed there): the next rounds renew what is left, and the portal is taken again.
    await until(async () => {
      await w1.round();
      await (workers[2] as Worker).round();
      return workers.some((w) => w.runner(memberId)?.state === 'running');
    }, 'the portal served again', 30_000);
    expect(fleet.overlaps()).toEqual([]);
  });
});
