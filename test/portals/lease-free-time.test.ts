/**
 * When a portal's lease becomes free: its expiry plus the grace of the worker that took it (the database's clock).
 * `rules portals list` (a subprocess) says so for a held, an expired and a revoked lease, in text and JSON, and a
 * worker taking over waits the longer of its own grace and the holder's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseManager, PortalRegistry, type ControlPlane, type Lease } from '../../engine/portals/index.js';
import { runCli } from '../helpers/cli.js';
import { pgUrl } from '../helpers/pg.js';
import { addPortals, freshControlPlane } from './control-plane.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe.skipIf(!pgUrl())('the time a lease becomes free (expiry + the holder\'s grace)', () => {
  let url: string;
  let cp: ControlPlane;
  const list = async () => {
    const r = await runCli(['portals', 'list', '--state', url], { env: { B24_RULES_DATABASE_URL: undefined } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.split('\n');
  };
  const listJson = async () => {
    const r = await runCli(['portals', 'list', '--state', url, '--json'], { env: { B24_RULES_DATABASE_URL: undefined } });
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Array<{ memberId: string; lease: { workerId: string; expiresAt: number; graceMs: number; freeFrom: number; free: boolean } | null }>;
  };
  const expiry = async (memberId: string) =>
    (await cp.pool.query<{ t: Date }>('SELECT expires_at AS t FROM b24rules.leases WHERE member_id = $1', [memberId])).rows[0]!.t.getTime();
  /** Move a lease's expiry to `seconds` ago on the database's clock (what the TTL passing does). */
  const expiredAgo = (memberId: string, seconds: number) =>
    cp.pool.query(`UPDATE b24rules.leases SET expires_at = now() - $2::int * interval '1 second' WHERE member_id = $1`, [memberId, seconds]);

  beforeAll(async () => {
    ({ url, cp } = await freshControlPlane('lease_free'));
    await addPortals(cp, 3);
  });
  afterAll(async () => {
    await cp?.close();
  });

  it('a held lease: "held by X until T, free from T + grace", with the holder\'s grace (20 s by default, 5 s when it took it with 5 s)', async () => {
    expect(await new LeaseManager(cp.pool, { workerId: 'worker-a' }).acquireOne('p00')).not.toBeNull();
    expect(await new LeaseManager(cp.pool, { workerId: 'worker-b', graceMs: 5000 }).acquireOne('p01')).not.toBeNull();
    const [a, b] = [await expiry('p00'), await expiry('p01')];
    const lines = await list();
    // The table's column is as before; the free time is on a line of its own under the table.
    expect(lines.find((l) => l.startsWith('p00'))).toMatch(new RegExp(`\\s+worker-a until ${iso(a)}$`));
    expect(lines).toContain(`  p00: held by worker-a until ${iso(a)}, free from ${iso(a + 20_000)} if not renewed (lease grace 20 s)`);
    expect(lines).toContain(`  p01: held by worker-b until ${iso(b)}, free from ${iso(b + 5000)} if not renewed (lease grace 5 s)`);
    const json = await listJson();
    expect(json.find((p) => p.memberId === 'p00')?.lease).toMatchObject({ workerId: 'worker-a', expiresAt: a, graceMs: 20_000, freeFrom: a + 20_000, free: false });
    expect(json.find((p) => p.memberId === 'p01')?.lease).toMatchObject({ graceMs: 5000, freeFrom: b + 5000, free: false });
  });

  it('an expired lease inside its grace is not free yet, and says from when; past it, free now, and taken', async () => {
    await expiredAgo('p00', 5);
    const at = await expiry('p00');
    expect((await list()).find((l) => l.startsWith('p00'))).toMatch(new RegExp(`\\(expired: worker-a, free at ${iso(at + 20_000)}\\)$`));
    // What the list says is what a worker finds: not takeable inside the grace.
    const c = new LeaseManager(cp.pool, { workerId: 'worker-c', graceMs: 1000 });
    expect(await c.acquireOne('p00')).toBeNull();
    await expiredAgo('p00', 21);
    expect((await list()).find((l) => l.startsWith('p00'))).toMatch(/\(expired: worker-a, free now\)$/);
    expect((await listJson()).find((p) => p.memberId === 'p00')?.lease).toMatchObject({ free: true });
    expect(await c.acquireOne('p00')).not.toBeNull();
  });

  it('a revoked lease (portal disabled) is free at its expiry plus its holder\'s grace', async () => {
    expect(await new LeaseManager(cp.pool, { workerId: 'worker-d', graceMs: 7000 }).acquireOne('p02')).not.toBeNull();
    await new PortalRegistry(cp.pool).setEnabled('p02', false);
    const at = await expiry('p02');
    expect((await list()).find((l) => l.startsWith('p02'))).toMatch(new RegExp(`\\(revoked, free at ${iso(at + 7000)}\\)$`));
  });

  it('a worker with a shorter grace still waits out the holder\'s longer one', async () => {
    const holder = new LeaseManager(cp.pool, { workerId: 'slow', graceMs: 60_000 });
    await cp.pool.query(`DELETE FROM b24rules.leases WHERE member_id = 'p01'`);
    const lease = (await holder.acquireOne('p01')) as Lease;
    expect(lease).not.toBeNull();
    const quick = new LeaseManager(cp.pool, { workerId: 'quick', graceMs: 1000 });
    // 30 s past the expiry: past the taker's 1 s grace, inside the holder's 60 s, whose requests may still run.
    await expiredAgo('p01', 30);
    expect(await quick.acquireOne('p01')).toBeNull();
    expect((await quick.acquire(10)).map((l) => l.memberId)).not.toContain('p01');
    await expiredAgo('p01', 61);
    expect((await quick.acquire(10)).map((l) => l.memberId)).toContain('p01');
  });
});
