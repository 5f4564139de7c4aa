/**
 * The console's guards. Loopback by default (and then only for requests that
 * name it as localhost and come through no proxy: request-checks.ts); anywhere
 * else only with a token (B24_RULES_CONSOLE_TOKEN or a file), compared in
 * constant time, given once on a login form (then an HttpOnly session cookie)
 * or on each request as `Authorization: Bearer`. Every POST from a browser
 * carries a CSRF token: an HMAC of the session and the csrf cookie under a key
 * made at start (a signed double submit bound to the login), so a page on
 * another site can neither read nor forge it. The cookies' names carry the
 * server's port (cookies are shared across the ports of one host). Every
 * answer carries a Content-Security-Policy without inline script.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { B24RulesError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { safeEqual } from '../sources/index.js';
import { parseListen } from '../status/index.js';
import { openConsoleRefusal, originAllowed, overTls, type Refusal } from './request-checks.js';

/** The console would listen beyond loopback without a token. */
export class ConsoleTokenRequiredError extends B24RulesError {
  constructor(listen: string) {
    super(
      'CONSOLE_TOKEN_REQUIRED',
      `--listen ${listen} is not a loopback address and the web console has no token: set B24_RULES_CONSOLE_TOKEN or pass --console-token-file FILE (also when a proxy forwards to the console on 127.0.0.1), or pass --no-console`,
    );
  }
}

/** The token cannot be read or is too short to be one. */
export class ConsoleTokenInvalidError extends B24RulesError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONSOLE_TOKEN_INVALID', message, options);
  }
}

export const DEFAULTS = {
  /** @default 16 characters at least */
  minTokenLength: 16,
  /** @default 12 h: a login lasts this long */
  sessionMs: 12 * 3600_000,
  /** @default 1000 sessions kept at most (the oldest go first) */
  maxSessions: 1000,
};

/** The cookies' name prefixes; each name ends with `_PORT` (cookieNames). */
export const COOKIES = { session: 'b24c_session', csrf: 'b24c_csrf' } as const;

/** The cookie names of the console serving this request: two daemons on one host (other ports) keep theirs apart. */
export function cookieNames(req: IncomingMessage): { session: string; csrf: string } {
  const port = req.socket.localPort ?? 0;
  return { session: `${COOKIES.session}_${port}`, csrf: `${COOKIES.csrf}_${port}` };
}

/** 127.0.0.0/8, ::1, localhost (and IPv4 loopback mapped into IPv6). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The console token: `B24_RULES_CONSOLE_TOKEN`, else the file's first line; null when neither is set.
 * The value is registered as a secret, so no log line or page ever shows it.
 */
