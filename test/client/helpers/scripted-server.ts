/**
 * A real node:http server on port 0 that scripts a Bitrix24 portal's answers,
 * one handler per test. It records every request it saw (method name, auth,
 * params), and can answer like a portal, drop the socket, or never answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  /** REST method (`crm.lead.get`), or `oauth/token` for the token server. */
  method: string;
  path: string;
  /** The webhook code from `/rest/{user}/{code}/`, if any. */
  webhookCode?: string;
  query: URLSearchParams;
  /** Parsed JSON body ({} when empty). */
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export type Reply =
  | { status?: number; json: unknown }
  | { drop: true }
  | { hang: true }
  | { status: number; text: string; headers?: Record<string, string> };

export type Handler = (req: SeenRequest, n: number) => Reply | Promise<Reply>;

export interface ScriptedServer {
  url: string;
  seen: SeenRequest[];
  /** Requests per REST method name. */
  count(method: string): number;
  close(): Promise<void>;
}

function methodOf(pathname: string): { method: string; webhookCode?: string } {
  const hook = /^\/rest\/\d+\/([^/]+)\/(.+?)(?:\.json)?\/?$/.exec(pathname);
  if (hook) return { method: hook[2] as string, webhookCode: hook[1] as string };
  const oauth = /^\/rest\/(.+?)(?:\.json)?\/?$/.exec(pathname);
  if (oauth) return { method: oauth[1] as string };
  if (pathname.startsWith('/oauth/token')) return { method: 'oauth/token' };
  return { method: pathname };
}

export async function startServer(handler: Handler): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      if (text) {
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { _raw: text };
        }
      }
      const m = methodOf(url.pathname);
      const seenReq: SeenRequest = { method: m.method, path: url.pathname, webhookCode: m.webhookCode, query: url.searchParams, body, headers: req.headers };
      seen.push(seenReq);
      Promise.resolve(handler(seenReq, seen.length))
        .then((reply) => {
          if ('drop' in reply) {
            req.socket.destroy();
          } else if ('hang' in reply) {
            hanging.push(res);
          } else if ('text' in reply) {
            res.writeHead(reply.status, { 'content-type': 'text/html', ...(reply.headers ?? {}) });
            res.end(reply.text);
          } else {
            const payload = JSON.stringify(reply.json);
            res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
            res.end(payload);
          }
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'TEST_HANDLER_THREW', error_description: String(err) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (method) => seen.filter((s) => s.method === method).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A success envelope. */
export function ok(result: unknown, extra: Record<string, unknown> = {}): Reply {
  return { json: { result, ...extra, time: { start: 0, finish: 0, duration: 0, processing: 0, date_start: '', date_finish: '', ...((extra.time as object) ?? {}) } } };
}

/** An error envelope. */
export function fail(status: number, error: string, description = ''): Reply {
  return { status, json: { error, error_description: description } };
}
