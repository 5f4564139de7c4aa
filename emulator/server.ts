/**
 * The HTTP layer: routes `/rest/{user}/{code}/{method}` (webhook) and
 * `/rest/{method}` (OAuth, `auth` in query, form or JSON body),
 * `/rest/api/...` (REST 3.0: rest-v3.ts) and `/oauth/token/`, parses
 * PHP-style query strings and form or JSON bodies,
 * injects faults, applies the leaky bucket, authenticates, and writes the
 * portal's envelopes with the portal's HTTP statuses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../engine/logger.js';
import type { B24Envelope, B24ErrorBody } from '../engine/wire/index.js';
import { OAuthError } from './auth.js';
import type { CallLog } from './calls.js';
import type { Dispatcher, Outcome } from './dispatch.js';
import type { FaultInjector } from './faults.js';
import type { LeakyBucket } from './limits.js';
import { readBody } from './http-body.js';
import { parsePhpQuery } from './php-query.js';
import { createV3Handler } from './rest-v3.js';
import type { EmulatorState } from './state.js';
import type { WorkGate } from './work-gate.js';
import { PortalError, type CallerAuth, type Params } from './types.js';

export interface ServerDeps {
  state: EmulatorState;
  dispatcher: Dispatcher;
  bucket: LeakyBucket;
  faults: FaultInjector;
  calls: CallLog;
  logger: Logger;
  /** Holds requests after they were read, before their work (Emulator.hold). */
  gate?: WorkGate;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function envelope(o: Outcome): B24Envelope | B24ErrorBody {
  if (!o.ok) return { error: o.error, error_description: o.error_description };
  return { result: o.result, ...(o.next !== undefined ? { next: o.next } : {}), ...(o.total !== undefined ? { total: o.total } : {}), time: o.time };
}

/** multipart/form-data (general-principles.md lists it): fields become PHP-style params; a file part becomes `[name, base64]`, the portal's file form. */
async function parseMultipart(body: Buffer, contentType: string): Promise<Params> {
  let form: FormData;
  try {
    form = await new Request('http://emulator/', { method: 'POST', headers: { 'Content-Type': contentType }, body }).formData();
  } catch {
    throw new PortalError(400, 'INVALID_REQUEST', 'The multipart/form-data body could not be parsed');
  }
  const pairs: string[] = [];
  const files: Array<[string, string, string]> = [];
  for (const [key, value] of form.entries()) {
    if (typeof value === 'string') pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    else files.push([key, value.name, Buffer.from(await value.arrayBuffer()).toString('base64')]);
  }
  const params = parsePhpQuery(pairs.join('&'));
  for (const [key, name, b64] of files) {
    const extra = parsePhpQuery(`${encodeURIComponent(key)}[0]=${encodeURIComponent(name)}&${encodeURIComponent(key)}[1]=${encodeURIComponent(b64)}`);
    Object.assign(params, extra);
  }
  return params;
}

function parseBody(text: string, contentType: string | undefined): Params {
  if (text.trim() === '') return {};
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/json') || (!ct.includes('form') && /^\s*[{[]/.test(text))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PortalError(400, 'INVALID_REQUEST', 'The request body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PortalError(400, 'INVALID_REQUEST', 'The JSON body must be an object of parameters');
    return parsed as Params;
  }
  return parsePhpQuery(text);
}

type Route = { kind: 'webhook'; userId: number; code: string; method: string } | { kind: 'oauth'; method: string } | { kind: 'token' } | { kind: 'none' };

