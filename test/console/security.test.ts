/**
 * The console's guards over HTTP: the token (Bearer or a login and its
 * session cookie), CSRF on every state-changing POST (bound to the login, the
 * Origin checked, behind a proxy too), the cookies (named by port, Secure over
 * TLS), the headers, no inline script, the token never on a page, no bare 500
 * from a form; and `rules run` refusing to serve the console beyond loopback
 * without a token (the CLI as a subprocess).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsoleListen, readConsoleToken } from '../../engine/console/index.js';
import { runCli } from '../helpers/cli.js';
import { startRig, type ConsoleRig } from './harness.js';

const TOKEN = 'console-token-5f0e2a9c41d7b3e8';
/** B24_RULES_CONSOLE_ORIGIN of this console: where a proxy serves it. */
const PROXIED_ORIGIN = 'https://console.example.org';
let rig: ConsoleRig;
beforeAll(async () => {
  rig = await startRig({ token: TOKEN, allowedOrigins: [PROXIED_ORIGIN] });
});
afterAll(async () => {
  await rig?.close();
});

type Res = { status: number; headers: Headers; text: string; cookies: string[] };
async function request(path: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(`${rig.url}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, text: await res.text(), cookies: res.headers.getSetCookie() };
}
/** A cookie's name on this console: the prefix and the server's port. */
const named = (prefix: 'b24c_csrf' | 'b24c_session') => `${prefix}_${new URL(rig.url).port}`;
const cookieOf = (cookies: string[], prefix: 'b24c_csrf' | 'b24c_session') => cookies.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${named(prefix)}=`));
const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

/** Log in as a browser does: the form (csrf cookie and token), the POST, then a page (its CSRF token, bound to the login). */
async function login(csrfCookie?: string): Promise<{ cookie: string; csrf: string; preLogin: string }> {
  const form = await request('/console/login', csrfCookie ? { headers: { cookie: csrfCookie } } : {});
  csrfCookie ??= cookieOf(form.cookies, 'b24c_csrf')!;
  const preLogin = csrfIn(form.text)!;
  const ok = await request('/console/login', { method: 'POST', headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: preLogin, token: TOKEN, next: '/console/rules' }) });
  expect(ok.status).toBe(303);
  expect(ok.headers.get('location')).toBe('/console/rules');
  const session = cookieOf(ok.cookies, 'b24c_session')!;
  expect(ok.cookies.find((c) => c.startsWith(`${named('b24c_session')}=`))).toMatch(/HttpOnly; SameSite=Strict/);
  const cookie = `${csrfCookie}; ${session}`;
  const page = await request('/console/rules', { headers: { cookie } });
  return { cookie, csrf: csrfIn(page.text)!, preLogin };
}

