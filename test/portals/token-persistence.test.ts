/**
 * An OAuth portal's token pair in the control plane, through a real client
 * against the emulator: read from the table, the rotated pair committed
 * before the first request that uses it reaches the portal, a refresh that
 * outlived its lease committed for the next holder (never dropped: the token
 * server spent the old one), a spent pair read again on invalid_grant, and
 * a bounded number of secrets however often the pair rotates.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, LeaseLostError, type B24Client } from '../../engine/client/index.js';
import { LeaseManager, pgTokenPersistence, portalClientConfig, PortalRegistry, type ControlPlane, type Lease } from '../../engine/portals/index.js';
import { redact, registeredSecretCount } from '../../engine/redact.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { pgUrl } from '../helpers/pg.js';
import { expireLease, freshControlPlane } from './control-plane.js';

interface TokenRow {
  access_token: string | null;
  refresh_token: string | null;
  token_version: string;
}

describe.skipIf(!pgUrl())('OAuth tokens in the control plane (PostgreSQL + emulator)', () => {
  let cp: ControlPlane;
  let emu: Emulator;
  let registry: PortalRegistry;
  let memberId: string;
  let emuNow = Date.now();
  const clients: B24Client[] = [];

  const row = async (): Promise<TokenRow> => (await cp.pool.query<TokenRow>('SELECT access_token, refresh_token, token_version FROM b24rules.portals WHERE member_id = $1', [memberId])).rows[0] as TokenRow;

  async function clientFor(lease: Lease): Promise<B24Client> {
    const conn = await registry.connection(memberId);
    const config = portalClientConfig(conn, {
      app: { clientId: emu.app.client_id, clientSecret: emu.app.client_secret, oauthUrl: emu.app.oauth_url },
      tokenPersistence: pgTokenPersistence({ pool: cp.pool, lease, portal: conn.baseUrl }),
    });
    const client = createClient(config, { retries: 0 });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    ({ cp } = await freshControlPlane('tokens'));
    registry = new PortalRegistry(cp.pool);
    emu = await startEmulator({ now: () => emuNow, limits: { burst: 1e9 } });
    memberId = emu.app.member_id;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await emu?.close();
    await cp?.close();
  });
  beforeEach(async () => {
    await cp.pool.query('DELETE FROM b24rules.portals; DELETE FROM b24rules.leases');
    const pair = emu.issueTokens(1);
    await registry.addOAuth({ memberId, domain: emu.url, accessToken: pair.access_token, refreshToken: pair.refresh_token });
  });

  it('reads the pair from the table, and commits the rotated pair before the first request that uses it reaches the portal', async () => {
    const lease = (await new LeaseManager(cp.pool, { workerId: 'w1' }).acquireOne(memberId)) as Lease;
    const client = await clientFor(lease);
    await client.call('profile');
    const before = await row();
    expect(Number(before.token_version)).toBe(1);

    // What the table holds at the moment the portal runs the call.
    const seen: TokenRow[] = [];
    emu.registry.register('test.tablenow', { scope: 'user', handler: async () => {
      seen.push(await row());
      return { result: true };
    } });
    emuNow += 2 * 3600_000; // the access token expired at the portal: expired_token, a refresh, the call again
    await client.call('test.tablenow');

    expect(seen).toHaveLength(1);
    const atPortal = seen[0] as TokenRow;
    expect(Number(atPortal.token_version)).toBe(2);
    expect(atPortal.access_token).not.toBe(before.access_token);
    expect(atPortal.refresh_token).not.toBe(before.refresh_token);
    // The call succeeded, so it carried a live token: the old one had expired, so it was the one already in the table.
    expect(await row()).toEqual(atPortal);
    await client.call('profile');
    expect(Number((await row()).token_version)).toBe(2);
  });

  it('a refresh whose lease ended while it was in flight commits the rotated pair, then LEASE_LOST; the next holder, which read the spent pair, re-reads it on invalid_grant and serves on', async () => {
    const a = new LeaseManager(cp.pool, { workerId: 'wa' });
    const b = new LeaseManager(cp.pool, { workerId: 'wb' });
    const old = (await a.acquireOne(memberId)) as Lease;
    // No canSend guard here: this client stands for a refresh sent while the lease held, answered after it ended.
    const stale = await clientFor(old);
    await stale.call('profile');
    await expireLease(cp, memberId);
    const now = (await b.acquireOne(memberId)) as Lease;
    expect(now.epoch).toBeGreaterThan(old.epoch);
    // The next holder reads the pair (still valid) before the old holder's refresh lands.
    const holder = await clientFor(now);
    await holder.call('profile');
    const before = await row();

    emuNow += 2 * 3600_000;
    const err = await stale.call('profile').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LeaseLostError);
    expect((err as LeaseLostError).code).toBe('LEASE_LOST');
    // The token server spent the stored refresh token: the new pair is in the table, not dropped.
    const after = await row();
    expect(Number(after.token_version)).toBe(Number(before.token_version) + 1);
    expect(after.refresh_token).not.toBe(before.refresh_token);

    // The holder's token expired; its refresh token is the spent one (invalid_grant): it reads the pair again and goes on.
    await holder.call('profile');
    expect(await row()).toEqual(after);
    emuNow += 2 * 3600_000;
    await holder.call('profile');
    expect(Number((await row()).token_version)).toBe(Number(after.token_version) + 1);

    // A write from a persistence that read an older pair is refused (compare-and-set on token_version).
    const late = pgTokenPersistence({ pool: cp.pool, lease: now, portal: emu.url });
    await late.read();
    await cp.pool.query('UPDATE b24rules.portals SET token_version = token_version + 1 WHERE member_id = $1', [memberId]);
    const current = await row();
    await expect(late.write({ accessToken: 'late-access-1', refreshToken: 'late-refresh-1', obtainedAt: 1, portal: emu.url })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await row()).toEqual(current);
  });

  it('keeps a bounded number of secrets however often the pair rotates (one slot per portal: this pair and the one before)', async () => {
    const lease = (await new LeaseManager(cp.pool, { workerId: 'w1' }).acquireOne(memberId)) as Lease;
    const client = await clientFor(lease);
    await client.call('profile');
    // Two rotations first: the pair the test issued stays registered by the emulator (in this process).
    for (let i = 0; i < 2; i++) {
      emuNow += 2 * 3600_000;
      await client.call('profile');
    }
    const count = registeredSecretCount();
    const seen = new Set<string>();
    for (let i = 0; i < 25; i++) {
      emuNow += 2 * 3600_000;
      await client.call('profile');
      seen.add((await row()).refresh_token as string);
    }
    expect(seen.size).toBe(25);
    expect(registeredSecretCount()).toBe(count);
    // The current pair is masked.
    const { access_token, refresh_token } = await row();
    expect(redact(`${access_token} ${refresh_token}`)).toBe('[REDACTED] [REDACTED]');
  });

  it('a pair changed under the holder (a re-install) is not overwritten: the write is refused', async () => {
    const lease = (await new LeaseManager(cp.pool, { workerId: 'w1' }).acquireOne(memberId)) as Lease;
    const persistence = pgTokenPersistence({ pool: cp.pool, lease, portal: emu.url });
    await persistence.read();
    await cp.pool.query(`UPDATE b24rules.portals SET refresh_token = 'reinstalled-refresh-1', token_version = token_version + 1 WHERE member_id = $1`, [memberId]);
    await expect(persistence.write({ accessToken: 'late-access-1', refreshToken: 'late-refresh-1', obtainedAt: 1, portal: emu.url })).rejects.toBeInstanceOf(LeaseLostError);
    expect((await row()).refresh_token).toBe('reinstalled-refresh-1');
  });
});
