/**
 * The control plane's schema `b24rules` on PostgreSQL: portals, their leases
 * and the live workers, with its own versioned migrations (`b24rules.meta`).
 * Every process that opens the control plane runs the missing ones at start,
 * one at a time across processes (a transaction-scoped advisory lock), so
 * three workers started together migrate once.
 */
import type { PoolClient } from 'pg';
import { PortalsError } from './errors.js';

/** One step of the schema: applied in order, never edited once released (add a new one instead). */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The control plane's migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'portals, leases, workers',
    sql: `
      CREATE TABLE b24rules.portals (
        member_id text PRIMARY KEY,
        domain text NOT NULL,
        auth_mode text NOT NULL CHECK (auth_mode IN ('oauth', 'webhook')),
        client_endpoint text,
        webhook_url text,
        access_token text,
        refresh_token text,
        expires_at timestamptz,
        obtained_at timestamptz,
        token_version bigint NOT NULL DEFAULT 0,
        application_token text,
        plan text NOT NULL DEFAULT 'standard' CHECK (plan IN ('standard', 'enterprise')),
        enabled boolean NOT NULL DEFAULT true,
        rule_set text,
        installed_at timestamptz,
        uninstalled_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (auth_mode <> 'webhook' OR webhook_url IS NOT NULL)
      );
      CREATE TABLE b24rules.leases (
        -- No foreign key: a removed portal's lease stays until it expires, so a portal added again
        -- under the same member_id cannot be taken while the old holder may still count on it.
        member_id text PRIMARY KEY,
        worker_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        epoch bigint NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX leases_worker ON b24rules.leases (worker_id);
      CREATE SEQUENCE b24rules.lease_epoch;
      CREATE TABLE b24rules.workers (
        worker_id text PRIMARY KEY,
        seen_at timestamptz NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    description: 'workers.nonce: one process per worker id',
    // Each process's own random nonce: a second process started with a live worker's id is refused,
    // and a worker leaving deletes only its own row.
    sql: `ALTER TABLE b24rules.workers ADD COLUMN nonce text`,
  },
  {
    version: 3,
    description: 'leases.grace_ms: the holder\'s lease grace',
    // The grace of the worker that took the lease: whoever takes it next waits at least that long past its expiry,
    // and `rules portals list` shows when it becomes free. NULL (leases taken before): the taker's own grace.
    sql: `ALTER TABLE b24rules.leases ADD COLUMN grace_ms integer`,
  },
];

/** The newest version this b24-rules knows. */
export const CONTROL_PLANE_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/**
 * Create the schema if needed and apply the missing migrations, in one
 * transaction under an advisory lock. A database migrated by a newer
 * b24-rules is refused (CONTROL_PLANE_TOO_NEW): this one would not know its tables.
 * Resolves to the version the schema is at.
 */
export async function migrate(client: PoolClient): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('b24rules.control-plane.migrate'))`);
    await client.query('CREATE SCHEMA IF NOT EXISTS b24rules');
    await client.query('CREATE TABLE IF NOT EXISTS b24rules.meta (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM b24rules.meta');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO b24rules.meta (version) VALUES (0)');
    if (version > CONTROL_PLANE_VERSION) {
      throw new PortalsError(
        'CONTROL_PLANE_TOO_NEW',
        `the control plane (schema b24rules) is at version ${version}, written by a newer b24-rules; this one knows up to ${CONTROL_PLANE_VERSION}: upgrade b24-rules`,
        { kind: 'user' },
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      await client.query(m.sql);
      await client.query('UPDATE b24rules.meta SET version = $1', [m.version]);
      version = m.version;
    }
    await client.query('COMMIT');
    return version;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
