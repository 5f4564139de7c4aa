/**
 * A worker's receivers of outgoing webhooks and form hooks, for every portal of the deployment,
 * on the worker's HTTP server (the single daemon's are engine/sources/outgoing-webhook.ts and
 * form-webhook.ts, which these share their parsing with):
 *
 * - `POST /b24/events`: Bitrix24 posts an event with `auth[member_id]`, `auth[domain]` and
 *   `auth[application_token]`. The portal is found by member_id (else by domain: a webhook portal
 *   added under another key) and the token checked, in constant time, against the one in its row
 *   (an installed app's, from ONAPPINSTALL): no token 401, an unknown portal 404, an unknown
 *   member_id whose domain two portals have 409, a portal without a token or with another one 403. Nothing sent is echoed but the member_id.
 * - `POST /hooks/<member_id>/<the rule's path>`: a webhook rule of that portal's rule set, with
 *   the rule's secret as in the daemon (`X-Rules-Secret` or `?secret=`).
 *
 * Either way the event is stored in the portal's inbox in PostgreSQL (addToPortalInbox: one
 * committed INSERT, safe beside the lease holder) before the 200, whichever worker receives it:
 * the holder's engine picks it up at its next tick. A disabled portal's events are stored too, and
 * done once it is enabled again. ONOFFLINEEVENT is answered and not stored: workers poll at their
 * own pace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { silentLogger, type Logger } from '../logger.js';
import { findPortal, PortalsError, type Portal, type PortalRegistry } from '../portals/index.js';
import { formatDiagnostics, loadRules, type Diagnostic } from '../rules/index.js';
import { buildFormRoutes, normalizeHookPath, OUTGOING_WEBHOOK_DEFAULTS, parseBody, readBody, readFormRequest, readOutgoingEvent, RequestBodyError, safeEqual, type FormRoute } from '../sources/index.js';
import type { Counter, MetricsRegistry, RequestHandler } from '../status/index.js';
import { addToPortalInbox, type InboxItemInput, type PgBridge } from '../store/index.js';
import { portalRulePaths } from './portal-runner.js';

export interface WebhookReceiversOptions {
  registry: PortalRegistry;
  /** The control plane's pool: portal lookups and the inbox inserts. */
  pool: pg.Pool;
  databaseUrl: string;
  /** The worker's state connection: a portal never served gets its schema on it. */
  bridge: () => PgBridge;
  /** The shared rule paths (a portal's rule set adds its folder). */
  rulesPaths: string[];
  env: Record<string, string | undefined>;
  logger: Logger;
  clock: Clock;
  /** The worker's own metrics: `b24rules_worker_webhook_events_total{source, outcome}`. */
  metrics: MetricsRegistry;
}

export const RECEIVER_DEFAULTS = {
  /** @default '/b24/events' */
  eventsPath: OUTGOING_WEBHOOK_DEFAULTS.path,
  /** @default '/hooks' */
  hooksBase: '/hooks',
  /** @default 1 MiB */
  maxBodyBytes: OUTGOING_WEBHOOK_DEFAULTS.maxBodyBytes,
  /** @default 32 */
  maxDepth: OUTGOING_WEBHOOK_DEFAULTS.maxDepth,
};

/** The receivers: their handlers for the status server, and what the worker tells them. */
export interface WebhookReceivers {
  readonly handlers: RequestHandler[];
  /** The rule files changed: the form routes are built again from them (a rule set with errors keeps its last good routes). */
  reload(): void;
}

type Answer = { status: number; body: Record<string, unknown> };

/** A rule set's files have errors: its form routes are not built from them. */
class RulesHaveErrors extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`the portal's rules have ${diagnostics.length} error(s)`);
  }
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(answer.body));
}

