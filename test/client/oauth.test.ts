import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { AuthError } from '../../engine/client/errors.js';
import { fingerprint } from '../../engine/client/token-store.js';
import { fakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type Handler, type ScriptedServer } from './helpers/scripted-server.js';
import { oauthConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'b24-oauth-'));
});

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A portal whose valid access token is `current`; the token server rotates both tokens on each refresh. */
function portal(options: { expiresIn?: number } = {}) {
  const state = { current: 'access-token-old-0001', refresh: 'refresh-token-old-0001', generation: 0 };
  const handler: Handler = (req) => {
    if (req.method === 'oauth/token') {
      const q = req.query;
      if (q.get('grant_type') !== 'refresh_token' || q.get('client_id') !== 'local.app.1' || q.get('client_secret') !== 'client-secret-zzz-999') {
        return fail(401, 'invalid_client', 'bad client');
      }
      if (q.get('refresh_token') !== state.refresh) return fail(400, 'invalid_grant', 'refresh token expired');
      state.generation++;
      state.current = `access-token-new-${state.generation}`;
      state.refresh = `refresh-token-new-${state.generation}`;
      return { json: { access_token: state.current, refresh_token: state.refresh, expires_in: options.expiresIn ?? 3600, member_id: 'm1', client_endpoint: 'x' } };
    }
    if (req.body.auth !== state.current) return fail(401, 'expired_token', 'The access token provided has expired.');
    return ok({ ID: '1', method: req.method, connector: req.body.auth_connector ?? null });
  };
  return { state, handler };
}

