/**
 * Outgoing-webhook source: Bitrix24 POSTs each event (form-encoded:
 * `event`, `event_handler_id`, `data[FIELDS][ID]`, `ts`, `auth[...]`) to this
 * receiver. It checks `auth[application_token]` in constant time, stores the
 * event in the inbox durably and only then answers 200: the portal never
 * re-sends a failed delivery, so a 200 must mean "kept". A store failure
 * answers 500. Works with webhook auth as well as OAuth apps.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registerSecret } from '../redact.js';
import type { RequestHandler } from '../status/index.js';
import { DEFAULTS as BODY_DEFAULTS, parseBody, readBody, RequestBodyError, safeEqual, sendJson, stableHash } from './http-body.js';
import { startSource, type SourcePlugin } from './plugin.js';
import type { InboxItemInput } from '../store/index.js';
import { recordAdded, retireFinished, type Source, type SourceContext } from './types.js';

export interface OutgoingWebhookConfig {
  /** The token shown in the outgoing-webhook settings (or received with ONAPPINSTALL). */
  applicationToken: string;
  /** URL path the portal posts to. @default '/b24/events' */
  path?: string;
  /** Largest body accepted, bytes. @default 1048576 */
  maxBodyBytes?: number;
  /** Deepest nesting of objects and arrays accepted (the body is level 1). @default 32 */
  maxDepth?: number;
  /** Called for ONOFFLINEEVENT (a "poll now" signal) instead of storing it. */
  onOfflineSignal?: () => void;
}

export const DEFAULTS = {
  /** @default '/b24/events' */
  path: '/b24/events',
  /** @default 1 MiB */
  maxBodyBytes: BODY_DEFAULTS.maxBodyBytes,
  /** @default 32 levels */
  maxDepth: BODY_DEFAULTS.maxDepth,
};

/** An outgoing-webhook body read: where it comes from (never kept: the token), and the inbox row it becomes. */
export interface OutgoingEvent {
  /** `auth[application_token]`: checked by the receiver, never stored. */
  token: string;
  /** `auth[member_id]` and `auth[domain]`, as sent ('' when missing). */
  memberId: string;
  domain: string;
  /**
   * The event (its name upper case) and the inbox row it becomes (source `outgoing`, keyed by a hash of the event,
   * its `ts` and its data: a repeat is a duplicate); null without `event` (answer 400 once the token is checked).
   */
  event: { name: string; item: InboxItemInput } | null;
}

/**
 * Read a parsed outgoing-webhook body, or null without `auth[application_token]` (answer 401). The row keeps where
 * the event came from, never a token.
 */
export function readOutgoingEvent(body: Record<string, unknown>, receivedAt: number): OutgoingEvent | null {
  const auth = (body.auth && typeof body.auth === 'object' ? body.auth : {}) as Record<string, unknown>;
  const token = auth.application_token;
  if (typeof token !== 'string' || token === '') return null;
  const origin = { token, memberId: typeof auth.member_id === 'string' ? auth.member_id : '', domain: typeof auth.domain === 'string' ? auth.domain : '' };
  const name = typeof body.event === 'string' ? body.event.toUpperCase() : '';
  if (!name) return { ...origin, event: null };
  const data = body.data && typeof body.data === 'object' ? (body.data as Record<string, unknown>) : {};
  const payload: Record<string, unknown> = {
    event: name,
    event_handler_id: body.event_handler_id ?? null,
    data,
    ts: body.ts ?? null,
    // Tokens are never stored: only where the event came from.
    auth: { domain: auth.domain ?? null, member_id: auth.member_id ?? null },
  };
  const key = stableHash({ event: name, ts: body.ts ?? null, data });
  return { ...origin, event: { name, item: { source: 'outgoing', key, event: name, ruleId: null, payload, receivedAt } } };
}

export interface OutgoingWebhookSource extends Source {
  /** Mount on the status server. */
  readonly handler: RequestHandler;
  readonly path: string;
  acknowledge(): Promise<void>;
}

