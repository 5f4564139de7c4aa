/**
 * The web console, mounted on the daemon's status server as one request
 * handler: server-rendered pages under /console (Rules, Runs and a run's
 * trace, Dead letters, Health), their JSON under /api, and two static files.
 * Every answer goes through the guard (security.ts): without a token only
 * loopback names and no proxy (request-checks.ts), a login when a token is
 * set, CSRF on every POST, a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { dlqDroppedJson, dlqRetriedJson } from '../daemon/index.js';
import type { RequestHandler } from '../status/index.js';
import { dlqAct, dlqDoc, dlqEntryDoc, healthDoc, rulesDoc, runsDoc, traceData, traceDoc, DEFAULTS as API_DEFAULTS } from './api.js';
import { dlqConfirmPage, dlqEntryPage, dlqListPage, type DlqVerb } from './dlq-page.js';
import { healthPage } from './health-page.js';
import { html } from './html.js';
import { BASE, href, page, type PageContext } from './layout.js';
import { loginPage } from './login-page.js';
import { rulesPage } from './rules-page.js';
import { parseLimit, parseRunsQuery } from './runs-filter.js';
import { runsPage } from './runs-page.js';
import { checkConsoleListen, ConsoleGuard, sendWithHeaders, type Access } from './security.js';
import type { ConsoleSource, PortalView } from './source.js';
import { tracePage } from './trace-page.js';

export interface ConsoleOptions {
  source: ConsoleSource;
  /** The console token; null: no login (loopback only: checkConsoleListen). */
  token: string | null;
  /**
   * The server's listen address (`host:port`): without a token, a non-loopback one is refused here
   * (CONSOLE_TOKEN_REQUIRED), so every way of serving the console (run, demo, worker) is checked.
   */
  listen: string;
  /** Origins a POST may name besides the request's Host (B24_RULES_CONSOLE_ORIGIN, parseConsoleOrigins). @default none */
  allowedOrigins?: readonly string[];
  /** @default systemClock */
  clock?: Clock;
  logger?: Logger;
}

export interface Console {
  /** Mount on the status server (after the webhook receivers). */
  readonly handler: RequestHandler;
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const ASSETS: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };
/** @default 16 KiB: a login or a confirmation form is a few hundred bytes */
const FORM_LIMIT = 16 * 1024;

/** The shipped assets (package.json "files" has engine/console/assets), read once. */
function loadAssets(): Map<string, string> {
  const dir = join(PACKAGE_ROOT, 'engine', 'console', 'assets');
  return new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** A form that cannot be read: too large (413), or the request broke off (400). */
class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const tooLarge = () => {
      // The rest is read and dropped (the answer closes the connection): destroying the request would lose the answer.
      req.removeAllListeners('data');
      req.resume();
      reject(new FormError(413, `form too large (over ${FORM_LIMIT} bytes)`));
    };
    if (Number(req.headers['content-length'] ?? 0) > FORM_LIMIT) return tooLarge();
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > FORM_LIMIT) return tooLarge();
      chunks.push(c);
    });
    req.on('end', () => {
      const type = String(req.headers['content-type'] ?? '');
      const text = Buffer.concat(chunks).toString('utf8');
      if (type.includes('application/json')) {
        try {
          const obj = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          resolve(new URLSearchParams(Object.entries(obj).map(([k, v]): [string, string] => [k, String(v)])));
        } catch {
          resolve(new URLSearchParams());
        }
      } else resolve(new URLSearchParams(text));
    });
    req.on('error', () => reject(new FormError(400, 'the request broke off')));
  });
}

/** Where a login may lead: a console path of printable ASCII (a Location header takes nothing else), else the rules page. */
function safeNext(next: string | null | undefined): string {
  return next && next.startsWith(`${BASE}/`) && !next.startsWith('//') && /^[\x21-\x7e]+$/.test(next) ? next : `${BASE}/rules`;
}

/** Node's complaint about a header value it cannot send (a CR, LF or non-ASCII character). */
function isHeaderError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ERR_INVALID_CHAR' || code === 'ERR_HTTP_INVALID_HEADER_VALUE' || code === 'ERR_INVALID_HTTP_TOKEN';
}

