/**
 * The console's guards over HTTP: the token (Bearer or a login and its
 * session cookie), CSRF on every state-changing POST, the headers, no inline
 * script, the token never on a page; and `rules run` refusing to serve the
 * console beyond loopback without a token (the CLI as a subprocess).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsoleListen, readConsoleToken } from '../../engine/console/index.js';
import { runCli } from '../helpers/cli.js';
import { startRig, type ConsoleRig } from './harness.js';

const TOKEN = 'console-token-5f0e2a9c41d7b3e8';
let rig: ConsoleRig;
beforeAll(async () => {
  rig = await startRig({ token: TOKEN });
});
afterAll(async () => {
  await rig?.close();
});

type Res = { status: number; headers: Headers; text: string; cookies: string[] };
async function request(path: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(`${rig.url}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, text: await res.text(), cookies: res.headers.getSetCookie() };
}
const cookieOf = (cookies: string[], name: string) => cookies.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));
const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

/** Log in as a browser does: the form (csrf cookie and token), then the POST. Returns the Cookie header. */
async function login(): Promise<{ cookie: string; csrf: string }> {
  const form = await request('/console/login');
  const csrfCookie = cookieOf(form.cookies, 'b24c_csrf')!;
  const csrf = csrfIn(form.text)!;
  const ok = await request('/console/login', { method: 'POST', headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, token: TOKEN, next: '/console/rules' }) });
  expect(ok.status).toBe(303);
  expect(ok.headers.get('location')).toBe('/console/rules');
  const session = cookieOf(ok.cookies, 'b24c_session')!;
  expect(ok.cookies.find((c) => c.startsWith('b24c_session='))).toMatch(/HttpOnly; SameSite=Strict/);
  return { cookie: `${csrfCookie}; ${session}`, csrf };
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
    expect((await post({ _csrf: csrf, token: TOKEN }, 'b24c_csrf=another-browser-cookie-value-xx')).status).toBe(403);
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
