/**
 * Inbound-webhook source (form submissions and other systems): `POST
 * /hooks/<path>` for each rule with a `webhook` trigger. The caller proves it
 * knows the rule's shared secret (header `X-Rules-Secret` or `?secret=`,
 * compared in constant time); the body (JSON or form) is stored in the inbox
 * for that rule and only then answered 200.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registerSecret } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import type { Logger } from '../logger.js';
import type { RequestHandler } from '../status/index.js';
import type { InboxItemInput } from '../store/index.js';
import { DEFAULTS as BODY_DEFAULTS, parseBody, readBody, RequestBodyError, safeEqual, sendJson, stableHash } from './http-body.js';
import { startSource, type SourcePlugin } from './plugin.js';
import { recordAdded, retireFinished, type Source, type SourceContext } from './types.js';

export interface FormWebhookConfig {
  /** The running rule set; only rules with a `webhook` trigger are used. */
  rules: CompiledRule[];
  /** Where `env.NAME` in a secret template is read from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** URL prefix. @default '/hooks' */
  basePath?: string;
  /** Largest body accepted, bytes. @default 1048576 */
  maxBodyBytes?: number;
  /** Deepest nesting of objects and arrays accepted (the body is level 1). @default 32 */
  maxDepth?: number;
}

export const DEFAULTS = {
  /** @default '/hooks' */
  basePath: '/hooks',
  /** @default 1 MiB */
  maxBodyBytes: BODY_DEFAULTS.maxBodyBytes,
  /** @default 32 levels */
  maxDepth: BODY_DEFAULTS.maxDepth,
};

/** What a form hook path leads to. */
export interface FormRoute {
  ruleId: string;
  /** undefined: the rule declares no secret; null: it declares one that renders empty (refuse all). */
  secret: string | undefined | null;
}
type Route = FormRoute;

/** A refusal to answer: the HTTP status, the reason label of `b24rules_webhook_rejected_total`, the message. */
export interface FormRefusal {
  status: number;
  reason: string;
  message: string;
}

export interface FormWebhookSource extends Source {
  readonly handler: RequestHandler;
  /** Swap the rule set (reload). */
  setRules(rules: CompiledRule[]): void;
  /** Mounted paths (`/hooks/forms/contact-us`) and their rules. */
  routes(): Array<{ path: string; ruleId: string }>;
  acknowledge(): Promise<void>;
}

/** Header names copied into the stored request (never auth or cookies). */
const KEPT_HEADERS = ['content-type', 'user-agent', 'x-request-id', 'x-forwarded-for', 'referer', 'origin'];

/** `/a/b` from ' a/b/ ' (no trailing slash; '' for the root). */
export function normalizePath(p: string): string {
  const s = `/${p.trim().replace(/^\/+|\/+$/g, '')}`;
  return s === '/' ? '' : s;
}

/**
 * The hook paths (`base` + each webhook rule's path) and their rules, each secret rendered from `env` (and
 * registered as a secret); a rule without a secret, one whose secret renders empty, and a path two rules use are
 * logged.
 */
export function buildFormRoutes(rules: CompiledRule[], options: { env: Record<string, string | undefined>; base: string; logger: Logger }): Map<string, FormRoute> {
  const { env, base, logger } = options;
  const next = new Map<string, Route>();
  for (const rule of rules) {
    if (!rule.enabled || rule.trigger.kind !== 'webhook') continue;
    const path = base + normalizePath(rule.trigger.path);
    let secret: Route['secret'];
    if (rule.trigger.secret) {
      const allowed: Record<string, string | undefined> = {};
      for (const name of rule.env) allowed[name] = env[name];
      const rendered = rule.trigger.secret.render({ env: allowed });
      secret = typeof rendered === 'string' && rendered !== '' ? rendered : typeof rendered === 'number' ? String(rendered) : null;
      registerSecret(secret);
      if (secret === null) {
        logger.error({ rule: rule.id, path }, `webhook rule ${rule.id}: its secret renders empty (is the environment variable set?); ${path} refuses every request until it is`);
      }
    } else {
      logger.warn({ rule: rule.id, path }, `webhook rule ${rule.id} has no secret: anyone who can reach ${path} can trigger it`);
    }
    if (next.has(path)) {
      logger.error({ rule: rule.id, path }, `webhook path ${path} is used by two rules; keeping ${next.get(path)?.ruleId}`);
      continue;
    }
    next.set(path, { ruleId: rule.id, secret });
  }
  return next;
}

/**
 * Check a submission to a hook (`path`, the route's) and read it into its inbox row: the secret (header
 * `X-Rules-Secret` or `?secret=`, constant time), then the body; or the refusal to answer. The stored request keeps
 * the body, the query without the secret, and a few harmless headers; its key is the `Idempotency-Key` (or
 * `X-Request-Id`) when sent, else a hash of body and query.
 */
