/**
 * REST 3.0 (`/rest/api/{user}/{code}/{method}`, `/rest/api/{method}` with
 * `auth` in the body; api-reference/rest-v3.md): JSON bodies only (the query
 * string is ignored; another body is 400 INVALIDJSONEXCEPTION), `batch` as a
 * JSON array of `{method, query}` answered by an array of results, errors as
 * `{"error":{"code","message","validation"}}`, and `Idempotency-Key` on
 * writes (idempotency.ts). The same faults, holds, leaky bucket, credentials,
 * operating budget and call log as REST 1 (server.ts, dispatch.ts); the
 * methods are the REST 3.0 registry's (methods/tasks-v3.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { catalog } from './catalog.js';
import type { Invocation, Outcome } from './dispatch.js';
import { IdempotencyCache } from './idempotency.js';
import { readBody } from './http-body.js';
import type { ServerDeps } from './server.js';
import { timeInfo } from './clock.js';
import { PortalError, type CallerAuth, type Params } from './types.js';

/** Calls in one REST 3.0 batch at most (the docs give none; REST 1's 50). */
const MAX_BATCH = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A REST 3.0 error body. */
export function v3ErrorBody(code: string, message: string, validation?: Array<{ field: string; message: string }>): { error: Record<string, unknown> } {
  return { error: { code, message, ...(validation && validation.length > 0 ? { validation } : {}) } };
}

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function outcomeText(o: Outcome): string {
  if (!o.ok) return JSON.stringify(v3ErrorBody(o.error, o.error_description, o.validation));
  return JSON.stringify({ result: o.result, time: o.time });
}

/** What a write of this name is, for the key: the catalog's kind, a write when unknown. */
function isWrite(method: string): boolean {
  return catalog().get(method)?.kind !== 'read';
}

