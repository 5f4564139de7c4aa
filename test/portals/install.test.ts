/**
 * The install endpoint over real HTTP: Bitrix24's ONAPPINSTALL and
 * ONAPPUNINSTALL bodies (form-encoded) posted to POST /b24/app on a status
 * server, the refresh token verified at the emulator's token server, the
 * portal added, re-installed, uninstalled and cleaned without a restart;
 * forged installs and uninstalls refused, and no answer echoing a token.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInstallHandler, LeaseManager, PortalRegistry, type ControlPlane } from '../../engine/portals/index.js';
import { redact, registeredSecretCount } from '../../engine/redact.js';
import { MetricsRegistry, startStatusServer, type StatusServer } from '../../engine/status/index.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { pgUrl } from '../helpers/pg.js';
import { freshControlPlane } from './control-plane.js';

/** PHP-style bracket keys, as a portal posts its events. */
function form(fields: Record<string, Record<string, string | number> | string>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') out.append(k, v);
    else for (const [kk, vv] of Object.entries(v)) out.append(`${k}[${kk}]`, String(vv));
  }
  return out.toString();
}

describe.skipIf(!pgUrl())('the install endpoint (PostgreSQL + emulator over HTTP)', () => {
  let cp: ControlPlane;
  let emu: Emulator;
  let server: StatusServer;
  let registry: PortalRegistry;
  const cleaned: string[] = [];
  const changes: string[] = [];

  const post = async (body: string, method = 'POST') => {
    const res = await fetch(`${server.url}/b24/app`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...(method === 'POST' ? { body } : {}) });
    return { status: res.status, text: await res.text() };
  };
  const portal = () => ({ domain: emu.app.domain, client_endpoint: `${emu.url}/rest/`, server_endpoint: `${emu.url}/rest/`, member_id: emu.app.member_id });
  const installBody = (pair: { access_token: string; refresh_token: string }, over: Record<string, string> = {}) =>
    form({
      event: 'ONAPPINSTALL',
      data: { VERSION: 1, ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'en' },
      ts: '1700000000',
      auth: { ...portal(), ...pair, expires_in: 3600, scope: 'crm', status: 'L', application_token: emu.app.application_token, ...over },
    });
  const uninstallBody = (over: Record<string, string> = {}, clean = 0) =>
    form({ event: 'ONAPPUNINSTALL', data: { LANGUAGE_ID: 'en', CLEAN: clean }, ts: '1700000000', auth: { ...portal(), application_token: emu.app.application_token, ...over } });
  const version = async () => (await registry.get(emu.app.member_id))?.tokenVersion;

  beforeAll(async () => {
    ({ cp } = await freshControlPlane('install'));
    registry = new PortalRegistry(cp.pool);
    emu = await startEmulator({ limits: { burst: 1e9 } });
    const handler = createInstallHandler({
      registry,
      app: { clientId: emu.app.client_id, clientSecret: emu.app.client_secret, oauthUrl: emu.app.oauth_url },
      onClean: (memberId) => {
        cleaned.push(memberId);
      },
      onChange: (c) => changes.push(`${c.event}:${c.memberId}`),
    });
    server = await startStatusServer({ listen: '127.0.0.1:0', metrics: new MetricsRegistry(), health: () => ({ ok: true }), handlers: [handler] });
  });
  afterAll(async () => {
    await server?.close();
    await emu?.close();
    await cp?.close();
  });
  beforeEach(async () => {
    await cp.pool.query('DELETE FROM b24rules.portals; DELETE FROM b24rules.leases');
    cleaned.length = 0;
    changes.length = 0;
  });

  it('ONAPPINSTALL adds the portal with a pair verified at the token server (rotated, so the pair sent is spent), without a restart', async () => {
    const pair = emu.issueTokens(1);
    const r = await post(installBody(pair));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ ok: true, member_id: emu.app.member_id, status: 'added' });
    expect(r.text).not.toContain(pair.refresh_token);
    const added = await registry.get(emu.app.member_id);
    expect(added).toMatchObject({ authMode: 'oauth', domain: new URL(emu.url).host, clientEndpoint: `${emu.url}/rest/`, enabled: true, installed: true, hasTokens: true, tokenVersion: 1 });
    const { rows } = await cp.pool.query<{ refresh_token: string; access_token: string }>('SELECT refresh_token, access_token FROM b24rules.portals WHERE member_id = $1', [emu.app.member_id]);
    expect(rows[0]?.refresh_token).not.toBe(pair.refresh_token);
    // The stored pair works at the portal.
    const call = await fetch(`${emu.url}/rest/profile.json?auth=${rows[0]?.access_token}`);
    expect(call.status).toBe(200);
    expect(changes).toEqual([`install:${emu.app.member_id}`]);
    // A worker can take it at once.
    expect(await new LeaseManager(cp.pool, { workerId: 'w1' }).acquireOne(emu.app.member_id)).not.toBeNull();
  });

  it('a forged install is refused: another application_token for an installed portal, a made-up refresh token, a token of another portal', async () => {
    expect((await post(installBody(emu.issueTokens(1)))).status).toBe(200);
    const v = await version();

    const wrongToken = await post(installBody(emu.issueTokens(1), { application_token: 'forged-application-token-1' }));
    expect(wrongToken.status).toBe(403);
    expect(JSON.parse(wrongToken.text).error).toMatch(/another application_token/);
    expect(wrongToken.text).not.toContain('forged-application-token-1');

    await cp.pool.query('DELETE FROM b24rules.portals; DELETE FROM b24rules.leases');
    const madeUp = await post(installBody({ access_token: 'made-up-access-123', refresh_token: 'made-up-refresh-123' }));
    expect(madeUp.status).toBe(403);
    expect(JSON.parse(madeUp.text).error).toMatch(/^install not verified: the token server refused the refresh token/);
    expect(madeUp.text).not.toContain('made-up-refresh-123');
    expect(await registry.get(emu.app.member_id)).toBeUndefined();

    const otherPortal = await post(installBody(emu.issueTokens(1), { member_id: 'someoneelse42' }));
    expect(otherPortal.status).toBe(403);
    expect(JSON.parse(otherPortal.text).error).toMatch(/belongs to another portal/);
    expect(await registry.get('someoneelse42')).toBeUndefined();
    expect(v).toBe(1);
  });

  it('ONAPPUNINSTALL with the right application_token disables the portal and clears its tokens; its worker loses the lease; CLEAN=1 drops its state', async () => {
    expect((await post(installBody(emu.issueTokens(1)))).status).toBe(200);
    const worker = new LeaseManager(cp.pool, { workerId: 'w1' });
    const lease = await worker.acquireOne(emu.app.member_id);

    const forged = await post(uninstallBody({ application_token: 'forged-application-token-2' }));
    expect(forged.status).toBe(403);
    expect((await registry.get(emu.app.member_id))?.enabled).toBe(true);
    expect(cleaned).toEqual([]);

    const r = await post(uninstallBody({}, 1));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ ok: true, member_id: emu.app.member_id, status: 'uninstalled', cleaned: true });
    expect(await registry.get(emu.app.member_id)).toMatchObject({ enabled: false, hasTokens: false, installed: false });
    const { rows } = await cp.pool.query('SELECT access_token, refresh_token FROM b24rules.portals WHERE member_id = $1', [emu.app.member_id]);
    expect(rows[0]).toEqual({ access_token: null, refresh_token: null });
    expect(cleaned).toEqual([emu.app.member_id]);
    expect(await worker.renew(lease as NonNullable<typeof lease>)).toBeNull();
    expect(changes).toEqual([`install:${emu.app.member_id}`, `uninstall:${emu.app.member_id}`]);

    // Sent twice: still fine; CLEAN=0 drops nothing.
    expect((await post(uninstallBody())).status).toBe(200);
    expect(cleaned).toHaveLength(1);
  });

  it('re-installs after an uninstall, with the new installation\'s application_token', async () => {
    expect((await post(installBody(emu.issueTokens(1)))).status).toBe(200);
    const worker = new LeaseManager(cp.pool, { workerId: 'w1' });
    const lease = await worker.acquireOne(emu.app.member_id);
    // The same installation again (a new pair): the worker holding the old pair is stopped.
    const same = await post(installBody(emu.issueTokens(1)));
    expect(JSON.parse(same.text).status).toBe('reinstalled');
    expect(await worker.renew(lease as NonNullable<typeof lease>)).toBeNull();
    expect((await post(uninstallBody())).status).toBe(200);
    const again = await post(installBody(emu.issueTokens(1), { application_token: 'new-installation-token-1' }));
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text).status).toBe('reinstalled');
    expect(await registry.get(emu.app.member_id)).toMatchObject({ enabled: true, installed: true, hasTokens: true, uninstalledAt: null });
    // The new installation's token is the one checked from now on.
    expect((await post(uninstallBody())).status).toBe(403);
    expect((await post(uninstallBody({ application_token: 'new-installation-token-1' }))).status).toBe(200);
  });

  it('registers nothing from a refused install or uninstall as a secret (anyone may post): only a verified one', async () => {
    expect((await post(installBody(emu.issueTokens(1)))).status).toBe(200);
    const name = 'Ivan Sokolov';
    // Issued before counting: the emulator (in this process) registers the tokens it issues.
    const unused = emu.issueTokens(1);
    const count = registeredSecretCount();
    // A forged uninstall naming a person as its application_token, and forged installs carrying strings as tokens.
    expect((await post(uninstallBody({ application_token: name }))).status).toBe(403);
    expect((await post(installBody(unused, { application_token: 'Maria Ivanova' }))).status).toBe(403);
    expect((await post(installBody({ access_token: 'Deal for Romashka LLC', refresh_token: 'Pyotr Smirnov' }, { member_id: 'stranger1' }))).status).toBe(403);
    expect((await post(uninstallBody({ application_token: 'Olga Petrova', member_id: 'nobodyhere2' }))).status).toBe(404);
    for (const text of [name, 'Maria Ivanova', 'Deal for Romashka LLC', 'Pyotr Smirnov', 'Olga Petrova']) expect(redact(`lead by ${text}`)).toBe(`lead by ${text}`);
    expect(registeredSecretCount()).toBe(count);
    // Installs repeated many times keep a bounded number of secrets (one slot per portal, replaced).
    const pairs = Array.from({ length: 20 }, () => emu.issueTokens(1));
    const before = registeredSecretCount();
    for (const pair of pairs) expect((await post(installBody(pair))).status).toBe(200);
    expect(registeredSecretCount()).toBeLessThanOrEqual(before + 6);
    // What was verified is masked.
    const { rows } = await cp.pool.query<{ refresh_token: string }>('SELECT refresh_token FROM b24rules.portals WHERE member_id = $1', [emu.app.member_id]);
    expect(redact(`x ${rows[0]?.refresh_token} y`)).toBe('x [REDACTED] y');
    expect(redact(`app ${emu.app.application_token}`)).toBe('app [REDACTED]');
  });

  it('takes the portal\'s address only from the token server: an answer without client_endpoint is refused, whatever the body says', async () => {
    // A token server that verifies the grant but does not say where the portal is.
    const tokenServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'a'.repeat(32), refresh_token: 'r'.repeat(32), member_id: emu.app.member_id, expires_in: 3600 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const handler = createInstallHandler({
      registry,
      app: { clientId: emu.app.client_id, clientSecret: emu.app.client_secret, oauthUrl: `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}` },
    });
    const other = await startStatusServer({ listen: '127.0.0.1:0', metrics: new MetricsRegistry(), health: () => ({ ok: true }), handlers: [handler] });
    try {
      const res = await fetch(`${other.url}/b24/app`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: installBody(emu.issueTokens(1), { client_endpoint: 'https://attacker.example/rest/' }),
      });
      expect(res.status).toBe(502);
      expect((await res.json()) as unknown).toEqual({ error: 'install not verified: the token server answer has no client_endpoint' });
      expect(await registry.get(emu.app.member_id)).toBeUndefined();
    } finally {
      await other.close();
      await new Promise((resolve) => tokenServer.close(resolve));
    }
  });

  it('says what is wrong with a request it cannot take', async () => {
    expect((await post('', 'GET')).status).toBe(405);
    const noToken = await post(form({ event: 'ONAPPINSTALL', auth: { member_id: 'x1' } }));
    expect(noToken).toMatchObject({ status: 401 });
    expect(JSON.parse(noToken.text).error).toBe('auth[application_token] is required');
    expect(JSON.parse((await post(form({ event: 'ONCRMLEADADD', auth: { application_token: 'abc' } }))).text).error).toBe('event must be ONAPPINSTALL or ONAPPUNINSTALL');
    expect((await post(form({ event: 'ONAPPINSTALL', auth: { application_token: 'abc' } }))).status).toBe(400);
    expect((await post(form({ event: 'ONAPPINSTALL', auth: { application_token: 'abc', member_id: 'm1' } }))).text).toContain('auth[refresh_token] is required');
    const unknown = await post(uninstallBody({ member_id: 'nobodyhere1' }));
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text).error).toMatch(/unknown portal/);
    // Other paths are left to the next handler.
    expect((await fetch(`${server.url}/b24/other`, { method: 'POST' })).status).toBe(404);
  });
});