describe('OAuth', () => {
  it('sends the token as the auth param of {base}/rest/{method}.json', async () => {
    server = await startServer(() => ok(true));
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock() });
    await client.call('crm.lead.get', { id: 1 });
    expect(server.seen[0]?.path).toBe('/rest/crm.lead.get.json');
    expect(server.seen[0]?.body).toEqual({ id: 1, auth: 'access-token-old-0001' });
  });

  it('expired_token: refreshes, persists the rotated pair (mode 0600) and re-sends', async () => {
    const p = portal();
    p.state.current = 'something-else';
    server = await startServer(p.handler);
    const file = join(dir, 'nested', 'tokens.json');
    client = createClient(oauthConfig(server.url, file), { clock: fakeClock() });
    const env = await client.call('crm.lead.get', { id: 1 });
    expect(env.result).toMatchObject({ ID: '1' });
    expect(server.count('oauth/token')).toBe(1);
    expect(server.count('crm.lead.get')).toBe(2);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(saved.accessToken).toBe('access-token-new-1');
    expect(saved.refreshToken).toBe('refresh-token-new-1');
    expect(saved.portal).toBe(server.url);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(client.stats.refreshes).toBe(1);
  });

  it('B24_OAUTH_URL may be the token server or its full /oauth/token/ endpoint', async () => {
    const p = portal();
    p.state.current = 'elsewhere-1';
    server = await startServer(p.handler);
    client = createClient(oauthConfig(server.url, join(dir, 't.json'), { oauthUrl: `${server.url}/oauth/token/` }), { clock: fakeClock() });
    await client.call('crm.lead.get', {});
    expect(server.seen.find((s) => s.method === 'oauth/token')?.path).toBe('/oauth/token/');
  });

  it('20 concurrent calls that all hit expired_token cause exactly one refresh request', async () => {
    const p = portal();
    p.state.current = 'rotated-elsewhere';
    let refusals = 0;
    let releaseTokenServer: () => void = () => {};
    const allRefused = new Promise<void>((resolve) => (releaseTokenServer = resolve));
    // The token server answers only once all 20 calls were refused, so every one of them finds the refresh in flight.
    server = await startServer(async (req, n) => {
      if (req.method === 'oauth/token') await allRefused;
      const reply = await p.handler(req, n);
      if (req.method === 'crm.lead.get' && 'status' in reply && reply.status === 401 && ++refusals === 20) releaseTokenServer();
      return reply;
    });
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock(), connections: 32 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client!.call('crm.lead.get', { id: i })));
    expect(results).toHaveLength(20);
    expect(server.count('oauth/token')).toBe(1);
    expect(server.count('crm.lead.get')).toBe(40);
    expect(server.seen.filter((s) => s.method === 'crm.lead.get' && s.body.auth === 'access-token-new-1')).toHaveLength(20);
  });

  it('refreshes before the known expiry (injected clock) instead of waiting for a refusal', async () => {
    const p = portal({ expiresIn: 3600 });
    server = await startServer(p.handler);
    const clock = fakeClock();
    client = createClient(oauthConfig(server.url, join(dir, 't.json'), { accessTokenExpiresAt: clock.now() + 3_600_000 }), { clock });
    await client.call('crm.lead.get', {});
    expect(server.count('oauth/token')).toBe(0);
    clock.advance(3_600_000 - 30_000);
    await client.call('crm.lead.get', {});
    expect(server.count('oauth/token')).toBe(1);
    expect(server.count('crm.lead.get')).toBe(2);
    // the new token's expiry comes from expires_in
    clock.advance(3_000_000);
    await client.call('crm.lead.get', {});
    expect(server.count('oauth/token')).toBe(1);
    clock.advance(600_000);
    await client.call('crm.lead.get', {});
    expect(server.count('oauth/token')).toBe(2);
  });

  it('a refused refresh is AuthError AUTH_REFRESH_FAILED carrying the token server error, without secrets', async () => {
    const p = portal();
    p.state.current = 'x-other';
    p.state.refresh = 'not-the-one-we-have';
    server = await startServer(p.handler);
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock() });
    const err = await client.call('crm.lead.get', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    const e = err as AuthError;
    expect(e.code).toBe('AUTH_REFRESH_FAILED');
    expect(e.error).toBe('invalid_grant');
    expect(e.status).toBe(400);
    const text = `${e.message} ${e.stack} ${JSON.stringify(e)}`;
    for (const s of ['refresh-token-old-0001', 'client-secret-zzz-999', 'access-token-old-0001']) expect(text).not.toContain(s);
  });

  it('a second expired_token right after a refresh is AUTH_FAILED, not an endless loop', async () => {
    server = await startServer((req) =>
      req.method === 'oauth/token' ? { json: { access_token: 'access-x-1234', refresh_token: 'refresh-x-1234', expires_in: 3600 } } : fail(401, 'expired_token'),
    );
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock() });
    const err = (await client.call('crm.lead.get', {}).catch((e: unknown) => e)) as AuthError;
    expect(err.code).toBe('AUTH_FAILED');
    expect(server.count('oauth/token')).toBe(1);
    expect(server.count('crm.lead.get')).toBe(2);
  });

  it('tokens from the file win over the environment when they continue the same grant', async () => {
    const p = portal();
    p.state.current = 'access-from-file-1';
    p.state.refresh = 'refresh-from-file-1';
    server = await startServer(p.handler);
    const file = join(dir, 't.json');
    await writeFile(file, JSON.stringify({ accessToken: 'access-from-file-1', refreshToken: 'refresh-from-file-1', obtainedAt: 1, portal: server.url, seed: fingerprint('refresh-token-old-0001') }));
    client = createClient(oauthConfig(server.url, file), { clock: fakeClock() });
    await client.call('crm.lead.get', {});
    expect(server.count('oauth/token')).toBe(0);
    expect(server.seen[0]?.body.auth).toBe('access-from-file-1');
  });

  it('a new grant in the environment wins over an older token file', async () => {
    const p = portal();
    server = await startServer(p.handler);
    const file = join(dir, 't.json');
    await writeFile(file, JSON.stringify({ accessToken: 'stale-access-77', refreshToken: 'stale-refresh-77', obtainedAt: 1, portal: server.url, seed: fingerprint('some-older-grant') }));
    client = createClient(oauthConfig(server.url, file), { clock: fakeClock() });
    await client.call('crm.lead.get', {});
    expect(server.seen[0]?.body.auth).toBe('access-token-old-0001');
  });

  it('auth_connector goes with every write but record creations, never with reads', async () => {
    const p = portal();
    server = await startServer(p.handler);
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock(), authConnector: 'b24rules' });
    await client.call('crm.deal.update', { id: 1, fields: { TITLE: 'x' } });
    await client.call('crm.deal.get', { id: 1 });
    await client.call('crm.lead.add', { fields: { TITLE: 'from a form' } });
    expect(server.seen[0]?.body.auth_connector).toBe('b24rules');
    expect(server.seen[1]?.body.auth_connector).toBeUndefined();
    // A lead the engine creates must reach the other rules as ONCRMLEADADD, like one a person created.
    expect(server.seen[2]?.body.auth_connector).toBeUndefined();
  });

  it('auth_connector goes into each write command of a batch, and never in webhook mode', async () => {
    server = await startServer(() => ok({ result: {}, result_error: [] }));
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock(), authConnector: 'b24rules' });
    await client.batch({ w: { method: 'crm.deal.update', params: { id: 1, fields: { TITLE: 'x' } } }, r: { method: 'crm.deal.get', params: { id: 1 } }, c: { method: 'tasks.task.add', params: { fields: { TITLE: 't' } } } });
    await client.call('batch', { cmd: { w: 'crm.deal.update?id=1&fields[TITLE]=y', r: 'crm.deal.get?id=1' } });
    const [structured, raw] = server.seen.map((s) => s.body.cmd as Record<string, string>);
    expect(structured?.w).toBe('crm.deal.update?id=1&fields[TITLE]=x&auth_connector=b24rules');
    expect(structured?.r).toBe('crm.deal.get?id=1');
    expect(structured?.c).toBe('tasks.task.add?fields[TITLE]=t');
    expect(raw?.w).toBe('crm.deal.update?id=1&fields[TITLE]=y&auth_connector=b24rules');
    expect(raw?.r).toBe('crm.deal.get?id=1');
    expect(server.seen[0]?.body.auth_connector).toBeUndefined();
    const hook = createClient({ baseUrl: server.url, plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'hookcode123' } }, { clock: fakeClock(), authConnector: 'b24rules' });
    await hook.call('crm.deal.update', { id: 1, fields: {} });
    await hook.close();
    expect(server.seen[2]?.body.auth_connector).toBeUndefined();
  });
});
