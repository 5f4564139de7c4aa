/**
 * Issue 13, item 6: the refresh margin is relative to the token's lifetime and
 * a young token is never refreshed ahead of time. With a fixed 60 s margin a
 * 30 s token was refreshed before every request (every refresh rotates the
 * refresh token). The emulator issues the short tokens and enforces their
 * expiry; its clock is the client's clock, so five minutes pass at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { refreshMarginMs } from '../../engine/client/oauth.js';
import type { ClientConfig } from '../../engine/client/types.js';
import { fakeClock, type FakeClock } from './helpers/fake-clock.js';
import { oauthConfig } from './helpers/config.js';
import { ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';

let dir: string;
let emu: Emulator | undefined;
let server: ScriptedServer | undefined;
let client: B24Client | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'b24-token-life-'));
});

afterEach(async () => {
  await client?.close();
  await emu?.close();
  await server?.close();
  client = undefined;
  emu = undefined;
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

function emulatorConfig(e: Emulator, clock: FakeClock, ttlSeconds: number): ClientConfig {
  return {
    baseUrl: e.url,
    plan: 'standard',
    auth: {
      mode: 'oauth',
      accessToken: e.app.access_token,
      refreshToken: e.app.refresh_token,
      clientId: e.app.client_id,
      clientSecret: e.app.client_secret,
      oauthUrl: e.app.oauth_url,
      tokenFile: join(dir, 'tokens.json'),
      accessTokenExpiresAt: clock.now() + ttlSeconds * 1000,
    },
  };
}

describe('refresh margin and short-lived tokens (issue 13, item 6)', () => {
  it('regression: 30 s tokens, one request a second for 5 minutes: about one refresh per token lifetime, not one per request', async () => {
    const clock = fakeClock(Date.parse('2026-11-24T06:00:00Z'));
    emu = await startEmulator({ now: clock.now, tokenTtlSeconds: 30, limits: { burst: 1_000_000 } });
    client = createClient(emulatorConfig(emu, clock, 30), { clock });
    const requests = 300;
    for (let i = 0; i < requests; i++) {
      const env = await client.call<{ ID: string }>('user.current');
      expect(env.result.ID).toBe('1');
      clock.advance(1_000);
    }
    const refreshes = client.stats.refreshes;
    // A 30 s token is refreshed 3 s (10 %) before it expires: every 27 s, plus one for the first token, whose age is unknown.
    expect(refreshes).toBeGreaterThanOrEqual(Math.floor(requests / 27));
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(requests / 27) + 1);
    // The margin kept every request ahead of the expiry: the portal never refused a token.
    expect(emu.calls.of('user.current').filter((c) => c.error !== undefined)).toEqual([]);
    expect(emu.calls.of('user.current')).toHaveLength(requests);
  });

  it('a token younger than minTokenAgeMs is not refreshed ahead of time, however short its lifetime', async () => {
    const state = { current: 'access-token-old-0001', refresh: 'refresh-token-old-0001', generation: 0 };
    server = await startServer((req) => {
      if (req.method === 'oauth/token') {
        if (req.query.get('refresh_token') !== state.refresh) return { status: 400, json: { error: 'invalid_grant', error_description: 'used' } };
        state.generation++;
        state.current = `access-token-new-${state.generation}`;
        state.refresh = `refresh-token-new-${state.generation}`;
        // A 2 s token: a 10 % margin alone would refresh it every 1.8 s.
        return { json: { access_token: state.current, refresh_token: state.refresh, expires_in: 2 } };
      }
      // This portal never expires a token it issued: only the client's own schedule refreshes.
      return req.body.auth === state.current ? ok(true) : { status: 401, json: { error: 'expired_token', error_description: 'expired' } };
    });
    const clock = fakeClock();
    client = createClient(oauthConfig(server.url, join(dir, 't.json'), { accessTokenExpiresAt: clock.now() }), { clock, minTokenAgeMs: 5_000 });
    for (let i = 0; i < 20; i++) {
      await client.call('crm.lead.get', { id: 1 });
      clock.advance(1_000);
    }
    // The first call refreshes the expired token; after that, one refresh per 5 s of age: 20 s / 5 s.
    expect(client.stats.refreshes).toBeLessThanOrEqual(5);
    expect(client.stats.refreshes).toBeGreaterThanOrEqual(4);
  });

  it('expired_token from the portal refreshes even a token obtained a moment ago', async () => {
    const state = { current: 'access-token-old-0001', refresh: 'refresh-token-old-0001', generation: 0 };
    server = await startServer((req) => {
      if (req.method === 'oauth/token') {
        state.generation++;
        state.current = `access-token-new-${state.generation}`;
        state.refresh = `refresh-token-new-${state.generation}`;
        return { json: { access_token: state.current, refresh_token: state.refresh, expires_in: 3600 } };
      }
      return req.body.auth === state.current ? ok(true) : { status: 401, json: { error: 'expired_token', error_description: 'expired' } };
    });
    const clock = fakeClock();
    state.current = 'revoked-elsewhere';
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock });
    await client.call('crm.lead.get', { id: 1 });
    expect(client.stats.refreshes).toBe(1);
    // The portal drops the fresh token at once (a reinstall, another process): the client refreshes again, young or not.
    state.current = 'revoked-again';
    await client.call('crm.lead.get', { id: 1 });
    expect(client.stats.refreshes).toBe(2);
  });

  it('refreshMarginMs: min(refreshSkewMs, 10 % of a known lifetime); the full skew when the lifetime is unknown', () => {
    const o = { refreshSkewMs: 60_000, refreshSkewShare: 0.1 };
    expect(refreshMarginMs(30_000, 0, o)).toBe(3_000);
    expect(refreshMarginMs(3_600_000, 0, o)).toBe(60_000);
    expect(refreshMarginMs(30_000, undefined, o)).toBe(60_000);
  });
});