/** Create the receiver. It takes requests between `start()` and `stop()`; outside that it answers 503. */
export function createOutgoingWebhookSource(config: OutgoingWebhookConfig, ctx: SourceContext): OutgoingWebhookSource {
  if (!config.applicationToken) throw new Error('outgoing webhook source needs an application token');
  registerSecret(config.applicationToken);
  const path = config.path ?? DEFAULTS.path;
  const maxBody = config.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const maxDepth = config.maxDepth ?? DEFAULTS.maxDepth;
  let accepting = false;

  const reject = (res: ServerResponse, status: number, reason: string, message: string) => {
    ctx.metrics?.webhookRejected.inc({ source: 'outgoing', reason });
    sendJson(res, status, { error: message });
  };

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return reject(res, 405, 'method', 'use POST');
    if (!accepting) return reject(res, 503, 'stopping', 'not accepting events');
    let body: Record<string, unknown>;
    try {
      body = parseBody(await readBody(req, maxBody), req.headers['content-type'], maxDepth);
    } catch (err) {
      if (err instanceof RequestBodyError) return reject(res, err.status, 'body', err.message);
      throw err;
    }
    const read = readOutgoingEvent(body, ctx.clock.now());
    if (!read) return reject(res, 401, 'token_missing', 'auth[application_token] is required');
    if (!safeEqual(read.token, config.applicationToken)) {
      ctx.logger.warn({ remote: req.socket.remoteAddress }, 'outgoing webhook: wrong application_token, refused');
      return reject(res, 403, 'token_mismatch', 'application_token does not match');
    }
    if (!read.event) return reject(res, 400, 'no_event', 'event is required');
    const { name: event, item } = read.event;
    if (event === 'ONOFFLINEEVENT' && config.onOfflineSignal) {
      config.onOfflineSignal();
      return sendJson(res, 200, { ok: true });
    }
    const data = (item.payload as { data: Record<string, unknown> }).data;
    let result: { inserted: number; duplicates: number };
    try {
      result = ctx.inbox.add([item]);
    } catch (err) {
      ctx.logger.error({ err, event }, 'outgoing webhook: could not store the event; answered 500');
      ctx.metrics?.webhookRejected.inc({ source: 'outgoing', reason: 'store' });
      return sendJson(res, 500, { error: 'could not store the event' });
    }
    recordAdded(ctx, 'outgoing', result);
    ctx.logger.debug({ event, id: (data.FIELDS as Record<string, unknown> | undefined)?.ID, duplicate: result.inserted === 0 }, 'outgoing webhook: event stored');
    sendJson(res, 200, { ok: true });
  }

  const handler: RequestHandler = async (req, res, url) => {
    if (url.pathname !== path) return false;
    await receive(req, res);
    return true;
  };

  return {
    kind: 'outgoing',
    path,
    handler,
    async start() {
      accepting = true;
    },
    async stop() {
      accepting = false;
    },
    async acknowledge() {
      retireFinished(ctx, 'outgoing');
    },
  };
}

/**
 * The outgoing-webhook plug-in: attached when an application token is
 * configured; a receiver on the daemon's server. An ONOFFLINEEVENT push wakes
 * the offline poller when one is attached (otherwise it is stored as an event).
 */
export const outgoingWebhookPlugin: SourcePlugin = {
  kind: 'outgoing',
  triggers: ['event'],
  applies: (setup) => Boolean(setup.applicationToken),
  async attach(ctx) {
    const offline = ctx.attached('offline');
    const wake = offline?.wake ? () => offline.wake?.() : undefined;
    const source = await startSource(createOutgoingWebhookSource({ applicationToken: ctx.setup.applicationToken ?? '', ...(wake ? { onOfflineSignal: wake } : {}) }, ctx));
    return {
      kind: source.kind,
      routes: [source.handler],
      detach: () => source.stop(),
      acknowledge: () => source.acknowledge(),
      describe: (baseUrl) => ({ events: `${baseUrl ?? ''}${source.path}` }),
    };
  },
};