/** Create the receivers (their routes answer once mounted). */
export function createWebhookReceivers(options: WebhookReceiversOptions): WebhookReceivers {
  const { logger, clock } = options;
  const limits = { maxBodyBytes: RECEIVER_DEFAULTS.maxBodyBytes, maxDepth: RECEIVER_DEFAULTS.maxDepth };
  const counted: Counter = options.metrics.counter('b24rules_worker_webhook_events_total', 'Outgoing-webhook events and form submissions this worker received, by source and outcome (stored, duplicate, signal, refused, failed).', ['source', 'outcome']);
  const target = { pool: options.pool, url: options.databaseUrl, bridge: options.bridge };
  /** Form routes by rule set (null: the shared rules only), built on first use. */
  let routes = new Map<string | null, Promise<Map<string, FormRoute> | Error>>();
  /** The last routes each rule set built without errors: kept across reloads, as the portal's engine keeps its last good rules. */
  const lastGood = new Map<string | null, Map<string, FormRoute>>();

  const refuse = (source: 'outgoing' | 'form', status: number, error: string): Answer => {
    counted.inc({ source, outcome: 'refused' });
    return { status, body: { error } };
  };

  async function store(source: 'outgoing' | 'form', portal: Portal, item: InboxItemInput): Promise<Answer> {
    try {
      const { inserted } = await addToPortalInbox(target, portal.memberId, [item]);
      counted.inc({ source, outcome: inserted > 0 ? 'stored' : 'duplicate' });
      logger.debug({ portal: portal.domain, source, duplicate: inserted === 0 }, `${source} webhook: stored for portal ${portal.domain}`);
      return { status: 200, body: { ok: true, ...(source === 'form' ? { duplicate: inserted === 0 } : {}) } };
    } catch (err) {
      counted.inc({ source, outcome: 'failed' });
      logger.error({ err, portal: portal.domain, source }, `${source} webhook: could not store it for portal ${portal.domain}; answered 500`);
      return { status: 500, body: { error: source === 'form' ? 'could not store the request' : 'could not store the event' } };
    }
  }

  async function event(req: IncomingMessage): Promise<Answer> {
    if (req.method !== 'POST') return refuse('outgoing', 405, 'use POST');
    let body: Record<string, unknown>;
    try {
      body = parseBody(await readBody(req, limits.maxBodyBytes), req.headers['content-type'], limits.maxDepth);
    } catch (err) {
      if (err instanceof RequestBodyError) return refuse('outgoing', err.status, err.message);
      throw err;
    }
    const read = readOutgoingEvent(body, clock.now());
    if (!read) return refuse('outgoing', 401, 'auth[application_token] is required');
    if (!read.memberId && !read.domain) return refuse('outgoing', 400, 'auth[member_id] is required: it names the portal the event comes from');
    const remote = req.socket.remoteAddress;
    let portal: Portal | undefined;
    try {
      portal = (read.memberId ? await findPortal(options.pool, read.memberId) : undefined) ?? (read.domain ? await findPortal(options.pool, read.domain) : undefined);
    } catch (err) {
      // Two portals of the deployment have the event's domain and neither its member_id: the sender's mistake
      // or the deployment's, not an outage (a 503 would ask it to try again). Their member_ids are not echoed.
      if (!(err instanceof PortalsError && err.code === 'PORTAL_INVALID')) throw err;
      logger.warn({ remote, error: err.message }, 'outgoing webhook: the event names no portal by member_id and more than one by domain; refused');
      const named = read.memberId ? `no portal of this deployment has member_id '${read.memberId.slice(0, 64)}', and more than one` : 'the event names no member_id, and more than one portal of this deployment';
      return refuse('outgoing', 409, `${named} has the event's domain: add the portal under its member_id (see rules portals list)`);
    }
    if (!portal) {
      logger.warn({ remote }, 'outgoing webhook: an event for a portal this deployment does not have; refused');
      return refuse('outgoing', 404, `no portal of this deployment has ${read.memberId ? `member_id '${read.memberId.slice(0, 64)}'` : "the event's domain"} (see rules portals list)`);
    }
    // A refusal names the portal as the sender did: a portal found by its domain is not named by its member_id.
    const shown = portal.memberId === read.memberId ? `portal ${portal.memberId}` : "the event's domain's portal";
    const known = await options.registry.applicationToken(portal.memberId);
    if (!known?.token) {
      logger.warn({ portal: portal.domain, remote }, 'outgoing webhook: the portal has no application_token (the app is not installed); refused');
      return refuse('outgoing', 403, `${shown} has no application_token here: events are taken from a portal the app is installed on (ONAPPINSTALL at /b24/app)`);
    }
    if (!known.live) {
      logger.warn({ portal: portal.domain, remote }, 'outgoing webhook: an event from a portal the app was uninstalled from; refused');
      return refuse('outgoing', 403, `the app is uninstalled from ${shown}: its events are not taken`);
    }
    if (!safeEqual(read.token, known.token)) {
      logger.warn({ portal: portal.domain, remote }, 'outgoing webhook: wrong application_token; refused');
      return refuse('outgoing', 403, `application_token does not match ${shown}'s`);
    }
    if (!read.event) return refuse('outgoing', 400, 'event is required');
    if (read.event.name === 'ONOFFLINEEVENT') {
      counted.inc({ source: 'outgoing', outcome: 'signal' });
      return { status: 200, body: { ok: true } };
    }
    return store('outgoing', portal, read.event.item);
  }

  /** The form routes of a rule set: built from its rule files, else its last good ones, else the error its rules have. */
  function routesOf(ruleSet: string | null): Promise<Map<string, FormRoute> | Error> {
    let built = routes.get(ruleSet);
    if (!built) {
      built = buildRoutes(ruleSet).then(
        (table) => {
          lastGood.set(ruleSet, table);
          return table;
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          const previous = lastGood.get(ruleSet);
          const diagnostics = err instanceof RulesHaveErrors ? err.diagnostics : [];
          for (const d of diagnostics) logger.error({ file: d.file, line: d.line, col: d.col, rule: d.ruleId, code: d.code, ruleSet }, formatDiagnostics([d], 'text').trimEnd());
          logger.error(
            { err: diagnostics.length ? undefined : error, errors: diagnostics.length, ruleSet },
            previous ? 'form webhooks: the rule files have errors; the last good form routes keep answering' : 'form webhooks: the rule files have errors and no good form routes were built before; form hooks are answered 503',
          );
          return previous ?? error;
        },
      );
      routes.set(ruleSet, built);
    }
    return built;
  }

  async function buildRoutes(ruleSet: string | null): Promise<Map<string, FormRoute>> {
    const loaded = await loadRules(portalRulePaths(options.rulesPaths, ruleSet), { env: options.env });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new RulesHaveErrors(errors);
    // The engine serving the portal logs the warnings of its webhook rules (no secret, an empty one).
    return buildFormRoutes(loaded.rules, { env: options.env, base: RECEIVER_DEFAULTS.hooksBase, logger: silentLogger });
  }

  async function form(req: IncomingMessage, url: URL): Promise<Answer> {
    // /hooks/<member_id>/<rule path>: the portal, then the path the rule's webhook trigger names.
    const rest = url.pathname.slice(RECEIVER_DEFAULTS.hooksBase.length + 1).replace(/\/+$/, '');
    const slash = rest.indexOf('/');
    let name: string;
    try {
      name = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
    } catch {
      return refuse('form', 400, 'the portal in the path is not valid percent-encoding');
    }
    const hookPath = RECEIVER_DEFAULTS.hooksBase + normalizeHookPath(slash === -1 ? '' : rest.slice(slash + 1));
    if (!name || hookPath === RECEIVER_DEFAULTS.hooksBase) return refuse('form', 404, `post to ${RECEIVER_DEFAULTS.hooksBase}/<portal member_id>/<the rule's webhook path>`);
    const portal = await findPortal(options.pool, name);
    if (!portal) return refuse('form', 404, `no portal of this deployment is '${name.slice(0, 64)}' (see rules portals list)`);
    const table = await routesOf(portal.ruleSet);
    if (table instanceof Error) {
      logger.warn({ portal: portal.domain, error: table.message }, `form webhook: portal ${portal.domain}'s rules cannot be loaded; answered 503`);
      return refuse('form', 503, `portal ${portal.memberId}'s rules cannot be loaded; see the worker's log`);
    }
    const route = table.get(hookPath);
    if (!route) return refuse('form', 404, `no webhook rule of portal ${portal.memberId} listens on ${hookPath}`);
    if (req.method !== 'POST') return refuse('form', 405, 'use POST');
    const read = await readFormRequest(route, hookPath, req, url, limits, clock.now());
    if ('status' in read) return refuse('form', read.status, read.message);
    return store('form', portal, read.item);
  }

  /** An answer, or 503 when the database cannot be read or written (nothing was stored: the sender may try again). */
  async function answer(source: 'outgoing' | 'form', work: () => Promise<Answer>): Promise<Answer> {
    try {
      return await work();
    } catch (err) {
      counted.inc({ source, outcome: 'failed' });
      logger.error({ err, source }, `${source} webhook: the deployment's database failed; answered 503`);
      return { status: 503, body: { error: "the deployment's database is not available; nothing was stored" } };
    }
  }

  const handler: RequestHandler = async (req, res, url) => {
    if (url.pathname === RECEIVER_DEFAULTS.eventsPath) {
      send(res, await answer('outgoing', () => event(req)));
      return true;
    }
    if (url.pathname === RECEIVER_DEFAULTS.hooksBase || url.pathname.startsWith(`${RECEIVER_DEFAULTS.hooksBase}/`)) {
      send(res, await answer('form', () => form(req, url)));
      return true;
    }
    return false;
  };

  return {
    handlers: [handler],
    reload() {
      routes = new Map();
    },
  };
}
