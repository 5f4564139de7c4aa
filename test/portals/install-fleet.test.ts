/**
 * The install endpoint against an emulator fleet (B's startEmulatorFleet):
 * the documented ONAPPINSTALL/ONAPPUNINSTALL bodies a portal posts, verified
 * at the fleet's ONE token server; then a worker's client serving an
 * installed portal with the pair from the table, whose rotated pair is in the
 * table before the request that uses it reaches the portal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/clock.js';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { createInstallHandler, LeaseManager, pgTokenPersistence, portalClientConfig, PortalRegistry, type ControlPlane, type Lease } from '../../engine/portals/index.js';
import { MetricsRegistry, startStatusServer, type StatusServer } from '../../engine/status/index.js';
import { startEmulatorFleet, type EmulatorFleet } from '../../emulator/index.js';
import { pgUrl } from '../helpers/pg.js';
import { expireLease, freshControlPlane } from './control-plane.js';

describe.skipIf(!pgUrl())('installs from an emulator fleet (PostgreSQL)', () => {
  let cp: ControlPlane;
  let fleet: EmulatorFleet;
  let server: StatusServer;
  let registry: PortalRegistry;
  let handlerUrl: string;
  const cleaned: string[] = [];
  const clients: B24Client[] = [];

  beforeAll(async () => {
    ({ cp } = await freshControlPlane('install_fleet'));
    registry = new PortalRegistry(cp.pool);
    fleet = await startEmulatorFleet({ portals: 3, installed: false, limits: { burst: 1e9 } });
    const handler = createInstallHandler({
      registry,
      app: { clientId: fleet.clientId, clientSecret: fleet.clientSecret, oauthUrl: fleet.oauthUrl },
      onClean: (memberId) => {
        cleaned.push(memberId);
      },
    });
    server = await startStatusServer({ listen: '127.0.0.1:0', metrics: new MetricsRegistry(), health: () => ({ ok: true }), handlers: [handler] });
    handlerUrl = `${server.url}/b24/app`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await fleet?.close();
    await cp?.close();
  });

  it('adds every installed portal (each verified at the one token server) and refuses forged installs and uninstalls', async () => {
    for (const i of [0, 1, 2]) {
      const r = await fleet.install(i, handlerUrl);
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ member_id: fleet.portal(i).memberId, status: 'added' });
    }
    const listed = await registry.list();
    expect(listed.map((p) => p.memberId).sort()).toEqual(fleet.portals.map((p) => p.memberId).sort());
    for (const p of fleet.portals) expect(listed.find((l) => l.memberId === p.memberId)).toMatchObject({ domain: p.domain, clientEndpoint: `${p.url}/rest/`, enabled: true, installed: true });
    expect(fleet.tokenRequests().filter((t) => t.status === 200).map((t) => t.portal).sort()).toEqual([0, 1, 2]);

    const forged = await fleet.install(0, handlerUrl, { forge: true });
    expect(forged.status).toBe(403);
    const wrongToken = await fleet.install(0, handlerUrl, { forge: { application_token: 'not-the-installed-token' } });
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.body).not.toContain('not-the-installed-token');
    const stranger = await fleet.install(0, handlerUrl, { forge: { member_id: 'strangerportal1', refresh_token: fleet.portal(0).emulator.issueTokens(1).refresh_token } });
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body).error).toMatch(/belongs to another portal/);
    expect(await registry.get('strangerportal1')).toBeUndefined();

    const forgedUninstall = await fleet.uninstall(2, handlerUrl, { forge: true });
    expect(forgedUninstall.status).toBe(403);
    expect((await registry.get(fleet.portal(2).memberId))?.enabled).toBe(true);
  });

  it('uninstalls (CLEAN=1 drops the state) and re-installs as a new installation, without a restart', async () => {
    const id = fleet.portal(1).memberId;
    const worker = new LeaseManager(cp.pool, { workerId: 'w1' });
    const lease = (await worker.acquireOne(id)) as Lease;
    const r = await fleet.uninstall(1, handlerUrl, { clean: true });
    expect(r.status).toBe(200);
    expect(cleaned).toEqual([id]);
    expect(await registry.get(id)).toMatchObject({ enabled: false, hasTokens: false });
    expect(await worker.renew(lease)).toBeNull();

    const again = await fleet.install(1, handlerUrl, { newApplicationToken: true });
    expect(again.status, again.body).toBe(200);
    expect(JSON.parse(again.body).status).toBe('reinstalled');
    // The old tenure was revoked at the uninstall: the portal is taken afresh once it expires.
    expect(await worker.acquireOne(id)).toBeNull();
    await expireLease(cp, id);
    const fresh = (await worker.acquireOne(id)) as Lease;
    expect(fresh.epoch).toBeGreaterThan(lease.epoch);
  });

  it('a worker serves an installed portal with the pair from the table; the refreshed pair is in the table before the request using it reaches the portal', async () => {
    const p = fleet.portal(0);
    const lease = (await new LeaseManager(cp.pool, { workerId: 'w1' }).acquireOne(p.memberId)) as Lease;
    const conn = await registry.connection(p.memberId);
    const row = async () =>
      (await cp.pool.query<{ access_token: string; token_version: string }>('SELECT access_token, token_version FROM b24rules.portals WHERE member_id = $1', [p.memberId])).rows[0];
    const before = await row();
    // The worker's clock is two hours ahead: the stored token looks expired, so the client refreshes before sending.
    const client = createClient(
      portalClientConfig(conn, { app: { clientId: fleet.clientId, clientSecret: fleet.clientSecret, oauthUrl: fleet.oauthUrl }, tokenPersistence: pgTokenPersistence({ pool: cp.pool, lease, portal: conn.baseUrl }) }),
      { clock: { now: () => Date.now() + 2 * 3600_000, sleep: systemClock.sleep }, userAgent: 'b24-rules/test (worker w1)' },
    );
    clients.push(client);
    const refreshesBefore = fleet.tokenRequests().length;

    const hold = fleet.hold(0);
    const call = client.call('profile');
    await hold.held(1);
    const atArrival = await row();
    hold.release();
    await call;

    expect(fleet.tokenRequests().length).toBe(refreshesBefore + 1);
    expect(Number(atArrival?.token_version)).toBe(Number(before?.token_version) + 1);
    expect(atArrival?.access_token).not.toBe(before?.access_token);
    expect(await row()).toEqual(atArrival);
    const spans = fleet.requests(0).filter((s) => s.method === 'profile');
    expect(spans.at(-1)?.worker).toBe('w1');
  });
});
