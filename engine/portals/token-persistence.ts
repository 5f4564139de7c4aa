/**
 * A portal's OAuth token pair in the control plane (`b24rules.portals`), for
 * the TokenManager of the worker serving it (OAuthAuthConfig.tokenPersistence).
 *
 * Bitrix24 rotates the refresh token on every refresh, so the new pair must be
 * committed before it is used, and only one worker may ever refresh a portal:
 * the client's lease guard (canSend) lets a refresh leave only while this
 * worker holds the lease. The write is one compare-and-set on `token_version`
 * (the pair is still the one this persistence read or last wrote), and NOT on
 * the lease: a refresh sent under the lease whose answer comes back after the
 * lease ended has already spent the stored refresh token at the token server,
 * so dropping the new pair would leave the portal with a dead one until it is
 * re-installed. The pair is committed, and then, if the lease is gone by the
 * database's clock, LeaseLostError (LEASE_LOST) fails the refresh: the worker
 * stops serving the portal, and the next holder reads the committed pair. A
 * changed `token_version` (a re-install wrote a new pair) refuses the write
 * (LEASE_LOST too: the re-install revoked the lease).
 *
 * Token values are not registered for redaction here: the TokenManager masks
 * the pairs it reads and writes, one slot per portal.
 */
import type pg from 'pg';
import { LeaseLostError, type StoredTokens, type TokenPersistence } from '../client/index.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { Lease } from './leases.js';

export interface PgTokenPersistenceOptions {
  pool: pg.Pool;
  /** The lease under which this worker serves the portal. */
  lease: Pick<Lease, 'memberId' | 'workerId' | 'epoch'>;
  /** The portal's base URL (StoredTokens.portal). */
  portal: string;
  logger?: Logger;
}

interface TokenRow {
  access_token: string | null;
  refresh_token: string | null;
  expires_at: Date | null;
  obtained_at: Date | null;
  token_version: string;
}

/** The token persistence of one leased portal. */
export function pgTokenPersistence(options: PgTokenPersistenceOptions): TokenPersistence {
  const { pool, lease, portal } = options;
  const logger = options.logger ?? silentLogger;
  let version: number | undefined;

  return {
    async read() {
      const { rows } = await pool.query<TokenRow>(
        'SELECT access_token, refresh_token, expires_at, obtained_at, token_version FROM b24rules.portals WHERE member_id = $1',
        [lease.memberId],
      );
      const row = rows[0];
      if (!row) return undefined;
      version = Number(row.token_version);
      if (row.refresh_token === null && row.access_token === null) return undefined;
      return {
        accessToken: row.access_token ?? '',
        refreshToken: row.refresh_token ?? '',
        ...(row.expires_at ? { expiresAt: row.expires_at.getTime() } : {}),
        obtainedAt: row.obtained_at ? row.obtained_at.getTime() : 0,
        portal,
        memberId: lease.memberId,
      };
    },

    async write(tokens: StoredTokens) {
      const { rows } = await pool.query<{ token_version: string; held: boolean }>(
        `UPDATE b24rules.portals p
            SET access_token = $3, refresh_token = $4, expires_at = $5, obtained_at = $6, token_version = p.token_version + 1, updated_at = now()
          WHERE p.member_id = $1 AND ($2::bigint IS NULL OR p.token_version = $2::bigint)
          RETURNING p.token_version,
            EXISTS (SELECT 1 FROM b24rules.leases l
                     WHERE l.member_id = p.member_id AND l.worker_id = $7 AND l.epoch = $8 AND l.expires_at > now()) AS held`,
        [
          lease.memberId,
          version === undefined ? null : String(version),
          tokens.accessToken,
          tokens.refreshToken,
          tokens.expiresAt === undefined ? null : new Date(tokens.expiresAt),
          new Date(tokens.obtainedAt),
          lease.workerId,
          String(lease.epoch),
        ],
      );
      const row = rows[0];
      if (!row) {
        logger.warn({ portal: lease.memberId, epoch: lease.epoch }, 'refreshed OAuth tokens not saved: the stored pair changed meanwhile (a re-install); the portal stops here');
        throw new LeaseLostError('oauth/token');
      }
      version = Number(row.token_version);
      if (!row.held) {
        logger.warn({ portal: lease.memberId, epoch: lease.epoch }, 'refreshed OAuth tokens saved for the next holder, but this worker no longer holds the lease; the portal stops here');
        throw new LeaseLostError('oauth/token');
      }
    },
  };
}
