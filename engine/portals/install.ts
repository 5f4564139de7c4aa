/**
 * The install endpoint, `POST /b24/app` on a worker's status server: where
 * Bitrix24 sends ONAPPINSTALL and ONAPPUNINSTALL for a Marketplace (or local)
 * app, form-encoded like every event.
 *
 * - ONAPPINSTALL: a portal whose install is live with another
 *   application_token is refused (403). Otherwise the refresh token is
 *   exchanged at the app's token server with the app's client_id and secret:
 *   a forged install cannot bring a refresh token that works, and the
 *   answer's member_id must be the portal's. The new pair is committed and
 *   the portal enabled; a worker takes its lease at its next round.
 * - ONAPPUNINSTALL: the application_token must be the stored one (else 403);
 *   the portal is disabled and its tokens cleared (the worker serving it
 *   stops at its next renewal); `data[CLEAN]=1` also calls `onClean`, which
 *   drops the portal's state.
 *
 * Answers say what is wrong and never echo a token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { registerSecret, registerSecretSlot } from '../redact.js';
import { parseBody, readBody, RequestBodyError, safeEqual } from '../sources/index.js';
import type { RequestHandler } from '../status/index.js';
import { domainOf } from './portal-key.js';
import type { PortalRegistry } from './registry.js';
import { checkRefreshToken, type AppCredentials } from './token-server.js';

/** Defaults of the install endpoint. */
export const INSTALL_DEFAULTS = {
  /** @default '/b24/app' */
  path: '/b24/app',
  /** @default 64 KiB: an install event is a few hundred bytes */
  maxBodyBytes: 64 * 1024,
};

export interface InstallHandlerOptions {
  registry: PortalRegistry;
  /** The app's client_id and secret and its token server (B24_CLIENT_ID, B24_CLIENT_SECRET, B24_OAUTH_URL). */
  app: AppCredentials;
  /** @default '/b24/app' */
  path?: string;
  /** For the token server (a private CA). */
  dispatcher?: Dispatcher;
  /** ms since the epoch, for the new token's expiry. @default Date.now */
  now?: () => number;
  logger?: Logger;
  /** ONAPPUNINSTALL with `data[CLEAN]=1`: drop the portal's state (the worker wires the store's). */
  onClean?: (memberId: string) => Promise<void> | void;
  /** Told after an install or uninstall is recorded. */
  onChange?: (change: { event: 'install' | 'uninstall'; memberId: string }) => void;
}

