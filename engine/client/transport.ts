/**
 * One HTTP exchange over an undici dispatcher (keep-alive Agent), reporting
 * whether the request was written to a socket. That bit decides retry safety:
 * an error before it (connection refused, DNS, connect timeout) proves the
 * portal never saw the request; an error after it (reset, dropped socket,
 * headers/body timeout) leaves the outcome unknown.
 */
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';

export interface TransportOptions {
  /** @default 60000 */
  headersTimeoutMs: number;
  /** @default 60000 */
  bodyTimeoutMs: number;
  /** @default 4000 */
  keepAliveTimeoutMs: number;
  /** Sockets per origin. @default 8 */
  connections: number;
  /** Certificate authorities (PEM) to trust besides Node's bundled ones (B24_CA_FILE). @default undefined */
  extraCa?: string;
}

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  body: string;
  /** The Location header of a redirect (a cloud portal that changed its domain answers 302). */
  location?: string;
}

/** The request got no complete answer. `sent` is false only when it provably never left. */
export class TransportError extends Error {
  constructor(
    readonly errno: string,
    readonly sent: boolean,
    readonly timeout: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(`${errno}${sent ? ' after the request was sent' : ' before the request was sent'}`, options);
    this.name = 'TransportError';
  }
}

/** TLS failures that mean "signed by no authority this process trusts": fixed by trusting the CA (B24_CA_FILE), not by retrying. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', ...UNTRUSTED_CERTIFICATE]);

/** Whether a transport error is a TLS certificate no trusted authority signed (errno from TransportError). */
export function isUntrustedCertificate(errno: string): boolean {
  return UNTRUSTED_CERTIFICATE.has(errno);
}
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export function createAgent(options: TransportOptions): Agent {
  return new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    connections: options.connections,
    // An explicit `ca` replaces Node's bundled roots: keep them, so the public token server (oauth.bitrix.info) stays trusted.
    ...(options.extraCa !== undefined ? { connect: { ca: [...rootCertificates, options.extraCa] } } : {}),
  });
}

function errnoOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string') return e.name;
  return 'UNKNOWN';
}

/** The errno of a request ended by its AbortSignal (ClientOptions.signal). */
export const ABORTED = 'UND_ERR_ABORTED';

/** Per signal, the requests it ended after they were dispatched. */
const cutShort = new WeakMap<AbortSignal, number>();

/**
 * How many requests `signal` ended after they had been dispatched (they may have reached the server, which may
 * still be running them). 0: nothing was in flight when it fired, so nothing of this client can still be running.
 */
export function requestsCutShort(signal: AbortSignal): number {
  return cutShort.get(signal) ?? 0;
}

/**
 * Send one request; resolves with any HTTP status, rejects only with TransportError. `signal` ends the request
 * wherever it is (ABORTED): before it left, provably unsent; after, its outcome is unknown, as after a timeout.
 */
export function send(dispatcher: Dispatcher, req: HttpRequest, timeouts: Pick<TransportOptions, 'headersTimeoutMs' | 'bodyTimeoutMs'>, signal?: AbortSignal): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let sent = false;
    let status = 0;
    let location: string | undefined;
    const chunks: Buffer[] = [];
    let abortRequest: ((err: Error) => void) | null = null;
    const aborted = (): Error => Object.assign(new Error('the request was aborted (its AbortSignal fired)'), { code: ABORTED });
    const onAbort = (): void => {
      if (signal) cutShort.set(signal, requestsCutShort(signal) + 1);
      abortRequest?.(aborted());
    };
    const settle = (): void => signal?.removeEventListener('abort', onAbort);
    const fail = (err: unknown) => {
      settle();
      const errno = errnoOf(err);
      // A string body is written together with the head, right before onRequestSent fires: if it never fired, no byte left.
      reject(new TransportError(errno, sent && !NEVER_SENT.has(errno), TIMEOUTS.has(errno), { cause: err }));
    };
    if (signal?.aborted) {
      fail(aborted());
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    // The legacy handler API is the one that reports onRequestSent (undici passes handlers without onRequestStart through as-is).
    const handler = {
      onConnect(abort: (err: Error) => void) {
        abortRequest = abort;
        if (signal?.aborted) abort(aborted());
      },
      onRequestSent() {
        sent = true;
      },
      onHeaders(statusCode: number, rawHeaders: Buffer[]) {
        status = statusCode;
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          if (String(rawHeaders[i]).toLowerCase() === 'location') location = String(rawHeaders[i + 1]);
        }
        return true;
      },
      onData(chunk: Buffer) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        settle();
        resolve({ status, body: Buffer.concat(chunks).toString('utf8'), ...(location !== undefined ? { location } : {}) });
      },
      onError: fail,
      onUpgrade() {},
      onBodySent() {},
    };
    try {
      dispatcher.dispatch(
        {
          origin: req.url.origin,
          path: `${req.url.pathname}${req.url.search}`,
          method: req.method,
          headers: req.headers,
          body: req.body,
          headersTimeout: timeouts.headersTimeoutMs,
          bodyTimeout: timeouts.bodyTimeoutMs,
        },
        handler as unknown as Dispatcher.DispatchHandler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
