/**
 * A synchronous door to PostgreSQL. The state store's contract is synchronous on purpose: a
 * transaction is a synchronous closure, so no await can interleave inside the ledger's "mark sent"
 * commit or a tick's planning commit. `pg` is asynchronous, so it runs in a worker thread holding
 * one connection; the caller posts each statement on a MessagePort and waits for the answer with
 * Atomics.wait on a shared flag, then takes it with receiveMessageOnPort (the pattern of the
 * `synckit` library). The thread runs statements one at a time, in the order they were sent; a
 * statement sent with post() (a write inside a transaction) is not waited for.
 *
 * A statement that gets no answer within the query timeout fails with a StateStoreError and the
 * bridge is closed (a later statement fails at once, never hangs). Messages name the server and
 * the database, never the password (redactDatabaseUrl).
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { redact } from '../../redact.js';
import { PACKAGE_ROOT } from '../../paths.js';
import { StateStoreError } from '../errors.js';
import { BRIDGE_WORKER_SOURCE } from './bridge-worker.js';

/** @default values of PgBridgeOptions */
export const PG_BRIDGE_DEFAULTS = {
  queryTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
} as const;

export interface PgBridgeOptions {
  /** A statement without an answer after this long fails (PostgreSQL's statement_timeout is set to it too). @default 30000 */
  queryTimeoutMs?: number;
  /** Connecting fails after this long. @default 10000 */
  connectTimeoutMs?: number;
  /** Shown to PostgreSQL as application_name (pg_stat_activity). @default 'b24-rules' */
  applicationName?: string;
}

/** How one statement runs: see PgBridge.query. */
export interface QueryOptions {
  schema: string | null;
  inTransaction: boolean;
  name?: string;
}

/** What one statement returned. */
export interface PgResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
}

/** A statement PostgreSQL refused: `sqlstate` is its error code (23505 a unique violation, ...). */
export class PgStatementError extends StateStoreError {
  readonly sqlstate: string | null;

  constructor(message: string, sqlstate: string | null) {
    super(message);
    this.sqlstate = sqlstate;
  }
}

interface Answer {
  ok: boolean;
  rows?: Array<Record<string, unknown>>;
  rowCount?: number;
  message?: string;
  code?: string | null;
}

const require = createRequire(`${PACKAGE_ROOT}/package.json`);
/** Extra wait on top of the query timeout: the server cancels first, and its error is the clearer one. */
const WAIT_MARGIN_MS = 5_000;

/**
 * `url` without its password and query string: `postgres://user@host:port/db`. What every
 * message, log line and StateStore.path shows of a database URL.
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    const host = u.host || new URLSearchParams(u.search).get('host') || 'localhost';
    return redact(`${u.protocol}//${user}${host}${u.pathname}`);
  } catch {
    return 'postgres://(an unparsable URL)';
  }
}

/** The password in `url`, to be masked in messages wherever a driver might echo it. */
function passwordOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.password ? decodeURIComponent(u.password) : new URLSearchParams(u.search).get('password');
  } catch {
    return null;
  }
}

/** One connection to PostgreSQL in a worker thread, spoken to synchronously. */
export class PgBridge {
  /** The URL as messages show it (no password). */
  readonly where: string;
  readonly #port: MessagePort;
  readonly #worker: Worker;
  readonly #signal: Int32Array;
  readonly #waitMs: number;
  readonly #password: string | null;
  #closed = false;
  #rid = 0;

