/**
 * The PostgreSQL suite's helpers: the throwaway server's URL (test/helpers/pg-global-setup.ts) and a fresh database
 * per test file. PostgreSQL tests use `describe.skipIf(!pgUrl())`.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { inject } from 'vitest';
import type { Client as PgClient, ClientConfig } from 'pg';

const require = createRequire(import.meta.url);

/** The test server's URL: B24_TEST_DATABASE_URL, else the one the global setup started; null when there is none. */
export function pgUrl(): string | null {
  return process.env.B24_TEST_DATABASE_URL || inject('pgUrl') || null;
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A connected `pg.Client` for `url` (the caller ends it). */
export async function connect(url: string): Promise<PgClient> {
  const { Client } = require('pg') as { Client: new (config: ClientConfig) => PgClient };
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Creates a database with a unique name starting with `prefix` on the test server and returns its URL. */
export async function freshDatabase(prefix: string): Promise<string> {
  const url = pgUrl();
  if (url === null) throw new Error('freshDatabase: no PostgreSQL test server (guard the suite with describe.skipIf(!pgUrl()))');
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  const name = `${clean}_${randomBytes(4).toString('hex')}`;
  const admin = await connect(url);
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(url, name);
}