export async function readFormRequest(
  route: FormRoute,
  path: string,
  req: IncomingMessage,
  url: URL,
  limits: { maxBodyBytes: number; maxDepth: number },
  receivedAt: number,
): Promise<{ item: InboxItemInput } | FormRefusal> {
  if (route.secret === null) return { status: 503, reason: 'secret_unset', message: 'this hook has no secret configured on the server' };
  if (route.secret !== undefined) {
    const header = req.headers['x-rules-secret'];
    const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('secret');
    if (!given) return { status: 401, reason: 'secret_missing', message: 'send the secret in the X-Rules-Secret header or ?secret=' };
    if (!safeEqual(given, route.secret)) return { status: 403, reason: 'secret_mismatch', message: 'wrong secret' };
  }
  let body: Record<string, unknown>;
  try {
    body = parseBody(await readBody(req, limits.maxBodyBytes), req.headers['content-type'], limits.maxDepth);
  } catch (err) {
    if (err instanceof RequestBodyError) return { status: err.status, reason: 'body', message: err.message };
    throw err;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (k !== 'secret') query[k] = v;
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const idem = req.headers['idempotency-key'] ?? req.headers['x-request-id'];
  const key = typeof idem === 'string' && idem !== '' ? `${route.ruleId}:${idem}` : `${route.ruleId}:${stableHash({ body, query })}`;
  return { item: { source: 'form', key, event: null, ruleId: route.ruleId, payload: { request: { path, body, query, headers } }, receivedAt } };
}

export function createFormWebhookSource(config: FormWebhookConfig, ctx: SourceContext): FormWebhookSource {
  const base = normalizePath(config.basePath ?? DEFAULTS.basePath);
  const maxBody = config.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const maxDepth = config.maxDepth ?? DEFAULTS.maxDepth;
  const env = config.env ?? process.env;
  let table = buildFormRoutes(config.rules, { env, base, logger: ctx.logger });
  let accepting = false;

  const reject = (res: ServerResponse, status: number, reason: string, message: string) => {
    ctx.metrics?.webhookRejected.inc({ source: 'form', reason });
    sendJson(res, status, { error: message });
  };

  async function receive(route: Route, path: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return reject(res, 405, 'method', 'use POST');
    if (!accepting) return reject(res, 503, 'stopping', 'not accepting requests');
    const read = await readFormRequest(route, path, req, url, { maxBodyBytes: maxBody, maxDepth }, ctx.clock.now());
    if ('status' in read) return reject(res, read.status, read.reason, read.message);
    let result: { inserted: number; duplicates: number };
    try {
      result = ctx.inbox.add([read.item]);
    } catch (err) {
      ctx.logger.error({ err, rule: route.ruleId }, 'form webhook: could not store the request; answered 500');
      ctx.metrics?.webhookRejected.inc({ source: 'form', reason: 'store' });
      return sendJson(res, 500, { error: 'could not store the request' });
    }
    recordAdded(ctx, 'form', result);
    ctx.logger.debug({ rule: route.ruleId, duplicate: result.inserted === 0 }, 'form webhook: request stored');
    sendJson(res, 200, { ok: true, duplicate: result.inserted === 0 });
  }

  const handler: RequestHandler = async (req, res, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    const route = table.get(path);
    if (!route) {
      if (base !== '' && (path === base || path.startsWith(`${base}/`))) {
        reject(res, 404, 'unknown_path', `no webhook rule listens on ${path}`);
        return true;
      }
      return false;
    }
    await receive(route, path, req, res, url);
    return true;
  };

  return {
    kind: 'form',
    handler,
    setRules(rules) {
      table = buildFormRoutes(rules, { env, base, logger: ctx.logger });
    },
    routes: () => [...table.entries()].map(([path, r]) => ({ path, ruleId: r.ruleId })),
    async start() {
      accepting = true;
    },
    async stop() {
      accepting = false;
    },
    async acknowledge() {
      retireFinished(ctx, 'form');
    },
  };
}

/** The form-webhook plug-in: always attached (a rule set without webhook rules mounts no path); a receiver on the daemon's server. */
export const formWebhookPlugin: SourcePlugin = {
  kind: 'form',
  triggers: ['webhook'],
  applies: () => true,
  async attach(ctx) {
    const source = await startSource(createFormWebhookSource({ rules: ctx.rules, env: ctx.setup.env as NodeJS.ProcessEnv }, ctx));
    return {
      kind: source.kind,
      routes: [source.handler],
      detach: () => source.stop(),
      acknowledge: () => source.acknowledge(),
      rulesChanged: (rules) => () => source.setRules(rules),
      describe: () => {
        const routes = source.routes();
        return routes.length ? { hooks: routes.map((r) => r.path) } : {};
      },
    };
  },
};
