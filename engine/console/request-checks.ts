/**
 * Who may address the console, before any token is looked at. With no token
 * (loopback only), a request must name the console as localhost, 127.x.x.x or
 * [::1] in its Host (a DNS-rebinding page names its own host, which now
 * resolves to 127.0.0.1) and must not come through a proxy (Forwarded,
 * X-Forwarded-*, X-Real-IP): everyone who reaches the proxy would get the open
 * console. With a token, the token decides who gets in; behind a proxy that
 * rewrites Host, a POST's Origin may then match X-Forwarded-Host, or one of
 * the origins configured in B24_RULES_CONSOLE_ORIGIN.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../errors.js';

/** Why a request is turned away (the status and the body's message). */
export interface Refusal {
  status: number;
  message: string;
}

/** The name in a Host header (lowercase, IPv6 without brackets), or null when the header is missing or not a host. */
export function hostName(header: string | undefined): string | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::\d{1,5})?$/.exec(header ?? '');
  if (!m) return null;
  return (m[1] ?? m[2] ?? '').toLowerCase();
}

/** localhost, 127.0.0.0/8 (four decimal parts) or ::1: the names a browser on this machine uses for it. */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** Headers a reverse proxy adds: their presence means the request did not come from this machine's browser. */
export function proxyHeaders(req: IncomingMessage): string[] {
  return Object.keys(req.headers).filter((h) => h === 'forwarded' || h === 'x-real-ip' || h.startsWith('x-forwarded-'));
}

/** For a console without a token: the refusal of a request that is not a browser on this machine talking to it directly, else null. */
export function openConsoleRefusal(req: IncomingMessage): Refusal | null {
  const proxied = proxyHeaders(req);
  if (proxied.length > 0) {
    return {
      status: 403,
      message: `refused: this request came through a proxy (${proxied.join(', ')}) and the console has no token, so everyone who reaches the proxy would get it. Set B24_RULES_CONSOLE_TOKEN (or --console-token-file FILE) when proxying the console (docs/console.md, Security)`,
    };
  }
  const name = hostName(req.headers.host);
  if (name === null || !isLoopbackName(name)) {
    return {
      status: 421,
      message: `refused: without a token the console answers only to Host localhost, 127.x.x.x or [::1]; this request names ${JSON.stringify(req.headers.host ?? '')}. Open it as http://127.0.0.1:PORT/console, or set B24_RULES_CONSOLE_TOKEN to serve it under another name (docs/console.md, Security)`,
    };
  }
  return null;
}

/** The first value of a header a proxy may have appended to (`a, b`), or undefined. */
export function firstValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  const first = s?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * B24_RULES_CONSOLE_ORIGIN: the origins (comma-separated `https://host[:port]`) the console is
 * reached at through a proxy, which a POST's Origin may name. Empty: none.
 */
export function parseConsoleOrigins(value: string | undefined): string[] {
  const out: string[] = [];
  for (const part of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(part);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
      throw new ConfigError(`B24_RULES_CONSOLE_ORIGIN: '${part}' is not an origin; write the scheme, host and port the browser uses, e.g. https://rules.example.com (several: comma-separated)`);
    }
    out.push(url.origin);
  }
  return out;
}

/**
 * Whether a POST's Origin header names this console: its Host; with a token, the
 * X-Forwarded-Host a proxy set; or a configured origin.
 */
export function originAllowed(req: IncomingMessage, origin: string, options: { locked: boolean; allowed: readonly string[] }): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (options.allowed.includes(url.origin)) return true;
  const host = url.host.toLowerCase();
  if (host === String(req.headers.host ?? '').toLowerCase()) return true;
  // Only with a token: without one, a proxied request never gets this far (openConsoleRefusal).
  return options.locked && host === firstValue(req, 'x-forwarded-host')?.toLowerCase();
}

/** Whether the browser reached the console over TLS: this server's own, or (with a token) a proxy's that says so. */
export function overTls(req: IncomingMessage, locked: boolean): boolean {
  if ((req.socket as TLSSocket).encrypted === true) return true;
  if (!locked) return false;
  if (firstValue(req, 'x-forwarded-proto')?.toLowerCase() === 'https') return true;
  return /(?:^|[;,\s])proto=(?:"?)https\b/i.test(String(req.headers.forwarded ?? ''));
}
