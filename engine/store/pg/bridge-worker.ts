/**
 * The code of the bridge's worker thread (see bridge.ts), as a string run with `eval: true`: a
 * file path would differ between the sources (vitest runs .ts) and dist/. It holds one `pg.Client`,
 * answers each request on the port, then raises the shared flag the caller waits on.
 *
 * Requests: `{ op: 'query', text, params, name, schema, inTransaction, defer, rid }`, `{ op: 'result', rid }`,
 * `{ op: 'close' }`. Answers: `{ ok: true, rows, rowCount }` or `{ ok: false, message, code }` (SQLSTATE when
 * PostgreSQL refused the statement). A deferred query gets no answer: it only counts in the flag's second slot
 * (progress, so a caller waiting behind many knows the thread is not stuck); its result is kept under `rid`
 * for an `op: 'result'`, and its failure is the answer to the next request that is not a rollback; once one
 * failed, the deferred statements after it are skipped (the transaction is lost anyway). int8 and numeric come
 * back as JS numbers (ids, counts and times in ms fit), as SQLite's INTEGER does.
 *
 * A connection that failed in a way PostgreSQL did not report as a refused statement (the client's query
 * timeout: the server may still be running the statement; a reset; a terminated backend) is ended and dropped,
 * so the next request outside a transaction opens a new one instead of queueing behind the old. Inside a
 * transaction every request fails until it ends (the transaction is gone with the connection); its ROLLBACK
 * is answered at once. TCP keep-alive is on, so a dead peer is noticed.
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
/** The connection was dropped inside a transaction: its statements fail until it ends. */
let lostInTransaction = false;

async function connect() {
  const c = new pg.Client({ ...config, types, keepAlive: true, statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs + 1000 });
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

/** A failure PostgreSQL reported on a sound connection: a SQLSTATE outside connection exceptions (08) and shutdowns (57P). */
function connectionSound(err) {
  const code = err && err.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P)/.test(code);
}

/** End the connection and forget it: the next request outside a transaction connects anew. */
function drop(inTransaction) {
  if (client !== null) client.end().catch(() => {});
  client = null;
  broken = null;
  schema = null;
  if (inTransaction) lostInTransaction = true;
}

async function query(m) {
  if (loadError !== null) throw new Error('cannot load the pg package: ' + loadError.message);
  if (m.inTransaction && (lostInTransaction || client === null || broken !== null)) {
    const why = broken ? broken.message : 'it was dropped after a failure';
    drop(true);
    throw new Error('the connection to PostgreSQL was lost inside a transaction (' + why + ')');
  }
  if (!m.inTransaction) lostInTransaction = false;
  if (client === null || broken !== null) {
    if (client !== null) client.end().catch(() => {});
    await connect();
  }
  try {
    return await run(m);
  } catch (err) {
    if (!connectionSound(err) || broken !== null) drop(m.inTransaction);
    throw err;
  }
}

async function run(m) {
  // Transaction control needs no search_path (and inside an aborted transaction, setting it would fail).
  if (m.schema !== null && m.schema !== schema && !CONTROL.test(m.text)) {
    await client.query('SELECT set_config($1, $2, false)', ['search_path', '"' + m.schema + '"']);
    schema = m.schema;
  }
  const r = await client.query(m.name ? { name: m.name, text: m.text, values: m.params } : { text: m.text, values: m.params });
  // A rollback undoes a search_path set inside the transaction: set it again next time.
  if (/^\s*ROLLBACK/i.test(m.text)) schema = null;
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  return { ok: true, rows: (last && last.rows) || [], rowCount: (last && last.rowCount) || 0, command: last && last.command };
}

// Deferred statements (sent inside a transaction by a caller that does not wait): their results wait here, by id,
// for a caller that asks (until the next BEGIN); the first one's failure is answered to the next request that waits.
let results = new Map();
let deferredError = null;

async function handle(m) {
  if (m.op === 'close') {
    try {
      if (client !== null) await client.end();
    } catch {}
    answer({ ok: true, rows: [], rowCount: 0 });
    port.close();
    return;
  }
  if (m.op === 'result') {
    if (deferredError !== null) return answerDeferredError();
    const r = results.get(m.rid);
    results.delete(m.rid);
    answer(r ? { ok: true, rows: r.rows, rowCount: r.rowCount } : { ok: false, message: 'the result of this statement is no longer kept (read it inside its transaction)', code: null });
    return;
  }
  if (m.defer) {
    if (/^\s*BEGIN/i.test(m.text)) results = new Map();
    // The transaction already failed: what follows is not run (its answer is that failure, at the next wait).
    if (deferredError !== null) {
      Atomics.add(signal, 1, 1);
      return;
    }
    try {
      const r = await query(m);
      if (m.rid !== null) results.set(m.rid, r);
    } catch (err) {
      schema = null;
      if (deferredError === null) deferredError = failure(err);
    }
    Atomics.add(signal, 1, 1);
    return;
  }
  // A deferred statement failed: the transaction it was in is lost. A rollback still runs (it ends the
  // transaction); anything else is answered with that failure, unsent.
  if (deferredError !== null && !/^\s*ROLLBACK/i.test(m.text)) return answerDeferredError();
  deferredError = null;
  // The connection went with the transaction: there is nothing left to roll back.
  if (lostInTransaction && /^\s*ROLLBACK\s*$/i.test(m.text)) {
    lostInTransaction = false;
    return answer({ ok: true, rows: [], rowCount: 0 });
  }
  try {
    const r = await query(m);
    // PostgreSQL answers COMMIT of a transaction it aborted with a silent ROLLBACK: the writes would be lost without a word.
    if (/^\s*COMMIT/i.test(m.text) && r.command === 'ROLLBACK') {
      return answer({ ok: false, message: 'a statement failed inside the transaction and PostgreSQL aborted it; nothing of it was committed', code: '25P02' });
    }
    answer(r);
  } catch (err) {
    schema = null;
    answer(failure(err));
  }
}

function answerDeferredError() {
  const e = deferredError;
  deferredError = null;
  answer(e);
}

let queue = Promise.resolve();
port.on('message', (m) => {
  queue = queue.then(() => handle(m));
});

process.on('uncaughtException', (err) => answer(failure(err)));
process.on('unhandledRejection', (err) => answer(failure(err)));
`;