/** What the endpoint answers, as JSON. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const MEMBER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const refuse = (status: number, error: string): Answer => ({ status, body: { error } });

/** The handler to mount on the status server. */
export function createInstallHandler(options: InstallHandlerOptions): RequestHandler {
  const path = options.path ?? INSTALL_DEFAULTS.path;
  const logger = options.logger ?? silentLogger;
  const { registry, app } = options;
  registerSecret(app.clientSecret);

  async function install(auth: Record<string, unknown>, memberId: string, applicationToken: string, remote: string | undefined): Promise<Answer> {
    const refreshToken = str(auth.refresh_token);
    if (!refreshToken) return refuse(400, 'auth[refresh_token] is required in ONAPPINSTALL');
    const known = await registry.applicationToken(memberId);
    if (known?.live && !safeEqual(applicationToken, known.token ?? '')) {
      logger.warn({ portal: memberId, remote }, 'install endpoint: ONAPPINSTALL with another application_token for an installed portal; refused');
      return refuse(403, 'the app is installed on this portal with another application_token; install refused');
    }
    const check = await checkRefreshToken(app, refreshToken, { ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}), ...(options.now ? { now: options.now } : {}) });
    if (!check.ok) {
      logger.warn({ portal: memberId, remote, reason: check.reason }, 'install endpoint: ONAPPINSTALL not verified; refused');
      return refuse(403, `install not verified: ${check.reason}`);
    }
    const { grant } = check;
    if (grant.memberId !== memberId) {
      logger.warn({ portal: memberId, remote }, 'install endpoint: the refresh token belongs to another portal; refused');
      return refuse(403, 'install not verified: the refresh token belongs to another portal than auth[member_id]');
    }
    // Only the token server says where the portal is: the install body's client_endpoint is whatever the sender wrote.
    const clientEndpoint = grant.clientEndpoint;
    if (!clientEndpoint) {
      logger.warn({ portal: memberId, remote }, 'install endpoint: the token server did not say the portal\'s client_endpoint; refused');
      return refuse(502, 'install not verified: the token server answer has no client_endpoint');
    }
    // Verified: from here on these are this portal's secrets (one slot each, replaced by the next install).
    registerSecretSlot(`install:${memberId}`, [applicationToken, refreshToken, str(auth.access_token), grant.accessToken, grant.refreshToken]);
    const outcome = await registry.recordInstall({
      memberId,
      domain: domainOf(clientEndpoint),
      clientEndpoint,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      ...(grant.expiresAt !== undefined ? { expiresAt: grant.expiresAt } : {}),
      applicationToken,
    });
    if (outcome.status === 'refused') return refuse(403, 'the app is installed on this portal with another application_token; install refused');
    logger.info({ portal: memberId, domain: outcome.portal.domain, status: outcome.status }, 'install endpoint: portal installed');
    options.onChange?.({ event: 'install', memberId });
    return { status: 200, body: { ok: true, member_id: memberId, status: outcome.status } };
  }

  async function uninstall(data: Record<string, unknown>, memberId: string, applicationToken: string, remote: string | undefined): Promise<Answer> {
    const known = await registry.applicationToken(memberId);
    if (!known) return refuse(404, 'unknown portal: no such member_id is registered');
    if (known.token === null || !safeEqual(applicationToken, known.token)) {
      logger.warn({ portal: memberId, remote }, 'install endpoint: ONAPPUNINSTALL with a wrong application_token; refused');
      return refuse(403, 'application_token does not match the installed app; uninstall refused');
    }
    registerSecretSlot(`app:${memberId}`, [applicationToken]);
    await registry.recordUninstall(memberId);
    logger.info({ portal: memberId }, 'install endpoint: portal uninstalled (disabled, tokens cleared)');
    options.onChange?.({ event: 'uninstall', memberId });
    const clean = str(data.CLEAN) === '1';
    if (clean && options.onClean) {
      try {
        await options.onClean(memberId);
      } catch (err) {
        logger.error({ portal: memberId, err }, 'install endpoint: the portal is uninstalled, but dropping its state failed');
        return refuse(500, 'uninstalled, but dropping the portal state failed; drop it later with rules portals remove --drop-state');
      }
    }
    return { status: 200, body: { ok: true, member_id: memberId, status: 'uninstalled', cleaned: clean && options.onClean !== undefined } };
  }

  async function receive(req: IncomingMessage): Promise<Answer> {
    if (req.method !== 'POST') return refuse(405, 'use POST');
    let body: Record<string, unknown>;
    try {
      body = parseBody(await readBody(req, INSTALL_DEFAULTS.maxBodyBytes), req.headers['content-type']);
    } catch (err) {
      if (err instanceof RequestBodyError) return refuse(err.status, err.message);
      throw err;
    }
    const event = typeof body.event === 'string' ? body.event.toUpperCase() : '';
    if (event !== 'ONAPPINSTALL' && event !== 'ONAPPUNINSTALL') return refuse(400, 'event must be ONAPPINSTALL or ONAPPUNINSTALL');
    const auth = (body.auth && typeof body.auth === 'object' ? body.auth : {}) as Record<string, unknown>;
    const data = (body.data && typeof body.data === 'object' ? body.data : {}) as Record<string, unknown>;
    // Nothing from the body is registered as a secret before it is verified: anyone may post here, and a
    // registered string is masked in every log line from then on (a name posted as a token would vanish everywhere).
    const applicationToken = str(auth.application_token);
    if (!applicationToken) return refuse(401, 'auth[application_token] is required');
    const memberId = str(auth.member_id);
    if (!memberId) return refuse(400, 'auth[member_id] is required');
    if (!MEMBER_ID.test(memberId)) return refuse(400, 'auth[member_id] is malformed');
    const remote = req.socket.remoteAddress;
    return event === 'ONAPPINSTALL' ? install(auth, memberId, applicationToken, remote) : uninstall(data, memberId, applicationToken, remote);
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== path) return false;
    const answer = await receive(req);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(answer.body));
    return true;
  };
}
