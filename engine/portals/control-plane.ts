/**
 * Opening the control plane: a `pg.Pool` on the database named by a
 * `postgres://` URL (`--state`, B24_RULES_DATABASE_URL), its schema migrated.
 * The URL's password is registered as a secret, and messages name the
 * database without it (`postgres://user@host:port/db`).
 */
import pg from 'pg';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { registerSecret } from '../redact.js';
import { isPostgresUrl, redactDatabaseUrl } from '../store/index.js';
import { PortalsError } from './errors.js';
import { migrate } from './migrations.js';

/** The password of a PostgreSQL URL (in its user info or its query), if any. */
export function passwordOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.password ? decodeURIComponent(u.password) : u.searchParams.get('password');
  } catch {
    return null;
  }
}

export interface ControlPlaneOptions {
  /** Connections in the pool. @default 4 */
  maxConnections?: number;
  logger?: Logger;
  /** Sent as application_name (shown in pg_stat_activity). @default 'b24-rules' */
  applicationName?: string;
}

/** The open control plane: its pool (the registry, the leases and the token persistence share it). */
export interface ControlPlane {
  readonly pool: pg.Pool;
  /** The URL without its password, for messages. */
  readonly database: string;
  /** The schema's version after the migrations. */
  readonly version: number;
  close(): Promise<void>;
}

/** Whether an error is PostgreSQL (or the network to it) failing, as opposed to one of ours. */
function unavailable(err: unknown, database: string): PortalsError {
  const detail = err instanceof Error ? err.message : String(err);
  return new PortalsError('CONTROL_PLANE_UNAVAILABLE', `cannot use the control plane at ${database}: ${detail}`, { cause: err });
}

/** Connect to `url` and migrate the `b24rules` schema; CONTROL_PLANE_UNAVAILABLE when PostgreSQL cannot be reached. */
export async function openControlPlane(url: string, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (!isPostgresUrl(url)) throw new PortalsError('PORTAL_INVALID', `the control plane needs a postgres:// URL; got '${url}'`, { kind: 'user' });
  const database = redactDatabaseUrl(url);
  registerSecret(passwordOf(url));
  const logger = options.logger ?? silentLogger;
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, application_name: options.applicationName ?? 'b24-rules' });
  // An idle connection dropped by the server must not crash the process: the next query reconnects.
  pool.on('error', (err) => logger.warn({ error: err.message, database }, 'control plane: an idle connection failed'));
  let version: number;
  try {
    const client = await pool.connect();
    try {
      version = await migrate(client);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof PortalsError) throw err;
    throw unavailable(err, database);
  }
  return {
    pool,
    database,
    version,
    close: () => pool.end(),
  };
}