/** Per emulator: the keys REST 3.0 writes came with. */
export function createV3Handler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const keys = new IdempotencyCache();
  return async (req, res, url) => {
    const { state, calls, dispatcher } = deps;
    const at = state.now();
    const m = /^\/rest\/api\/(?:(\d+)\/([^/]+)\/)?([^/]+?)\/?$/.exec(url.pathname);
    const fail = (err: PortalError): void => answer(res, err.status, JSON.stringify(v3ErrorBody(err.error, err.description, err.validation)));
    if (!m) return fail(new PortalError(404, 'ERROR_METHOD_NOT_FOUND', `No such endpoint: ${url.pathname}. Use /rest/api/{user}/{code}/{method} or /rest/api/{method}`));
    const method = decodeURIComponent(m[3] as string).toLowerCase();
    let body: unknown;
    try {
      body = parseJson((await readBody(req)).toString('utf8'), req.headers['content-type']);
      if (method === 'batch' && !Array.isArray(body)) {
        throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION', 'A REST 3.0 batch is a JSON array of {method, query}; the REST 1 form (cmd with "method?param=value" strings) does not work here');
      }
      if (method !== 'batch' && Array.isArray(body)) throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION', 'The request body must be a JSON object of parameters');
    } catch (err) {
      if (err instanceof PortalError) return fail(err);
      throw err;
    }
    let params: Params;
    let authToken: string | undefined;
    if (Array.isArray(body)) params = { calls: body };
    else {
      const { auth, ...rest } = body as Params;
      params = rest;
      authToken = typeof auth === 'string' ? auth : undefined;
    }
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const record = (status: number, error: string | undefined, auth: CallerAuth | null, fault?: 'error' | 'drop'): void =>
      calls.add({ seq: calls.nextSeq(), method, params, auth: auth?.kind ?? null, userId: auth?.userId ?? null, time: at, status, api: 'v3', ...(error ? { error } : {}), ...(fault ? { fault } : {}), ...(key !== undefined ? { idempotencyKey: key } : {}) });

    const { latencyMs, dropWhen, errorWhen } = deps.faults.options;
    const fault = deps.faults.draw(method);
    if (latencyMs > 0) await sleep(latencyMs);
    // Read in full: from here the portal does the work whatever becomes of the connection.
    const held = deps.gate?.pass(method, params);
    if (held) await held;
    if (fault === 'drop' && dropWhen === 'before') {
      record(0, undefined, null, 'drop');
      req.socket.destroy();
      return;
    }
    if (fault === 'error' && errorWhen === 'before') {
      record(500, 'INTERNAL_SERVER_ERROR', null, 'error');
      return fail(new PortalError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
    if (!deps.bucket.take(req.socket.remoteAddress ?? 'unknown', at)) {
      deps.faults.refund(fault);
      record(503, 'QUERY_LIMIT_EXCEEDED', null);
      return fail(new PortalError(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'));
    }
    let auth: CallerAuth;
    let credential: string;
    try {
      if (m[1] !== undefined) {
        auth = state.auth.webhook(Number(m[1]), decodeURIComponent(m[2] as string));
        credential = `webhook:${m[1]}:${m[2]}`;
      } else {
        auth = state.auth.accessToken(authToken, at);
        credential = `app:${auth.clientId ?? ''}`;
      }
    } catch (err) {
      if (!(err instanceof PortalError)) throw err;
      deps.faults.refund(fault);
      record(err.status, err.error, null);
      return fail(err);
    }

    const headers: Record<string, string> = key !== undefined ? { 'Idempotency-Key': key } : {};
    let check: ReturnType<IdempotencyCache['check']> | undefined;
    if (key !== undefined && method !== 'batch' && isWrite(method)) {
      try {
        check = keys.check(key, { credential, userId: auth.userId, method }, params, at);
      } catch (err) {
        if (!(err instanceof PortalError)) throw err;
        record(err.status, err.error, auth);
        return fail(err);
      }
    }
    let status: number;
    let text: string;
    if (check && 'replay' in check) {
      calls.add({ seq: calls.nextSeq(), method, params, auth: auth.kind, userId: auth.userId, time: at, status: check.replay.status, api: 'v3', idempotencyKey: key as string, replayed: true });
      ({ status, text } = check.replay);
      headers['Idempotent-Replayed'] = 'true';
    } else {
      const outcome = await dispatcher.invoke({ method, params, auth, credential, api: 'v3' });
      if (key !== undefined) {
        const mine = calls.records.findLast((c) => c.seq === outcome.seq);
        if (mine) mine.idempotencyKey = key;
      }
      status = outcome.status;
      text = outcomeText(outcome);
      if (fault === 'error') {
        // errorWhen 'after': the work is done, then the request fails; the key keeps no failure, so a resend runs again.
        status = 500;
        text = JSON.stringify(v3ErrorBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
        const mine = calls.records.findLast((c) => c.seq === outcome.seq);
        if (mine) mine.fault = 'error';
      }
      if (check && 'run' in check) check.run(status, text);
      if (fault === 'drop') {
        const mine = calls.records.findLast((c) => c.seq === outcome.seq);
        if (mine) mine.fault = 'drop';
      }
    }
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    answer(res, status, text, headers);
  };
}

/** The body as JSON: empty is no params; another content type or bad JSON is INVALIDJSONEXCEPTION. */
function parseJson(text: string, contentType: string | undefined): unknown {
  if (text.trim() === '') return {};
  const ct = (contentType ?? '').toLowerCase();
  const bad = (): PortalError => new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION', 'The request body is not valid JSON (REST 3.0 takes JSON only, with Content-Type: application/json)');
  if (ct !== '' && !ct.includes('json')) throw bad();
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object') throw bad();
    return v;
  } catch {
    throw bad();
  }
}

/**
 * A REST 3.0 batch for the dispatcher: each `{method, query}` runs as its own REST 3.0 call (recorded as the
 * batch's sub-command `0`, `1` ...), in order; `result` is the array of their results. The docs show only a
 * success; a call that fails puts its `{error}` object in its place (UNCONFIRMED).
 */
export async function runV3Batch(inv: Invocation, seq: number, run: (inv: Invocation) => Promise<Outcome>, offsetMinutes: number, now: number): Promise<Outcome> {
  const list = (inv.params.calls ?? []) as unknown[];
  if (list.length > MAX_BATCH) throw new PortalError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
  const results: unknown[] = [];
  let cost = 0;
  for (const [i, raw] of list.entries()) {
    const c = raw as { method?: unknown; query?: unknown };
    if (!c || typeof c !== 'object' || typeof c.method !== 'string' || (c.query !== undefined && (typeof c.query !== 'object' || c.query === null || Array.isArray(c.query)))) {
      results.push(v3ErrorBody('BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION', `batch[${i}] must be {method, query}`));
      continue;
    }
    if (c.method.toLowerCase() === 'batch') {
      results.push(v3ErrorBody('ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage'));
      continue;
    }
    const o = await run({ method: c.method, params: (c.query ?? {}) as Params, auth: inv.auth, credential: inv.credential, batch: { parent: seq, key: String(i) }, api: 'v3' });
    cost += o.cost;
    results.push(o.ok ? o.result : v3ErrorBody(o.error, o.error_description, o.validation));
  }
  return { ok: true, status: 200, result: results, time: timeInfo(now, cost, offsetMinutes), cost };
}
