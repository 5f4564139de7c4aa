/**
 * Sends the hostile payloads to a running daemon over node:http (one
 * connection each, a few at a time) and keeps what came back: the status, or
 * why none came, and the start of the answer (it is scanned for secrets too).
 *
 * Each connection is keep-alive, as a portal's or a form tool's is: a server
 * that answers 413 before reading a huge body then reads and drops the rest,
 * and the answer arrives. With `Connection: close` it closes the socket under
 * the sender instead, and on a loaded machine the sender's EPIPE can come
 * before it has parsed the answer already on the wire.
 */
import { Agent, request } from 'node:http';
import type { PayloadCase } from './payloads.js';

/** What one payload got. */
export interface PayloadAnswer {
  label: string;
  path: string;
  /** null: no answer (connection closed or reset first, or the time limit). */
  status: number | null;
  error: string | null;
  /** The first 2 KiB of the answer. */
  body: string;
  ms: number;
}

const TIMEOUT_MS = 30_000;

/** Send one payload to `baseUrl`. */
export function sendPayload(baseUrl: string, c: PayloadCase): Promise<PayloadAnswer> {
  const started = Date.now();
  const url = new URL(c.path, baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    let body = '';
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      agent.destroy();
      resolve({ label: c.label, path: c.path, status, error: status === null ? error : null, body: body.slice(0, 2048), ms: Date.now() - started });
    };
    const headers: Record<string, string | number> = { ...c.headers };
    if (c.body && !c.chunked) headers['content-length'] = c.body.length;
    const req = request(url, { method: c.method, headers, agent }, (res) => {
      status = res.statusCode ?? null;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 2048) body += d;
      });
      res.on('end', () => finish(null));
      res.on('error', (err) => finish(err.message));
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    // A server may answer (413, 431) and close before the whole body is written: the answer counts.
    req.on('error', (err) => {
      if (status !== null) return finish(null);
      // Give a response already on the wire a moment to be parsed.
      setTimeout(() => finish((err as NodeJS.ErrnoException).code ?? err.message), 50);
    });
    if (c.body && c.chunked) {
      for (let i = 0; i < c.body.length; i += 64 * 1024) req.write(c.body.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(c.body ?? undefined);
    }
  });
}

/** Send `count` payloads, made one at a time by `make` (in order, so a seed gives the same ones), `concurrency` at a time. */
export async function sendPayloads(
  baseUrl: () => string | null,
  count: number,
  make: () => PayloadCase,
  options: { concurrency?: number; progress?: (line: string) => void } = {},
): Promise<PayloadAnswer[]> {
  const answers: PayloadAnswer[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const c = make();
      const url = baseUrl();
      answers[i] = url === null ? { label: c.label, path: c.path, status: null, error: 'the daemon was not running', body: '', ms: 0 } : await sendPayload(url, c);
      if ((i + 1) % 100 === 0) options.progress?.(`payloads: ${i + 1}/${count} sent`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return answers;
}
