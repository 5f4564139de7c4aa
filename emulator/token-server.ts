/**
 * One token server for a fleet of emulated portals, the stand-in for
 * oauth.bitrix.info: `GET|POST /oauth/token/?grant_type=refresh_token&...`
 * rotates any portal's pair and answers with that portal's member_id,
 * domain and client_endpoint (settings/oauth/auto-renewal.md). The portal is
 * found by the refresh token it issued, as the real server knows each
 * token's portal.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { B24RulesError } from '../engine/errors.js';
import type { Logger } from '../engine/logger.js';
import { OAuthError } from './auth.js';
import type { Emulator } from './emulator.js';
import { workerOf } from './fleet-record.js';
import { parsePhpQuery } from './php-query.js';

/** Requests kept in the token server's record (the oldest go first). */
const KEPT = 5000;

/** One request the token server answered. */
export interface TokenRequest {
  /** Index of the portal whose refresh token it carried; null when no portal issued it. */
  portal: number | null;
  /** The worker id from the user agent, or 'unknown'. */
  worker: string;
  /** `performance.now()` ms. */
  start: number;
  end: number;
  status: number;
  /** The token server's error code, when it refused. */
  error?: string;
}

export interface TokenServer {
  /** Base URL, e.g. `http://127.0.0.1:40100`. */
  readonly url: string;
  /** Requests answered, in order (the last 5,000). */
  readonly requests: readonly TokenRequest[];
  /** Every access and refresh token it issued (tests look for them in logs). */
  readonly issued: ReadonlySet<string>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new OAuthError(400, 'invalid_request', 'The request body is too large');
    chunks.push(c);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const fromBody = body.trim().startsWith('{') ? (JSON.parse(body) as Record<string, unknown>) : parsePhpQuery(body);
  return { ...parsePhpQuery(url.search.slice(1)), ...fromBody };
}

/** Start the fleet's token server; `portals` are the fleet's emulators, in fleet order (read at each request). */
export async function startTokenServer(options: {
  host: string;
  portals: () => readonly Emulator[];
  logger: Logger;
  /** Told of each request for a portal's token (once the portal is known); the function returned, when it is answered. */
  onPortalRequest?: (portal: number, worker: string, start: number) => () => void;
}): Promise<TokenServer> {
  const requests: TokenRequest[] = [];
  const issued = new Set<string>();
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const start = performance.now();
    const url = new URL(req.url ?? '/', 'http://token-server');
    let portal: number | null = null;
    let finished: (() => void) | undefined;
    const done = (status: number, body: unknown, error?: string): void => {
      send(res, status, body);
      finished?.();
      requests.push({ portal, worker: workerOf(req.headers['user-agent']), start, end: performance.now(), status, ...(error ? { error } : {}) });
      if (requests.length > KEPT + KEPT / 10) requests.splice(0, requests.length - KEPT);
    };
    if (!/^\/oauth\/token\/?$/.test(url.pathname)) {
      return done(404, { error: 'NOT_FOUND', error_description: `No such endpoint: ${url.pathname}. The token server answers /oauth/token/` }, 'NOT_FOUND');
    }
    try {
      const params = await readParams(req, url);
      const all = options.portals();
      const refresh = typeof params['refresh_token'] === 'string' ? params['refresh_token'] : '';
      const owner = refresh === '' ? -1 : all.findIndex((e) => e.ownsRefreshToken(refresh));
      portal = owner >= 0 ? owner : null;
      if (portal !== null) finished = options.onPortalRequest?.(portal, workerOf(req.headers['user-agent']), start);
      // No portal issued the token: any portal's grant refuses it with the error due (invalid_request, invalid_client or invalid_grant).
      const emu = all[owner >= 0 ? owner : 0];
      if (!emu) return done(400, { error: 'invalid_grant', error_description: 'Invalid refresh token' }, 'invalid_grant');
      const granted = emu.grantToken(params);
      for (const t of [granted.access_token, granted.refresh_token]) if (typeof t === 'string') issued.add(t);
      done(200, granted);
    } catch (err) {
      if (err instanceof OAuthError) return done(err.status, { error: err.error, error_description: err.description }, err.error);
      if (err instanceof SyntaxError) return done(400, { error: 'invalid_request', error_description: 'The JSON body could not be parsed' }, 'invalid_request');
      throw err;
    }
  };
  const server: Server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'emulator fleet: the token server failed answering a request');
      if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: 'Internal server error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new B24RulesError('EMULATOR_LISTEN', `the fleet's token server cannot listen on ${options.host}: ${err.message}`, { kind: 'operational', cause: err })));
    server.listen(0, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
