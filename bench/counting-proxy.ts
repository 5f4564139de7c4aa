/**
 * The benchmarks' own counting proxy: an HTTP server between a client (the
 * daemon, a peer script) and the portal (a `rules emulator` process) that
 * forwards every request unchanged and keeps, per request, what it was (a
 * `batch`, `event.offline.get`, a token refresh...), the REST commands it
 * carried (a batch's `cmd` entries, each with its method and `id`) and when
 * its answer came back. Counting here, outside the portal, counts what the
 * client really sent: retries, refused requests, token refreshes.
 *
 * `/push` is forwarded to a settable target (the daemon's `/b24/events`): an
 * ONOFFLINEEVENT handler bound to `${proxy}/push` reaches the daemon through
 * here and is counted apart (those are the portal's requests, not the
 * client's).
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commandMethod, methodKind } from '../engine/client/index.js';

/** One REST command a request carried. */
export interface ProxyCommand {
  /** Lower case, e.g. `crm.lead.update`. */
  method: string;
  write: boolean;
  /** The `id` parameter, when there is one (which record a get or an update is for). */
  id?: string;
}

/** One request the client sent, as the proxy saw it. */
export interface ProxyRecord {
  seq: number;
  /** `batch`, a REST method (`event.offline.get`), `oauth` (the token server) or `push` (the portal calling the client). */
  kind: string;
  commands: ProxyCommand[];
  /** 0: no answer (the portal was unreachable). */
  status: number;
  /** Date.now() when the request came in, and when its answer went back. */
  at: number;
  answeredAt: number;
  /** Records in the answer of an `event.offline.get` (how full the page was). */
  events?: number;
}

export interface CountingProxy {
  readonly url: string;
  /** Every request since the last `clear()`, in arrival order. */
  readonly records: readonly ProxyRecord[];
  clear(): void;
  /** Where `/push` goes (null: answered 503). */
  setPushTarget(url: string | null): void;
  /** Resolves at the next answered request for which `match` holds (or null after `timeoutMs`). */
  waitFor(match: (r: ProxyRecord) => boolean, timeoutMs: number): Promise<ProxyRecord | null>;
  close(): Promise<void>;
}

type Params = Record<string, unknown>;

/** The REST method a path names: `/rest/<method>[.json]` (OAuth) or `/rest/<user>/<code>/<method>[.json]` (webhook). */
export function restMethod(pathname: string): string | null {
  const parts = pathname.split('/').filter(Boolean);
  if (parts[0] !== 'rest' || parts.length < 2) return null;
  const last = parts[parts.length - 1] as string;
  return decodeURIComponent(last).replace(/\.(json|xml)$/i, '').toLowerCase();
}

function parseBody(body: Buffer, contentType: string | undefined): Params {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  if ((contentType ?? '').includes('json')) {
    try {
      const v = JSON.parse(text) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Params) : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function command(method: string, id: unknown): ProxyCommand {
  const m = method.toLowerCase();
  return { method: m, write: methodKind(m) === 'write', ...(id === undefined || id === null || id === '' ? {} : { id: String(id) }) };
}

/** One `cmd` entry of a batch: `method?query` (the query may carry `id`). */
function batchCommand(raw: unknown): ProxyCommand | null {
  if (typeof raw !== 'string') return null;
  const q = raw.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return command(commandMethod(raw), query.get('id') ?? query.get('ID') ?? undefined);
}

/** The commands of a batch's params, in both encodings (a JSON `cmd` object or array; form keys `cmd[key]`). */
function batchCommands(params: Params): ProxyCommand[] {
  const cmd = params.cmd ?? params.CMD;
  const entries: unknown[] = cmd && typeof cmd === 'object' ? Object.values(cmd as Params) : Object.entries(params).filter(([k]) => /^cmd\[/i.test(k)).map(([, v]) => v);
  return entries.map(batchCommand).filter((c): c is ProxyCommand => c !== null);
}

/** The kind and the commands of one request. */
export function describeRequest(pathname: string, query: URLSearchParams, params: Params): { kind: string; commands: ProxyCommand[] } {
  if (pathname.startsWith('/oauth/')) return { kind: 'oauth', commands: [] };
  const method = restMethod(pathname);
  if (method === null) return { kind: 'other', commands: [] };
  if (method === 'batch') return { kind: 'batch', commands: batchCommands(params) };
  return { kind: method, commands: [command(method, params.id ?? params.ID ?? query.get('id') ?? undefined)] };
}

function eventsIn(kind: string, body: Buffer): number | undefined {
  if (kind !== 'event.offline.get') return undefined;
  try {
    const r = (JSON.parse(body.toString('utf8')) as { result?: { events?: unknown[] } }).result;
    return Array.isArray(r?.events) ? r.events.length : 0;
  } catch {
    return undefined;
  }
}

/** Start a proxy to `target` (e.g. `http://127.0.0.1:40123`) on 127.0.0.1, a free port. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const records: ProxyRecord[] = [];
  let seq = 0;
  let pushTarget: string | null = null;
  let waiters: Array<{ match: (r: ProxyRecord) => boolean; resolve: (r: ProxyRecord | null) => void }> = [];

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, to: URL, done: (status: number, answer: Buffer) => void) => {
    const headers = { ...req.headers, host: to.host };
    const out = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: `${to.pathname.replace(/\/$/, '')}${req.url ?? '/'}`.replace(/^\/\//, '/'), headers, agent }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const buf = Buffer.concat(chunks);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(buf);
        done(answer.statusCode ?? 0, buf);
      });
      answer.on('error', () => {
        res.destroy();
        done(0, Buffer.alloc(0));
      });
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      done(0, Buffer.alloc(0));
    });
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const isPush = url.pathname === '/push';
      const params = isPush ? {} : { ...Object.fromEntries(url.searchParams), ...parseBody(body, req.headers['content-type']) };
      const { kind, commands } = isPush ? { kind: 'push', commands: [] } : describeRequest(url.pathname, url.searchParams, params);
      const record: ProxyRecord = { seq: ++seq, kind, commands, status: 0, at, answeredAt: 0 };
      const finish = (status: number, answer: Buffer) => {
        record.status = status;
        record.answeredAt = Date.now();
        const events = eventsIn(kind, answer);
        if (events !== undefined) record.events = events;
        records.push(record);
        const still: typeof waiters = [];
        for (const w of waiters) {
          if (w.match(record)) w.resolve(record);
          else still.push(w);
        }
        waiters = still;
      };
      if (isPush) {
        if (pushTarget === null) {
          res.writeHead(503).end();
          return finish(503, Buffer.alloc(0));
        }
        const to = new URL(pushTarget);
        // The whole target path replaces /push.
        req.url = `${to.pathname}${url.search}`;
        return forward(req, res, body, new URL(to.origin), finish);
      }
      forward(req, res, body, upstream, finish);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    records,
    clear() {
      records.length = 0;
    },
    setPushTarget(target) {
      pushTarget = target;
    },
    waitFor(match, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          resolve(null);
        }, timeoutMs);
        const done = (r: ProxyRecord | null) => {
          clearTimeout(timer);
          resolve(r);
        };
        waiters.push({ match, resolve: done });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
