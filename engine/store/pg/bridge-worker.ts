/**
 * The code of the bridge's worker thread (see bridge.ts), as a string run with `eval: true`: a
 * file path would differ between the sources (vitest runs .ts) and dist/. It holds one `pg.Client`,
 * answers each request on the port, then raises the shared flag the caller waits on.
 *
 * Requests: `{ op: 'query', text, params, name, schema, inTransaction }`, `{ op: 'close' }`.
 * Answers: `{ ok: true, rows, rowCount }` or `{ ok: false, message, code }` (SQLSTATE when PostgreSQL
 * refused the statement). int8 and numeric come back as JS numbers (ids, counts and times in ms
 * fit), as SQLite's INTEGER does. A lost connection is reopened on the next request outside a
 * transaction; inside one, the request fails (the transaction is gone with the connection).
 */
export const BRIDGE_WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
let pg = null;
let loadError = null;
try {
  pg = require(workerData.pgPath);
} catch (err) {
  loadError = err;
}
const { port, flag, config, queryTimeoutMs } = workerData;
const signal = new Int32Array(flag);

const NUMBER_TYPES = new Set([20, 1700]); // int8, numeric
const types = {
  getTypeParser(oid, format) {
    if (NUMBER_TYPES.has(oid) && format !== 'binary') return (value) => (value === null ? null : Number(value));
    return pg.types.getTypeParser(oid, format);
  },
};

const CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

let client = null;
let broken = null;
let schema = null;

async function connect() {
  const c = new pg.Client({ ...config, types, statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs + 1000 });
  c.on('error', (err) => {
    broken = err;
  });
  await c.connect();
  client = c;
  broken = null;
  schema = null;
}

function answer(message) {
  port.postMessage(message);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function failure(err) {
  return { ok: false, message: String((err && err.message) || err), code: (err && err.code) || null };
}

async function query(m) {
  if (loadError !== null) throw new Error('cannot load the pg package: ' + loadError.message);
  if (client === null || broken !== null) {
    if (m.inTransaction && client !== null) throw new Error('the connection to PostgreSQL was lost inside a transaction: ' + (broken ? broken.message : ''));
    if (client !== null) client.end().catch(() => {});
    await connect();
  }
  // Transaction control needs no search_path (and inside an aborted transaction, setting it would fail).
  if (m.schema !== null && m.schema !== schema && !CONTROL.test(m.text)) {
    await client.query('SELECT set_config($1, $2, false)', ['search_path', '"' + m.schema + '"']);
    schema = m.schema;
  }
  const r = await client.query(m.name ? { name: m.name, text: m.text, values: m.params } : { text: m.text, values: m.params });
  // A rollback undoes a search_path set inside the transaction: set it again next time.
  if (/^\s*ROLLBACK/i.test(m.text)) schema = null;
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  return { ok: true, rows: (last && last.rows) || [], rowCount: (last && last.rowCount) || 0 };
}

let queue = Promise.resolve();
port.on('message', (m) => {
  queue = queue.then(async () => {
    if (m.op === 'close') {
      try {
        if (client !== null) await client.end();
      } catch {}
      answer({ ok: true, rows: [], rowCount: 0 });
      port.close();
      return;
    }
    try {
      answer(await query(m));
    } catch (err) {
      schema = null;
      answer(failure(err));
    }
  });
});

process.on('uncaughtException', (err) => answer(failure(err)));
process.on('unhandledRejection', (err) => answer(failure(err)));
`;
