/**
 * A portal's OAuth token pair in the control plane (`b24rules.portals`), for
 * the TokenManager of the worker serving it (OAuthAuthConfig.tokenPersistence).
 *
 * Bitrix24 rotates the refresh token on every refresh, so the new pair must be
 * committed before it is used, and only one worker may ever refresh a portal.
 * The write is one conditional UPDATE: it succeeds only if the pair is still
 * the one this persistence read or last wrote (`token_version`) AND this
 * worker holds the portal's lease in the same tenure (`epoch`) by the
 * database's clock. Otherwise nothing is written and LeaseLostError
 * (LEASE_LOST) fails the refresh: the worker stops serving the portal, and the
 * one that holds the lease reads the pair from the table.
 */
import type pg from 'pg';
import { LeaseLostError, type StoredTokens, type TokenPersistence } from '../client/index.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { registerSecret } from '../redact.js';
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
      registerSecret(row.access_token);
      registerSecret(row.refresh_token);
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
      registerSecret(tokens.accessToken);
      registerSecret(tokens.refreshToken);
      const { rows } = await pool.query<{ token_version: string }>(
        `UPDATE b24rules.portals p
            SET access_token = $3, refresh_token = $4, expires_at = $5, obtained_at = $6, token_version = p.token_version + 1, updated_at = now()
          WHERE p.member_id = $1 AND ($2::bigint IS NULL OR p.token_version = $2::bigint)
            AND EXISTS (SELECT 1 FROM b24rules.leases l
                         WHERE l.member_id = p.member_id AND l.worker_id = $7 AND l.epoch = $8 AND l.expires_at > now())
          RETURNING p.token_version`,
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
        logger.warn({ portal: lease.memberId, epoch: lease.epoch }, 'refreshed OAuth tokens not saved: this worker no longer holds the lease, or the pair changed (a re-install); the portal stops here');
        throw new LeaseLostError('oauth/token');
      }
      version = Number(row.token_version);
    },
  };
}