describe('the console with a token', () => {
  it('answers nothing of the portal without it: 401 for the API, the login form for pages', async () => {
    expect((await request('/api/rules')).status).toBe(401);
    expect((await request('/api/rules', { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    const page = await request('/console/runs?rule=x');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fruns%3Frule%3Dx');
    const bearer = await request('/api/rules', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    // The assets carry no data and load before the login.
    expect((await request('/console/assets/console.css')).status).toBe(200);
  });

  it('logs in with the token (compared as a whole), and a wrong token or a login without its CSRF token is refused', async () => {
    const form = await request('/console/login');
    const csrfCookie = cookieOf(form.cookies, 'b24c_csrf')!;
    const csrf = csrfIn(form.text)!;
    const post = (body: Record<string, string>, cookie = csrfCookie) =>
      request('/console/login', { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    expect((await post({ _csrf: csrf, token: TOKEN.slice(0, -1) })).status).toBe(401);
    expect((await post({ _csrf: csrf, token: `${TOKEN}x` })).status).toBe(401);
    expect((await post({ token: TOKEN })).status).toBe(403);
    expect((await post({ _csrf: csrf, token: TOKEN }, `${named('b24c_csrf')}=another-browser-cookie-value-xx`)).status).toBe(403);
    const { cookie } = await login();
    const rules = await request('/console/rules', { headers: { cookie } });
    expect(rules.status).toBe(200);
    expect(rules.text).toContain('Log out');
    for (const path of ['/console/rules', '/console/runs', '/console/dlq', '/console/health', '/api/rules', '/api/health']) {
      const r = await request(path, { headers: { cookie } });
      expect(r.status, path).toBe(200);
      expect(r.text, path).not.toContain(TOKEN);
    }
  });

  it('refuses a state-changing POST without the CSRF token, with a forged one, or from another origin', async () => {
    const { cookie, csrf } = await login();
    const drop = (headers: Record<string, string>, body?: string) => request('/api/dlq/all/drop', { method: 'POST', headers: { cookie, ...headers }, ...(body ? { body } : {}) });
    const none = await drop({});
    expect(none.status).toBe(403);
    expect(none.text).toContain('CSRF');
    expect((await drop({ 'x-csrf-token': 'forged' })).status).toBe(403);
    expect((await drop({ 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await drop({ 'content-type': 'application/x-www-form-urlencoded' }, '_csrf=')).status).toBe(403);
    const ok = await drop({ 'x-csrf-token': csrf, origin: rig.url });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ dropped: [] });
    // A script with the token itself (no browser sends it on its own) needs no CSRF token.
    expect((await request('/api/dlq/all/retry', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // Only the DLQ actions change state.
    expect((await request('/api/rules', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(405);
  });

  it('binds the CSRF token to the login: a token read before it (the login page is open to anyone) or from another session is refused', async () => {
    const first = await login();
    const drop = (cookie: string, token: string) => request('/api/dlq/all/drop', { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
    expect((await drop(first.cookie, first.preLogin)).status).toBe(403);
    expect((await drop(first.cookie, first.csrf)).status).toBe(200);
    // The same browser logs in again: the first session's token is no good with the second.
    const csrfCookie = first.cookie.split('; ')[0]!;
    const second = await login(csrfCookie);
    expect(second.cookie).not.toBe(first.cookie);
    expect((await drop(second.cookie, first.csrf)).status).toBe(403);
    expect((await drop(second.cookie, second.csrf)).status).toBe(200);
  });

  it("behind a proxy that rewrites Host, a POST's Origin may name X-Forwarded-Host or B24_RULES_CONSOLE_ORIGIN, nothing else", async () => {
    const { cookie, csrf } = await login();
    const drop = (headers: Record<string, string>) => request('/api/dlq/all/drop', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, ...headers } });
    expect((await drop({ origin: 'https://rules.example.com', 'x-forwarded-host': 'rules.example.com', 'x-forwarded-proto': 'https' })).status).toBe(200);
    expect((await drop({ origin: 'https://rules.example.com', 'x-forwarded-host': 'rules.example.com, 10.0.0.1' })).status).toBe(200);
    expect((await drop({ origin: 'https://rules.example.com' })).status).toBe(403);
    expect((await drop({ origin: 'https://evil.example', 'x-forwarded-host': 'rules.example.com' })).status).toBe(403);
    expect((await drop({ origin: PROXIED_ORIGIN })).status).toBe(200);
    expect((await drop({ origin: `${PROXIED_ORIGIN}:8443` })).status).toBe(403);
    expect((await drop({ origin: PROXIED_ORIGIN.replace('https:', 'http:') })).status).toBe(403);
  });

  it('names its cookies by its port (two consoles on one host keep theirs apart), Secure when the browser came over TLS', async () => {
    const plain = await request('/console/login');
    const csrf = plain.cookies.find((c) => c.startsWith(`${named('b24c_csrf')}=`));
    expect(csrf).toBeDefined();
    expect(csrf).not.toContain('Secure');
    const viaTls = await request('/console/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(viaTls.cookies.find((c) => c.startsWith(`${named('b24c_csrf')}=`))).toMatch(/; Secure/);
    const csrfCookie = cookieOf(viaTls.cookies, 'b24c_csrf')!;
    const ok = await request('/console/login', {
      method: 'POST',
      headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded', forwarded: 'for=203.0.113.7;proto=https' },
      body: new URLSearchParams({ _csrf: csrfIn(viaTls.text)!, token: TOKEN }),
    });
    expect(ok.status).toBe(303);
    expect(ok.cookies.find((c) => c.startsWith(`${named('b24c_session')}=`))).toMatch(/HttpOnly; SameSite=Strict; Secure/);
  });

  it('answers a form too large, or a next= a header cannot carry, with a 4xx and the security headers (no bare 500)', async () => {
    const form = await request('/console/login');
    const csrfCookie = cookieOf(form.cookies, 'b24c_csrf')!;
    const csrf = csrfIn(form.text)!;
    const post = (path: string, body: Record<string, string>, cookie = csrfCookie) =>
      request(path, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const huge = await post('/console/login', { _csrf: csrf, token: TOKEN, pad: 'x'.repeat(20_000) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const next of ['/console/rules\r\nSet-Cookie: planted=1', '/console/runs?rule=сделка', '/console/\u0000x']) {
      const r = await post('/console/login', { _csrf: csrf, token: TOKEN, next });
      expect(r.status, JSON.stringify(next)).toBe(303);
      expect(r.headers.get('location')).toBe('/console/rules');
      expect(r.cookies.join()).not.toContain('planted');
    }
    const { cookie, csrf: token } = await login();
    const logout = await post('/console/logout', { _csrf: token, pad: 'x'.repeat(20_000) }, cookie);
    expect(logout.status).toBe(413);
    expect(logout.headers.get('x-frame-options')).toBe('DENY');
  });

  it('sends a Content-Security-Policy without inline script, and its pages have none', async () => {
    const { cookie } = await login();
    for (const path of ['/console/rules', '/console/runs', '/console/dlq', '/console/health', '/console/login']) {
      const r = await request(path, { headers: { cookie } });
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      const scripts = [...r.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      for (const s of scripts) expect(s, path).toMatch(/ src="\/console\/assets\/console\.js"/);
      expect(r.text, path).not.toMatch(/\son[a-z]+="/);
      expect(r.text).not.toMatch(/ style="/);
    }
  });
});

describe('where the console may listen', () => {
  it('beyond loopback only with a token of 16 characters or more', () => {
    expect(() => checkConsoleListen('0.0.0.0:7424', null)).toThrow(expect.objectContaining({ code: 'CONSOLE_TOKEN_REQUIRED' }));
    expect(() => checkConsoleListen('[::]:7424', null)).toThrow(expect.objectContaining({ code: 'CONSOLE_TOKEN_REQUIRED' }));
    expect(() => checkConsoleListen('10.0.0.5:80', null)).toThrow(/not a loopback address/);
    for (const ok of ['127.0.0.1:0', ':0', '7424', '[::1]:0', 'localhost:0']) expect(() => checkConsoleListen(ok, null)).not.toThrow();
    expect(() => checkConsoleListen('0.0.0.0:7424', TOKEN)).not.toThrow();
    expect(() => readConsoleToken({ B24_RULES_CONSOLE_TOKEN: 'short' })).toThrow(expect.objectContaining({ code: 'CONSOLE_TOKEN_INVALID' }));
    expect(readConsoleToken({})).toBeNull();
    expect(readConsoleToken({ B24_RULES_CONSOLE_TOKEN: ` ${TOKEN} ` })).toBe(TOKEN);
  });

  it('rules run --listen 0.0.0.0 without a token refuses to start, with the code and what to do', async () => {
    const r = await runCli(['run', 'rules', '--listen', '0.0.0.0:0', '--state', '/nonexistent/never-created.db'], { env: { B24_RULES_CONSOLE_TOKEN: '', B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/abcdefgh/' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONSOLE_TOKEN_REQUIRED');
    expect(r.stderr).toContain('B24_RULES_CONSOLE_TOKEN');
    expect(r.stdout).not.toContain('daemon started');
  });
});
