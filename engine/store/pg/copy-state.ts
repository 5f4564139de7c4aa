/**
 * One portal's state copied out of PostgreSQL into a SQLite state file (the dry-run's private copy,
 * engine/plan/state-copy-pg.ts): every table of the store, read in one REPEATABLE READ READ ONLY
 * transaction (one consistent snapshot, and PostgreSQL itself refuses a write in it), which is then
 * rolled back. Nothing is written to the database, not even a migration: a portal schema at another
 * version than this b24-rules knows is refused.
 */
import { createRequire } from 'node:module';
import type { Client as PgClient, ClientConfig } from 'pg';
import { PACKAGE_ROOT } from '../../paths.js';
import { StateStoreError } from '../errors.js';
import type { SqlDatabase } from '../sqlite.js';
import { redactDatabaseUrl } from './bridge.js';
import { PG_MIGRATIONS } from './migrations.js';
import { portalSchema } from './open.js';

const require = createRequire(`${PACKAGE_ROOT}/package.json`);

/** Parents before the rows that name them (SQLite's foreign keys are on); tables not listed here follow in name order. */
const TABLE_ORDER = ['inbox', 'runs', 'effects', 'dlq', 'timers', 'snapshots', 'dedupe', 'positions', 'schedules', 'counters'];

/** Rows read per FETCH. */
const PAGE = 1000;

/** What was copied: whether the portal had a state schema at all, and the rows per table. */
export interface PortalStateCopy {
  found: boolean;
  rows: Record<string, number>;
}

/**
 * Copy the state of portal `memberId` from the database at `url` into `target`, a SQLite state
 * database already migrated to this b24-rules' schema (openStateStore). A portal that has no state
 * schema yet (never served) copies nothing (`found: false`).
 */
export async function copyPortalState(url: string, memberId: string, target: SqlDatabase): Promise<PortalStateCopy> {
  const schema = portalSchema(memberId);
  const where = redactDatabaseUrl(url);
  const { Client } = require('pg') as { Client: new (config: ClientConfig) => PgClient };
  const client = new Client({ connectionString: url, application_name: 'b24-rules dry-run' });
  try {
    await client.connect();
  } catch (err) {
    throw new StateStoreError(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`, { cause: err });
  }
  // The client reports a broken connection as an event; the query in flight fails with it anyway.
  client.on('error', () => undefined);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if ((exists.rowCount ?? 0) === 0) return { found: false, rows: {} };
    const version = Number((await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_meta`)).rows[0]?.version ?? 0);
    if (version !== PG_MIGRATIONS.length) {
      const what = version > PG_MIGRATIONS.length ? 'newer than this b24-rules' : 'older than this b24-rules';
      const fix = version > PG_MIGRATIONS.length ? 'upgrade b24-rules' : 'let a worker of this version serve the portal once (it migrates the state), or use the b24-rules the workers run';
      throw new StateStoreError(`the state of portal schema ${schema} at ${where} has schema version ${version}, ${what} (${PG_MIGRATIONS.length}); a dry-run never migrates it: ${fix}`, {
        code: version > PG_MIGRATIONS.length ? 'STATE_FILE_TOO_NEW' : 'STATE_STORE',
      });
    }
    const rows: Record<string, number> = {};
    for (const table of tablesOf(target)) rows[table] = await copyTable(client, schema, table, target);
    return { found: true, rows };
  } catch (err) {
    if (err instanceof StateStoreError) throw err;
    throw new StateStoreError(`cannot read the state of portal schema ${schema} at ${where}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The target's tables in copy order. */
function tablesOf(target: SqlDatabase): string[] {
  const names = (target.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  return [...TABLE_ORDER.filter((t) => names.includes(t)), ...names.filter((t) => !TABLE_ORDER.includes(t))];
}

/** Copy one table's rows, the target's columns, through a cursor of the snapshot; returns the count. */
async function copyTable(client: PgClient, schema: string, table: string, target: SqlDatabase): Promise<number> {
  const columns = (target.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
  const list = columns.map((c) => `"${c}"`).join(', ');
  const insert = target.prepare(`INSERT OR REPLACE INTO "${table}" (${list}) VALUES (${columns.map(() => '?').join(', ')})`);
  const cursor = `copy_${table}`;
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${list} FROM "${schema}"."${table}"`);
  let count = 0;
  for (;;) {
    const page = await client.query({ text: `FETCH ${PAGE} FROM ${cursor}`, rowMode: 'array' });
    const batch = page.rows as unknown[][];
    if (batch.length === 0) break;
    target.transaction(() => {
      for (const row of batch) insert.run(...row);
    })();
    count += batch.length;
  }
  await client.query(`CLOSE ${cursor}`);
  return count;
}
