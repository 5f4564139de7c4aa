/**
 * The small part of SQLite the state store uses, over one of two drivers:
 * better-sqlite3 on Node 20 and 22, node:sqlite on Node 24 and later.
 *
 * Why two: from Node 24.19, node::ObjectWrap registers an environment cleanup
 * hook, and better-sqlite3 12 (the last major that builds for Node 20) aborts
 * the process when a Statement is garbage-collected outside a JS context
 * ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook), at
 * exit or on an idle GC. Its fix is in better-sqlite3 13, which needs Node 22.
 * node:sqlite is built into Node 24, so there the addon is never loaded.
 */
import { createRequire } from 'node:module';

/** Both drivers return plain numbers unless asked for BigInts, which the store never does. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

export interface SqlStatement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  readonly open: boolean;
  /** Which driver serves this connection (postgres: a portal's schema, engine/store/pg). */
  readonly driver: 'better-sqlite3' | 'node:sqlite' | 'postgres';
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  /** `PRAGMA source`; with `simple`, the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Wrap `fn` in a transaction (a savepoint when already inside one), as better-sqlite3's `transaction()` does. */
  transaction<T>(fn: () => T): () => T;
  close(): void;
}

export interface OpenOptions {
  /** @default false */
  readonly?: boolean;
  /** @default false */
  fileMustExist?: boolean;
}

const require = createRequire(import.meta.url);
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** The driver this Node.js gets: node:sqlite from Node 24 on, better-sqlite3 before. */
export const SQLITE_DRIVER: 'better-sqlite3' | 'node:sqlite' = NODE_MAJOR >= 24 ? 'node:sqlite' : 'better-sqlite3';

export function openDatabase(path: string, options: OpenOptions = {}): SqlDatabase {
  return SQLITE_DRIVER === 'node:sqlite' ? openNodeSqlite(path, options) : openBetterSqlite(path, options);
}

interface BetterSqliteDb {
  open: boolean;
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<T>(fn: () => T): () => T;
  close(): void;
}

function openBetterSqlite(path: string, options: OpenOptions): SqlDatabase {
  const Database = require('better-sqlite3') as new (path: string, options?: { readonly?: boolean; fileMustExist?: boolean }) => BetterSqliteDb;
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.fileMustExist ?? false });
  return {
    get open() {
      return db.open;
    },
    driver: 'better-sqlite3',
    prepare: (sql) => db.prepare(sql),
    exec: (sql) => db.exec(sql),
    pragma: (source, opts) => db.pragma(source, opts),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}

interface NodeSqliteDb {
  isOpen?: boolean;
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  close(): void;
}

function openNodeSqlite(path: string, options: OpenOptions): SqlDatabase {
  const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => NodeSqliteDb };
  if (options.fileMustExist && path !== ':memory:') {
    const { existsSync } = require('node:fs') as typeof import('node:fs');
    if (!existsSync(path)) throw new Error(`unable to open database file: ${path} does not exist`);
  }
  const db = new DatabaseSync(path, { readOnly: options.readonly ?? false });
  let open = true;
  let depth = 0;
  return {
    get open() {
      return open;
    },
    driver: 'node:sqlite',
    prepare: (sql) => db.prepare(sql),
    exec: (sql) => db.exec(sql),
    pragma(source, opts) {
      const rows = db.prepare(`PRAGMA ${source}`).all() as Array<Record<string, unknown>>;
      if (!opts?.simple) return rows;
      const first = rows[0];
      return first ? Object.values(first)[0] : undefined;
    },
    transaction<T>(fn: () => T): () => T {
      return () => {
        const savepoint = depth > 0 ? `b24rules_sp${depth}` : null;
        db.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
        depth++;
        try {
          const result = fn();
          if (result && typeof (result as { then?: unknown }).then === 'function') throw new TypeError('Transaction function cannot return a promise');
          db.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
          return result;
        } catch (err) {
          db.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
          throw err;
        } finally {
          depth--;
        }
      };
    },
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