export function readConsoleToken(env: Record<string, string | undefined>, file?: string): string | null {
  let token: string | undefined;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/)[0]?.trim();
    } catch (err) {
      throw new ConsoleTokenInvalidError(`cannot read the console token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  } else {
    token = env.B24_RULES_CONSOLE_TOKEN?.trim() || undefined;
  }
  if (token === undefined) return null;
  if (token.length < DEFAULTS.minTokenLength) {
    throw new ConsoleTokenInvalidError(`the console token (${file === undefined ? 'B24_RULES_CONSOLE_TOKEN' : file}) has ${token.length} characters; use ${DEFAULTS.minTokenLength} or more (e.g. openssl rand -hex 24)`);
  }
  registerSecret(token);
  return token;
}

/** Refuse to serve the console beyond loopback without a token. */
export function checkConsoleListen(listen: string, token: string | null): void {
  if (token === null && !isLoopbackHost(parseListen(listen).host)) throw new ConsoleTokenRequiredError(listen);
}

/** The request's cookies. */
export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function cookie(name: string, value: string, secure: boolean, maxAgeS?: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}${maxAgeS === undefined ? '' : `; Max-Age=${maxAgeS}`}`;
}

/** Headers on every console answer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Same-origin: a form POST carries its Origin (no-referrer makes browsers send `Origin: null`), and no URL leaves the console.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Who a request is: let in (and how), or not. */
export type Access = { ok: true; via: 'open' | 'session' | 'bearer' } | { ok: false };

export interface GuardOptions {
  /** The console token; null: no login (loopback only). */
  token: string | null;
  now: () => number;
  /** Origins a POST may come from besides the request's Host (B24_RULES_CONSOLE_ORIGIN: parseConsoleOrigins). @default none */
  allowedOrigins?: readonly string[];
}

export class ConsoleGuard {
  readonly #token: string | null;
  readonly #key = randomBytes(32);
  readonly #sessions = new Map<string, number>();
  readonly #now: () => number;
  readonly #allowed: readonly string[];

  constructor(options: GuardOptions) {
    this.#token = options.token;
    this.#now = options.now;
    this.#allowed = options.allowedOrigins ?? [];
  }

  /** Whether the console needs a login. */
  get locked(): boolean {
    return this.#token !== null;
  }

  /** Turned away before anything else (no token: a request not from a browser on this machine), or null. */
  refusal(req: IncomingMessage): Refusal | null {
    return this.#token === null ? openConsoleRefusal(req) : null;
  }

  access(req: IncomingMessage): Access {
    if (this.#token === null) return { ok: true, via: 'open' };
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return safeEqual(auth.slice(7).trim(), this.#token) ? { ok: true, via: 'bearer' } : { ok: false };
    return this.#session(req) === '' ? { ok: false } : { ok: true, via: 'session' };
  }

  /** The request's live session id, '' when none (expired ones are forgotten). */
  #session(req: IncomingMessage): string {
    if (this.#token === null) return '';
    const id = cookies(req).get(cookieNames(req).session);
    if (id === undefined) return '';
    const until = this.#sessions.get(id);
    if (until === undefined || until < this.#now()) {
      this.#sessions.delete(id);
      return '';
    }
    return id;
  }

  /** Check a token given on the login form; on success, the Set-Cookie of a new session. */
  login(req: IncomingMessage, given: string): string | null {
    if (this.#token === null || !safeEqual(given, this.#token)) return null;
    const id = randomBytes(24).toString('base64url');
    if (this.#sessions.size >= DEFAULTS.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
    this.#sessions.set(id, this.#now() + DEFAULTS.sessionMs);
    return cookie(cookieNames(req).session, id, overTls(req, this.locked), DEFAULTS.sessionMs / 1000);
  }

  logout(req: IncomingMessage): string {
    const names = cookieNames(req);
    const id = cookies(req).get(names.session);
    if (id !== undefined) this.#sessions.delete(id);
    return cookie(names.session, '', overTls(req, this.locked), 0);
  }

  /**
   * The CSRF token for this browser: the HMAC of its session (none before a login) and its
   * csrf cookie. A request without the cookie gets one (`setCookie`, to send with the page).
   */
  csrf(req: IncomingMessage): { token: string; setCookie?: string } {
    const name = cookieNames(req).csrf;
    let seed = cookies(req).get(name);
    let setCookie: string | undefined;
    if (seed === undefined || !/^[A-Za-z0-9_-]{20,64}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      setCookie = cookie(name, seed, overTls(req, this.locked));
    }
    return { token: this.#sign(this.#session(req), seed), ...(setCookie ? { setCookie } : {}) };
  }

  // Bound to the session: a pair (cookie, token) read from the login page before a login, or planted from a sibling host, is no good after it.
  #sign(session: string, seed: string): string {
    return createHmac('sha256', this.#key).update(`${session}\n${seed}`).digest('base64url');
  }

  /**
   * Whether a state-changing request may go on: a Bearer request (no browser sends that header
   * on its own), or one whose CSRF token (form field `_csrf` or header `x-csrf-token`) is the
   * HMAC of its session and csrf cookie and whose Origin, when given, is this console
   * (originAllowed).
   */
  mayChange(req: IncomingMessage, access: Access, formToken: string | undefined): boolean {
    if (access.ok && access.via === 'bearer') return true;
    // `Origin: null` (a privacy setting) says nothing: the signed token below decides.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !originAllowed(req, origin, { locked: this.locked, allowed: this.#allowed })) return false;
    const seed = cookies(req).get(cookieNames(req).csrf);
    const given = formToken ?? (typeof req.headers['x-csrf-token'] === 'string' ? req.headers['x-csrf-token'] : undefined);
    if (seed === undefined || given === undefined) return false;
    return safeEqual(given, this.#sign(this.#session(req), seed));
  }
}

/** Send an answer with the security headers (and any cookies). */
export function sendWithHeaders(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}
