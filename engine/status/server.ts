/**
 * The daemon's one HTTP server: `/healthz`, `/metrics`, and the webhook
 * receivers mounted on it (outgoing Bitrix24 events, inbound form hooks).
 * Loopback by default: expose it through a reverse proxy with TLS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { processMetrics } from './process-metrics.js';

/** A mounted handler: answers and returns true, or returns false to let the next one try. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export interface StatusServerOptions {
  /** `host:port`, `:port` or `port`. @default '127.0.0.1:7424' */
  listen?: string;
  /** Rendered at each scrape of /metrics: a registry, or anything that renders the text format (a worker merges its portals'). */
  metrics: { render(): string | Promise<string> };
  /** Append the process's families (default process and Node.js metrics, build info) to /metrics. @default true */
  processMetrics?: boolean;
  /** Health check; a throw counts as unhealthy. */
  health: () => HealthReport;
  /** Webhook receivers, tried in order for paths other than /healthz and /metrics. */
  handlers?: RequestHandler[];
  logger?: Logger;
  /** On close, how long requests in progress may take before their connections are cut (ms). @default 1000 */
  closeGraceMs?: number;
}

export const DEFAULTS = {
  /** @default '127.0.0.1:7424' */
  listen: '127.0.0.1:7424',
  /**
   * @default 1000 ms: a webhook request stores and answers in milliseconds, and the
   * daemon's stop spends this inside the 10 s it promises after SIGTERM.
   */
  closeGraceMs: 1000,
};

export class ListenError extends B24RulesError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('LISTEN_FAILED', message, { kind: 'user', ...options });
  }
}

/** Parse `host:port`, `[::1]:port`, `:port` or `port`; an empty host means loopback. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ListenError(`--listen must be host:port (e.g. 127.0.0.1:7424 or :0); got '${value}'`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '127.0.0.1' : host, port };
}

export interface StatusServer {
  /** Base URL once listening (`http://127.0.0.1:PORT`). */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** Start listening; resolves once the port is bound. */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const logger = options.logger ?? silentLogger;
  const { host, port } = parseListen(options.listen ?? DEFAULTS.listen);
  const handlers = options.handlers ?? [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // The path only: a query string may carry a form hook's secret.
      logger.error({ err, path: (req.url ?? '/').split('?')[0] }, 'http handler failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      let report: HealthReport;
      try {
        report = options.health();
      } catch (err) {
        report = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      send(res, report.ok ? 200 : 503, 'application/json', JSON.stringify({ status: report.ok ? 'ok' : 'unhealthy', ...report }));
      return;
    }
    if (url.pathname === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      const own = await options.metrics.render();
      const processText = options.processMetrics === false ? '' : await processMetrics().render();
      send(res, 200, PROMETHEUS_CONTENT_TYPE, processText ? `${own}\n${processText}` : own);
      return;
    }
    for (const h of handlers) {
      if (await h(req, res, url)) return;
    }
    send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new ListenError(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;
  logger.debug({ url }, 'status server listening');

  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? DEFAULTS.closeGraceMs).unref();
      }),
  };
}