export function createConsole(options: ConsoleOptions): Console {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  checkConsoleListen(options.listen, options.token);
  const guard = new ConsoleGuard({ token: options.token, now: () => clock.now(), ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) });
  const assets = loadAssets();

  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => sendWithHeaders(res, status, JSON_TYPE, `${JSON.stringify(body, null, 2)}\n`, extra);
  const redirect = (res: ServerResponse, to: string, cookies: string[] = []) => sendWithHeaders(res, 303, 'text/plain; charset=utf-8', `See ${to}\n`, { location: to, ...(cookies.length ? { 'set-cookie': cookies } : {}) });

  function portalOf(url: URL): PortalView | undefined {
    const portals = options.source.portals();
    const key = url.searchParams.get('portal');
    return key === null || key === '' ? portals[0] : portals.find((p) => p.key === key);
  }

  function sendPage(req: IncomingMessage, res: ServerResponse, status: number, render: (ctx: PageContext) => string, portal: PortalView): void {
    const csrf = guard.csrf(req);
    const ctx: PageContext = { portal, portals: options.source.portals(), csrf: csrf.token, locked: guard.locked, now: clock.now() };
    sendWithHeaders(res, status, HTML, render(ctx), csrf.setCookie ? { 'set-cookie': csrf.setCookie } : {});
  }

  function notFound(req: IncomingMessage, res: ServerResponse, api: boolean, what: string, portal?: PortalView): void {
    if (api || !portal) return json(res, 404, { error: what });
    sendPage(req, res, 404, (ctx) => messagePage(ctx, what), portal);
  }

  /** Read the form, or answer 413/400 (with the security headers) and resolve undefined. */
  async function formOf(req: IncomingMessage, res: ServerResponse, api: boolean): Promise<URLSearchParams | undefined> {
    try {
      return await readForm(req);
    } catch (err) {
      const status = err instanceof FormError ? err.status : 400;
      const message = err instanceof FormError ? err.message : 'the form cannot be read';
      const close = { connection: 'close' };
      if (api) json(res, status, { error: message }, close);
      else sendWithHeaders(res, status, 'text/plain; charset=utf-8', `${message}\n`, close);
      return undefined;
    }
  }

  async function guarded(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    try {
      return await handle(req, res, url);
    } catch (err) {
      // A value no header can carry (CR, LF, non-ASCII) is the request's fault, not a 500.
      if (!isHeaderError(err) || res.headersSent) throw err;
      sendWithHeaders(res, 400, 'text/plain; charset=utf-8', 'bad request: a value in it cannot go into a header\n');
      return true;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    const root = path === '/' && (req.method === 'GET' || req.method === 'HEAD');
    const api = path === '/api' || path.startsWith('/api/');
    if (!root && !api && path !== BASE && !path.startsWith(`${BASE}/`)) return false;
    const refused = guard.refusal(req);
    if (refused) {
      logger.warn({ path, status: refused.status }, 'console request refused: not a loopback name, or through a proxy, and no token');
      if (api) json(res, refused.status, { error: refused.message });
      else sendWithHeaders(res, refused.status, 'text/plain; charset=utf-8', `${refused.message}\n`);
      return true;
    }
    if (root) {
      redirect(res, `${BASE}/rules`);
      return true;
    }

    if (path.startsWith(`${BASE}/assets/`)) {
      const name = path.slice(`${BASE}/assets/`.length);
      const body = assets.get(name);
      if (body === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return json(res, 404, { error: 'not found' }), true;
      sendWithHeaders(res, 200, ASSETS[name] as string, body);
      return true;
    }
    if (path === `${BASE}/login`) return login(req, res, url);

    const access = guard.access(req);
    if (!access.ok) {
      if (api) json(res, 401, { error: 'the console needs its token: Authorization: Bearer <B24_RULES_CONSOLE_TOKEN>, or log in at /console/login' }, { 'www-authenticate': 'Bearer realm="b24-rules console"' });
      else redirect(res, `${BASE}/login?next=${encodeURIComponent(path + url.search)}`);
      return true;
    }
    if (path === `${BASE}/logout` && req.method === 'POST') {
      const form = await formOf(req, res, api);
      if (!form) return true;
      if (!guard.mayChange(req, access, form.get('_csrf') ?? undefined)) return refuse(res, api), true;
      redirect(res, `${BASE}/login`, [guard.logout(req)]);
      return true;
    }
    if (path === '/api/portals' && req.method === 'GET') {
      json(res, 200, options.source.portals().map((p) => ({ key: p.key, label: p.label })));
      return true;
    }
    const portal = portalOf(url);
    if (!portal && options.source.portals().length === 0) return json(res, 503, { error: 'no portal is served here right now (a worker between leases: see /healthz)' }), true;
    if (!portal) return json(res, 404, { error: `no portal '${url.searchParams.get('portal')}'; see /api/portals` }), true;
    const rest = api ? path.slice('/api'.length) : path.slice(BASE.length);

    if (req.method === 'POST') return post(req, res, url, access, portal, rest, api);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' }), true;
    return get(req, res, url, portal, rest, api);
  }

  function refuse(res: ServerResponse, api: boolean): void {
    const message = 'refused: the CSRF token is missing or wrong (reload the page and try again; scripts send Authorization: Bearer)';
    if (api) json(res, 403, { error: message });
    else sendWithHeaders(res, 403, 'text/plain; charset=utf-8', `${message}\n`);
  }

  async function login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!guard.locked) return redirect(res, `${BASE}/rules`), true;
    if (req.method === 'POST') {
      const form = await formOf(req, res, false);
      if (!form) return true;
      if (!guard.mayChange(req, { ok: false }, form.get('_csrf') ?? undefined)) return refuse(res, false), true;
      const session = guard.login(req, form.get('token') ?? '');
      if (!session) {
        logger.warn({ path: url.pathname }, 'console login refused: wrong token');
        const csrf = guard.csrf(req);
        sendWithHeaders(res, 401, HTML, loginPage(csrf.token, safeNext(form.get('next')), true));
        return true;
      }
      redirect(res, safeNext(form.get('next')), [session]);
      return true;
    }
    const csrf = guard.csrf(req);
    sendWithHeaders(res, 200, HTML, loginPage(csrf.token, safeNext(url.searchParams.get('next')), false), csrf.setCookie ? { 'set-cookie': csrf.setCookie } : {});
    return true;
  }

  function get(req: IncomingMessage, res: ServerResponse, url: URL, portal: PortalView, rest: string, api: boolean): boolean {
    const now = clock.now();
    let m: RegExpExecArray | null;
    if (!api && (rest === '' || rest === '/')) return redirect(res, href({ portal, portals: options.source.portals() }, '/rules')), true;
    if (rest === '/rules') {
      const view = rulesDoc(portal, now);
      if (api) json(res, 200, view);
      else sendPage(req, res, 200, (ctx) => rulesPage(ctx, view), portal);
      return true;
    }
    if (rest === '/runs') {
      const q = parseRunsQuery(url.searchParams);
      if (api) {
        if (q.problems.length) return json(res, 400, { error: q.problems.join('; ') }), true;
        const runs = runsDoc(portal, q) as Array<{ id: number }>;
        const next = runs.length === q.limit ? runs[runs.length - 1]?.id : undefined;
        const nextUrl = new URL(url.toString());
        if (next !== undefined) nextUrl.searchParams.set('before', String(next));
        json(res, 200, runs, next !== undefined ? { link: `<${nextUrl.pathname}${nextUrl.search}>; rel="next"` } : {});
      } else {
        const runs = q.problems.length ? [] : portal.store.runs.summaries(q.filter);
        sendPage(req, res, 200, (ctx) => runsPage(ctx, q, runs, portal.rules().map((r) => r.id)), portal);
      }
      return true;
    }
    if ((m = /^\/runs\/(\d+)$/.exec(rest))) {
      const id = Number(m[1]);
      if (api) {
        const doc = traceDoc(portal, id);
        if (doc === undefined) return notFound(req, res, true, `no run ${id}`), true;
        json(res, 200, doc);
        return true;
      }
      const data = traceData(portal, id);
      if (!data) return notFound(req, res, false, `No run ${id} in this portal's journal (pruned, or never recorded).`, portal), true;
      sendPage(req, res, 200, (ctx) => tracePage(ctx, data), portal);
      return true;
    }
    if (rest === '/dlq') {
      const rule = url.searchParams.get('rule') || undefined;
      const limit = parseLimit(url.searchParams.get('limit'), API_DEFAULTS.dlqLimit, API_DEFAULTS.maxDlqLimit);
      if (api) {
        if (limit.problem) return json(res, 400, { error: limit.problem }), true;
        return json(res, 200, dlqDoc(portal, rule, limit.limit)), true;
      }
      const entries = portal.store.dlq.list({ ...(rule ? { ruleId: rule } : {}), limit: limit.limit });
      sendPage(req, res, 200, (ctx) => dlqListPage(ctx, entries, portal.store.dlq.count(), url.searchParams), portal);
      return true;
    }
    if ((m = /^\/dlq\/(\d+)$/.exec(rest))) {
      const id = Number(m[1]);
      if (api) {
        const doc = dlqEntryDoc(portal, id);
        if (doc === undefined) return notFound(req, res, true, `no DLQ entry ${id}`), true;
        return json(res, 200, doc), true;
      }
      const entry = portal.store.dlq.get(id);
      if (!entry) return notFound(req, res, false, `No DLQ entry ${id}: retried, dropped, or never there.`, portal), true;
      sendPage(req, res, 200, (ctx) => dlqEntryPage(ctx, entry, entry.runId === null ? undefined : portal.store.runs.get(entry.runId)), portal);
      return true;
    }
    if (!api && (m = /^\/dlq\/(\d+|all)\/(retry|drop)$/.exec(rest))) {
      const target = m[1] === 'all' ? 'all' : Number(m[1]);
      const verb = m[2] as DlqVerb;
      const entry = target === 'all' ? undefined : portal.store.dlq.get(target);
      if (target !== 'all' && !entry) return notFound(req, res, false, `No DLQ entry ${target}: retried, dropped, or never there.`, portal), true;
      sendPage(req, res, 200, (ctx) => dlqConfirmPage(ctx, verb, target, portal.store.dlq.count(), entry), portal);
      return true;
    }
    if (rest === '/health') {
      if (api) json(res, 200, healthDoc(portal));
      else sendPage(req, res, 200, (ctx) => healthPage(ctx, portal.health()), portal);
      return true;
    }
    notFound(req, res, api, api ? `no such endpoint: ${url.pathname}` : `No page ${url.pathname}.`, portal);
    return true;
  }

  async function post(req: IncomingMessage, res: ServerResponse, url: URL, access: Access, portal: PortalView, rest: string, api: boolean): Promise<boolean> {
    const m = /^\/dlq\/(\d+|all)\/(retry|drop)$/.exec(rest);
    if (!m) return json(res, 405, { error: 'method not allowed' }), true;
    const form = await formOf(req, res, api);
    if (!form) return true;
    if (!guard.mayChange(req, access, form.get('_csrf') ?? undefined)) {
      logger.warn({ path: url.pathname }, 'console POST refused: no valid CSRF token');
      refuse(res, api);
      return true;
    }
    const target = m[1] === 'all' ? 'all' : Number(m[1]);
    const verb = m[2] as DlqVerb;
    const ids = dlqAct(portal, verb, target);
    if (target !== 'all' && ids.length === 0) return notFound(req, res, api, `no DLQ entry ${target}`, portal), true;
    logger.info({ verb, target, entries: ids.length, portal: portal.key }, `console: DLQ ${verb} of ${target === 'all' ? `${ids.length} entries` : `entry ${target}`}`);
    if (api) return json(res, 200, verb === 'retry' ? dlqRetriedJson(ids) : dlqDroppedJson(ids)), true;
    const note = target === 'all' ? `all:${ids.length}` : String(target);
    redirect(res, href({ portal, portals: options.source.portals() }, '/dlq', verb === 'retry' ? { retried: note } : { dropped: note }));
    return true;
  }

  return { handler: guarded };
}

/** The frame with a message alone (not found): the nav still leads on. */
function messagePage(ctx: PageContext, what: string): string {
  return page(ctx, '', 'Not found', html`<p class="empty">${what}</p>`);
}