  private constructor(url: string, options: PgBridgeOptions) {
    this.where = redactDatabaseUrl(url);
    this.#password = passwordOf(url);
    const queryTimeoutMs = options.queryTimeoutMs ?? PG_BRIDGE_DEFAULTS.queryTimeoutMs;
    const connectTimeoutMs = options.connectTimeoutMs ?? PG_BRIDGE_DEFAULTS.connectTimeoutMs;
    this.#waitMs = Math.max(queryTimeoutMs, connectTimeoutMs) + WAIT_MARGIN_MS;
    // [0]: an answer is ready; [1]: deferred statements done so far (progress).
    const flag = new SharedArrayBuffer(8);
    this.#signal = new Int32Array(flag);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const config = { connectionString: url, connectionTimeoutMillis: connectTimeoutMs, application_name: options.applicationName ?? 'b24-rules' };
    this.#worker = new Worker(BRIDGE_WORKER_SOURCE, {
      eval: true,
      workerData: { pgPath: require.resolve('pg'), port: port2, flag, config, queryTimeoutMs },
      transferList: [port2],
    });
    // Neither keeps the process alive: a store left open does not stop a CLI from exiting.
    this.#worker.unref();
    this.#port.unref();
  }

  /** Starts the worker thread and connects (a failure to connect is thrown here, as a StateStoreError). */
  static open(url: string, options: PgBridgeOptions = {}): PgBridge {
    const bridge = new PgBridge(url, options);
    try {
      bridge.query('SELECT 1', [], { schema: null, inTransaction: false });
    } catch (err) {
      bridge.close();
      throw err;
    }
    return bridge;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one statement and waits for its answer. `schema` is the search_path it runs under (set
   * on the connection only when it changes; null leaves it); `name` makes it a prepared statement
   * of the connection, parsed once; `inTransaction` forbids reconnecting (the transaction would be lost).
   */
  query(text: string, params: unknown[], options: QueryOptions): PgResult {
    return this.#answer(this.#call({ op: 'query', text, params, name: options.name ?? null, schema: options.schema, inTransaction: options.inTransaction, defer: false, rid: null }));
  }

  /**
   * Sends one statement of a transaction without waiting for it: the thread runs it in order with the others, and
   * the caller goes on meanwhile. With `keep`, its result can be asked for later (result(id), until the next BEGIN).
   * A failure comes back as the answer of the next statement that waits (COMMIT at the latest), so the
   * transaction fails whole. Returns the statement's id.
   */
  post(text: string, params: unknown[], options: QueryOptions & { keep: boolean }): number {
    if (this.#closed) throw new StateStoreError(`the connection to PostgreSQL at ${this.where} is closed`);
    const rid = options.keep ? ++this.#rid : null;
    this.#port.postMessage({ op: 'query', text, params, name: options.name ?? null, schema: options.schema, inTransaction: options.inTransaction, defer: true, rid });
    return rid ?? 0;
  }

  /** The result of a statement sent with post(..., { keep: true }), waiting for it (and the ones before it). */
  result(id: number): PgResult {
    return this.#answer(this.#call({ op: 'result', rid: id }));
  }

  /** Ends the connection and the worker thread. Idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#call({ op: 'close' }, 2_000);
    } catch {
      // closing anyway
    }
    this.#closed = true;
    void this.#worker.terminate();
  }

  #answer(answer: Answer): PgResult {
    if (!answer.ok) throw new PgStatementError(this.#message(answer.message ?? 'unknown error'), answer.code ?? null);
    return { rows: answer.rows ?? [], rowCount: answer.rowCount ?? 0 };
  }

  #call(message: Record<string, unknown>, waitMs = this.#waitMs): Answer {
    if (this.#closed) throw new StateStoreError(`the connection to PostgreSQL at ${this.where} is closed`);
    Atomics.store(this.#signal, 0, 0);
    this.#port.postMessage(message);
    // Statements posted before this one run first: wait on while the thread makes progress through them.
    let progress = Atomics.load(this.#signal, 1);
    let waited = Atomics.wait(this.#signal, 0, 0, waitMs);
    while (waited === 'timed-out' && Atomics.load(this.#signal, 1) !== progress) {
      progress = Atomics.load(this.#signal, 1);
      waited = Atomics.wait(this.#signal, 0, 0, waitMs);
    }
    const received = receiveMessageOnPort(this.#port);
    if (waited === 'timed-out' && received === undefined) {
      this.#closed = true;
      void this.#worker.terminate();
      throw new StateStoreError(`PostgreSQL at ${this.where} did not answer within ${Math.round(waitMs / 1000)} s; the connection is closed (is the server up and reachable?)`);
    }
    if (received === undefined) {
      this.#closed = true;
      void this.#worker.terminate();
      throw new StateStoreError(`the connection thread for PostgreSQL at ${this.where} answered nothing; the connection is closed`);
    }
    return received.message as Answer;
  }

  #message(text: string): string {
    const clean = this.#password ? text.split(this.#password).join('[REDACTED]') : text;
    return `PostgreSQL at ${this.where}: ${clean}`;
  }
}
