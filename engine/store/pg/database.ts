/**
 * The `SqlDatabase` the table classes use (engine/store/sqlite.ts), on PostgreSQL: one portal's
 * schema over a synchronous bridge. Statements are translated once (dialect.ts) and run as
 * prepared statements of the connection; `transaction()` nests with savepoints as better-sqlite3
 * does; `pragma('user_version')` reads and writes the schema's `schema_meta` row.
 */
import { createHash } from 'node:crypto';
import type { RunResult, SqlDatabase, SqlStatement } from '../sqlite.js';
import { StateStoreError } from '../errors.js';
import type { PgBridge, PgResult } from './bridge.js';
import { bindParams, toPg, type PgStatementText } from './dialect.js';

/** A SqlDatabase over `bridge` whose statements run in `schema` (search_path). */
export class PgDatabase implements SqlDatabase {
  readonly driver = 'postgres' as const;
  readonly schema: string;
  readonly #bridge: PgBridge;
  readonly #ownsBridge: boolean;
  #depth = 0;
  #open = true;
  /** A statement failed inside the open transaction (PostgreSQL aborted it). */
  #failed = false;

  /** With `ownsBridge`, closing the database closes the bridge too. */
  constructor(bridge: PgBridge, schema: string, ownsBridge: boolean) {
    this.#bridge = bridge;
    this.schema = schema;
    this.#ownsBridge = ownsBridge;
  }

  get open(): boolean {
    return this.#open && !this.#bridge.closed;
  }

  /** Whether a transaction is open on this database. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  prepare(sql: string): SqlStatement {
    const statement = toPg(sql);
    const name = `b24_${createHash('sha1').update(statement.text).digest('hex').slice(0, 24)}`;
    return {
      // Inside a transaction a write does not wait for its answer (the bridge runs it in order; a failure fails the
      // transaction at its next waiting statement or COMMIT); its changes and id are fetched only when read.
      run: (...params) => (this.#depth > 0 ? this.#deferRun(statement, params, name) : toRunResult(this.#run(statement, params, name), statement)),
      get: (...params) => this.#run(statement, params, name).rows[0],
      all: (...params) => this.#run(statement, params, name).rows,
    };
  }

  /** Runs `sql` as it is (several statements allowed, no parameters): migrations, DDL. */
  exec(sql: string): void {
    this.query(sql);
  }

  /** Runs one PostgreSQL statement as it is, with `$n` parameters. */
  query(text: string, params: unknown[] = []): PgResult {
    return this.#send(text, params);
  }

  pragma(source: string, options?: { simple?: boolean }): unknown {
    const m = /^\s*user_version\s*(?:=\s*(\d+))?\s*$/i.exec(source);
    if (!m) throw new StateStoreError(`PRAGMA ${source} has no PostgreSQL equivalent in the state store`);
    if (m[1] !== undefined) {
      this.query(`UPDATE schema_meta SET version = $1`, [Number(m[1])]);
      return [];
    }
    const version = (this.query(`SELECT version FROM schema_meta`).rows[0]?.version as number | undefined) ?? 0;
    return options?.simple ? version : [{ user_version: version }];
  }

  transaction<T>(fn: () => T): () => T {
    return () => {
      const savepoint = this.#depth > 0 ? `b24rules_sp${this.#depth}` : null;
      this.#post(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      this.#depth++;
      try {
        const result = fn();
        if (result && typeof (result as { then?: unknown }).then === 'function') throw new TypeError('Transaction function cannot return a promise');
        // PostgreSQL answers COMMIT of a transaction it aborted (a statement failed and the error was caught) with a
        // silent ROLLBACK: the writes would be lost without a word. SQLite would have kept them; fail instead.
        if (this.#failed) throw new StateStoreError(`a statement failed inside a transaction on schema ${this.schema} and PostgreSQL aborted it; nothing of it was committed`);
        if (savepoint) this.#post(`RELEASE SAVEPOINT ${savepoint}`);
        else this.#bridge.query('COMMIT', [], { schema: this.schema, inTransaction: true });
        return result;
      } catch (err) {
        this.#rollback(savepoint);
        throw err;
      } finally {
        this.#depth--;
      }
    };
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#ownsBridge) this.#bridge.close();
  }

  #rollback(savepoint: string | null): void {
    if (this.#bridge.closed) return;
    try {
      this.#bridge.query(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}` : 'ROLLBACK', [], { schema: this.schema, inTransaction: true });
      if (savepoint) this.#bridge.query(`RELEASE SAVEPOINT ${savepoint}`, [], { schema: this.schema, inTransaction: true });
      // Back to the savepoint (or out of the transaction): what failed is undone, what is left is sound.
      this.#failed = false;
    } catch {
      // The error being thrown is the one that matters; a connection lost meanwhile took the transaction with it.
    }
  }

  #run(statement: PgStatementText, params: unknown[], name: string): PgResult {
    return this.#send(statement.text, bindParams(statement, params), name);
  }

  /** Sends a statement of the open transaction (or its BEGIN) without waiting; see PgBridge.post. */
  #post(text: string, params: unknown[] = [], name?: string, keep = false): number {
    this.#ensureOpen();
    return this.#bridge.post(text, params, { schema: this.schema, inTransaction: this.#depth > 0, keep, ...(name === undefined ? {} : { name }) });
  }

  #deferRun(statement: PgStatementText, params: unknown[], name: string): RunResult {
    const id = this.#post(statement.text, bindParams(statement, params), name, true);
    let result: PgResult | undefined;
    const load = (): PgResult => {
      if (result === undefined) {
        try {
          result = this.#bridge.result(id);
        } catch (err) {
          if (this.#depth > 0) this.#failed = true;
          throw err;
        }
      }
      return result;
    };
    return {
      get changes() {
        return load().rowCount;
      },
      get lastInsertRowid() {
        return toRunResult(load(), statement).lastInsertRowid;
      },
    };
  }

  #send(text: string, params: unknown[], name?: string): PgResult {
    this.#ensureOpen();
    try {
      return this.#bridge.query(text, params, { schema: this.schema, inTransaction: this.#depth > 0, ...(name === undefined ? {} : { name }) });
    } catch (err) {
      if (this.#depth > 0) this.#failed = true;
      throw err;
    }
  }

  #ensureOpen(): void {
    if (!this.#open) throw new StateStoreError(`the state store of schema ${this.schema} is closed`);
  }
}

function toRunResult(result: PgResult, statement: PgStatementText): RunResult {
  const id = statement.returnsId ? result.rows[0]?.id : undefined;
  return { changes: result.rowCount, lastInsertRowid: typeof id === 'number' ? id : 0 };
}
