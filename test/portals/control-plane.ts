/** Helpers of the control-plane tests: a fresh database per test file with the control plane open on it. */
import { openControlPlane, type ControlPlane } from '../../engine/portals/index.js';
import { freshDatabase } from '../helpers/pg.js';

/** A fresh database and the control plane opened (migrated) on it. */
export async function freshControlPlane(prefix: string): Promise<{ url: string; cp: ControlPlane }> {
  const url = await freshDatabase(prefix);
  return { url, cp: await openControlPlane(url) };
}

/**
 * Pretend the database's clock moved past a lease's expiry and its grace (LEASE_DEFAULTS.graceMs): what a TTL and
 * the grace passing do, without waiting for them.
 */
export async function expireLease(cp: ControlPlane, memberId: string): Promise<void> {
  await cp.pool.query(`UPDATE b24rules.leases SET expires_at = now() - interval '1 hour' WHERE member_id = $1`, [memberId]);
}

/** `n` webhook portals p00..p(n-1) on made-up addresses. */
export async function addPortals(cp: ControlPlane, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = `p${String(i).padStart(2, '0')}`;
    await cp.pool.query(
      `INSERT INTO b24rules.portals (member_id, domain, auth_mode, webhook_url) VALUES ($1, $2, 'webhook', $3)`,
      [memberId, `portal${i}.example`, `https://portal${i}.example/rest/1/code${i}abcdef/`],
    );
    ids.push(memberId);
  }
  return ids;
}