function route(pathname: string): Route {
  if (/^\/oauth\/token\/?$/.test(pathname)) return { kind: 'token' };
  let m = /^\/rest\/(\d+)\/([^/]+)\/([^/]+?)(?:\.json)?\/?$/.exec(pathname);
  if (m) return { kind: 'webhook', userId: Number(m[1]), code: decodeURIComponent(m[2] as string), method: decodeURIComponent(m[3] as string) };
  m = /^\/rest\/([^/]+?)(?:\.json)?\/?$/.exec(pathname);
  if (m) return { kind: 'oauth', method: decodeURIComponent(m[1] as string) };
  return { kind: 'none' };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The request listener for node:http / node:https. */
export function createHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const v3 = createV3Handler(deps);
  return (req, res) => {
    handle(deps, req, res, v3).catch((err: unknown) => {
      deps.logger.error({ err }, 'emulator: unexpected error answering a request');
      if (!res.headersSent) send(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
      else res.destroy();
    });
  };
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, v3: ReturnType<typeof createV3Handler>): Promise<void> {
  const { state, calls } = deps;
  calls.countRequest();
  const url = new URL(req.url ?? '/', 'http://emulator');
  // REST 3.0 reads its own body (JSON only, a batch is an array).
  if (url.pathname.startsWith('/rest/api/')) return v3(req, res, url);
  const r = route(url.pathname);
  const at = state.now();
  let params: Params;
  try {
    const body = await readBody(req);
    const ct = req.headers['content-type'] ?? '';
    const fromBody = ct.toLowerCase().includes('multipart/form-data') ? await parseMultipart(body, ct) : parseBody(body.toString('utf8'), ct);
    params = { ...parsePhpQuery(url.search.slice(1)), ...fromBody };
  } catch (err) {
    if (err instanceof PortalError) return send(res, err.status, { error: err.error, error_description: err.description });
    throw err;
  }

  if (r.kind === 'token') return token(deps, params, res);
  if (r.kind === 'none') return send(res, 404, { error: 'NOT_FOUND', error_description: `No such endpoint: ${url.pathname}. Use /rest/{user}/{code}/{method} or /rest/{method}` });

  if (/\.xml$/i.test(r.method)) {
    return send(res, 400, { error: 'INVALID_REQUEST', error_description: 'XML responses (.xml) are not supported by the b24-rules emulator: use .json or no suffix' });
  }
  const method = r.method.toLowerCase();
  const authToken = typeof params.auth === 'string' ? params.auth : undefined;
  delete params.auth;
  const record = (status: number, error: string | undefined, auth: CallerAuth | null, fault?: 'error' | 'drop'): void =>
    calls.add({ seq: calls.nextSeq(), method, params, auth: auth?.kind ?? null, userId: auth?.userId ?? null, time: at, status, ...(error ? { error } : {}), ...(fault ? { fault } : {}) });

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
    return send(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
  }

  const client = req.socket.remoteAddress ?? 'unknown';
  if (!deps.bucket.take(client, at)) {
    // Only a drop after running gets this far; the call does not run, so neither does its fault.
    deps.faults.refund(fault);
    record(503, 'QUERY_LIMIT_EXCEEDED', null);
    return send(res, 503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
  }

  let auth: CallerAuth;
  let credential: string;
  try {
    if (r.kind === 'webhook') {
      auth = state.auth.webhook(r.userId, r.code);
      credential = `webhook:${r.userId}:${r.code}`;
    } else {
      auth = state.auth.accessToken(authToken, at);
      credential = `app:${auth.clientId ?? ''}`;
    }
  } catch (err) {
    if (!(err instanceof PortalError)) throw err;
    deps.faults.refund(fault);
    record(err.status, err.error, null);
    return send(res, err.status, { error: err.error, error_description: err.description });
  }
  const outcome = await deps.dispatcher.invoke({ method: r.method, params, auth, credential });
  if (fault === 'drop') {
    const mine = calls.records.findLast((c) => c.seq === outcome.seq);
    if (mine) mine.fault = 'drop';
    req.socket.destroy();
    return;
  }
  if (fault === 'error') {
    // errorWhen 'after': the work is done, the answer is a 500.
    const mine = calls.records.findLast((c) => c.seq === outcome.seq);
    if (mine) mine.fault = 'error';
    return send(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
  }
  deps.logger.debug({ method, status: outcome.status, ...(outcome.ok ? {} : { error: outcome.error }), user: auth.userId, auth: auth.kind }, 'emulator: call');
  send(res, outcome.status, envelope(outcome));
}

function token(deps: ServerDeps, params: Params, res: ServerResponse): void {
  const { state } = deps;
  try {
    const out = state.auth.grant(params, state.now(), { rest: `${state.portal.baseUrl}/rest/`, domain: state.portal.domain, server: state.portal.serverEndpoint });
    send(res, 200, out);
  } catch (err) {
    if (err instanceof OAuthError) return send(res, err.status, { error: err.error, error_description: err.description });
    throw err;
  }
}
