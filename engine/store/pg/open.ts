/**
 * The state store on PostgreSQL: one schema per portal, `portal_<key>` (portalSchema), holding the
 * same tables as a SQLite state file. Every statement of a portal's store runs with that schema as
 * its search_path, so no query of one portal's engine reads or writes another portal's rows. The
 * schema is created and migrated on open (migrations.ts, version in its `schema_meta` row).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Client as PgClient, ClientConfig } from 'pg';
import { PACKAGE_ROOT } from '../../paths.js';
import { StateStoreError } from '../errors.js';
import { assembleStateStore, type StateStore } from '../state-store.js';
import { PgBridge, redactDatabaseUrl, type PgBridgeOptions } from './bridge.js';
import { PgDatabase } from './database.js';
import { PG_MIGRATIONS } from './migrations.js';

/**
 * Advisory lock classes of the state store (the first key of PostgreSQL's two-key advisory locks;
 * the second is hashtext(schema)): migrating a portal's schema, and holding a portal's store
 * exclusively. 'b24r' and 'b24x' in ASCII.
 */
const LOCK_MIGRATE = 0x62323472;
const LOCK_EXCLUSIVE = 0x62323478;

export interface PgStateStoreOptions extends PgBridgeOptions {
  /** The database, `postgres://user:password@host:port/db` (or `postgresql://`). */
  url: string;
  /** The portal's member_id: its state lives in schema `portal_<key>` (portalSchema). */
  portal: string;
  /** The clock (ms since epoch) for every timestamp the store writes. @default Date.now */
  now?: () => number;
  /**
   * A bridge (one connection) shared with other portals' stores of this process; the store does not
   * close it. @default a bridge of its own, closed with the store
   */
  bridge?: PgBridge;
  /**
   * Hold the portal's store exclusively while it is open (a session advisory lock): a second
   * exclusive open of the same portal, from any process, fails with STATE_PORTAL_BUSY until the
   * first closes or its connection ends (a killed process's connection ends with it). An engine
   * serving the portal opens it so; readers (`rules runs`) do not. @default false
   */
  exclusive?: boolean;
}

/** The key of a portal: its member_id lowercased when that is 1-40 letters and digits, else 32 hex digits of its sha256. */
export function portalKey(memberId: string): string {
  const lower = memberId.toLowerCase();
  if (/^[a-z0-9]{1,40}$/.test(lower)) return lower;
  return createHash('sha256').update(memberId).digest('hex').slice(0, 32);
}

/** The PostgreSQL schema holding a portal's state: `portal_<key>`. */
export function portalSchema(memberId: string): string {
  return `portal_${portalKey(memberId)}`;
}

/** Whether `state` (a --state argument) names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//i.test(state);
}

/** Open (creating and migrating if needed) the state store of one portal in a PostgreSQL database. */
export function openPgStateStore(options: PgStateStoreOptions): StateStore {
  const now = options.now ?? Date.now;
  const schema = portalSchema(options.portal);
  const where = redactDatabaseUrl(options.url);
  let bridge: PgBridge;
  try {
    bridge = options.bridge ?? PgBridge.open(options.url, options);
  } catch (err) {
    throw new StateStoreError(`cannot open the state store of portal schema ${schema}: ${(err as Error).message}`, { cause: err });
  }
  const db = new PgDatabase(bridge, schema, options.bridge === undefined);
  let locked = false;
  try {
    if (options.exclusive) {
      locked = db.query(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok`, [LOCK_EXCLUSIVE, schema]).rows[0]?.ok === true;
      if (!locked) {
        throw new StateStoreError(`the state of portal schema ${schema} at ${where} is held by another engine (it serves this portal now); try again once it has stopped`, {
          code: 'STATE_PORTAL_BUSY',
        });
      }
    }
    migrate(db, where);
  } catch (err) {
    if (locked) unlock(db);
    db.close();
    if (err instanceof StateStoreError) throw err;
    throw new StateStoreError(`cannot prepare the state store of portal schema ${schema} at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return assembleStateStore(db, {
    path: `${where}#${schema}`,
    now,
    schemaVersion: PG_MIGRATIONS.length,
    close: () => {
      if (locked) unlock(db);
      db.close();
    },
  });
}

function unlock(db: PgDatabase): void {
  try {
    db.query(`SELECT pg_advisory_unlock($1, hashtext($2))`, [LOCK_EXCLUSIVE, db.schema]);
  } catch {
    // The connection is gone: so is the lock.
  }
}

/** Creates the portal's schema when missing and applies the migrations it lacks, in one transaction. */
function migrate(db: PgDatabase, where: string): void {
  const schema = db.schema;
  db.transaction(() => {
    // Two processes opening a new portal at once: the second waits here, then finds the schema made.
    db.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_MIGRATE, schema]);
    db.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    db.exec(`CREATE TABLE IF NOT EXISTS "${schema}".schema_meta (version INTEGER NOT NULL)`);
    db.exec(`INSERT INTO "${schema}".schema_meta (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM "${schema}".schema_meta)`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > PG_MIGRATIONS.length) {
      throw new StateStoreError(
        `the state of portal schema ${schema} at ${where} has schema version ${version}, newer than this b24-rules (${PG_MIGRATIONS.length}); upgrade b24-rules`,
        { code: 'STATE_FILE_TOO_NEW' },
      );
    }
    for (let v = version; v < PG_MIGRATIONS.length; v++) db.exec((PG_MIGRATIONS[v] as (schema: string) => string)(schema));
    if (version !== PG_MIGRATIONS.length) db.pragma(`user_version = ${PG_MIGRATIONS.length}`);
  })();
}

/** Anything that runs a query: a `pg.Client`, a `pg.Pool`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

const require = createRequire(`${PACKAGE_ROOT}/package.json`);

/**
 * Drop a portal's whole state (its schema, CASCADE): what an uninstall with CLEAN=1 asks for. An
 * engine still serving the portal fails at its next statement. `db` is the database URL or an open
 * client or pool (the control plane's). Returns whether there was a schema to drop.
 */
export async function dropPortalState(db: string | PgQueryable, memberId: string): Promise<boolean> {
  const schema = portalSchema(memberId);
  let client: PgClient | null = null;
  let target: PgQueryable;
  if (typeof db === 'string') {
    const { Client } = require('pg') as { Client: new (config: ClientConfig) => PgClient };
    client = new Client({ connectionString: db });
    try {
      await client.connect();
    } catch (err) {
      throw new StateStoreError(`cannot connect to PostgreSQL at ${redactDatabaseUrl(db)}: ${(err as Error).message}`, { cause: err });
    }
    target = client;
  } else {
    target = db;
  }
  try {
    const found = (await target.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])) as { rowCount: number | null };
    await target.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    return (found.rowCount ?? 0) > 0;
  } finally {
    await client?.end();
  }
}
