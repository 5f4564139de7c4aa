/**
 * Authentication. Doc pages: _includes/system-errors.md (the English page in bitrix24/b24restdocs: NO_AUTH_FOUND 401 when no
 * credentials are sent, INVALID_CREDENTIALS 401 for no active webhook with that user and code, insufficient_scope 401,
 * expired_token 401; the older Russian table lists NO_AUTH_FOUND for a wrong code and 403 for insufficient_scope),
 * settings/oauth/auto-renewal.md (refresh rotation), settings/oauth/error-codes.md (invalid_grant, invalid_client),
 * api-reference/events/event-bind.md (app context only: WRONG_AUTH_TYPE for webhooks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { emulator, get, oauth, post, postForm, type Clock } from './helpers.js';

let emu: Emulator;
let clock: Clock;
beforeAll(async () => {
  ({ emu, clock } = await emulator({ tokenTtlSeconds: 3600 }));
});
afterAll(() => emu.close());

describe('webhooks', () => {
  it('a wrong webhook code or user is 401 INVALID_CREDENTIALS', async () => {
    const wrongCode = await post(`${emu.url}/rest/1/notthecode12345/server.time`);
    expect(wrongCode).toEqual({ status: 401, body: { error: 'INVALID_CREDENTIALS', error_description: 'Invalid request credentials' } });
    const code = emu.webhookUrl.split('/')[5];
    expect((await post(`${emu.url}/rest/2/${code}/server.time`)).status).toBe(401);
  });

  it('a webhook without the scope gets 401 insufficient_scope naming the webhook token', async () => {
    const limited = emu.addWebhook({ userId: 1, scopes: ['user'] });
    expect((await post(`${limited}user.current`)).status).toBe(200);
    expect(await post(`${limited}crm.deal.list`)).toEqual({ status: 401, body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the webhook token' } });
  });

  it('an app without the scope gets insufficient_scope naming the access token', async () => {
    const { emu: narrow } = await emulator({ appScopes: ['crm'] });
    try {
      expect(await oauth(narrow, 'tasks.task.list')).toEqual({ status: 401, body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token' } });
      expect((await oauth(narrow, 'crm.deal.list', { select: ['ID'] })).status).toBe(200);
    } finally {
      await narrow.close();
    }
  });

  it('app-only methods (event.*) answer WRONG_AUTH_TYPE 403 to a webhook', async () => {
    const a = await post(`${emu.webhookUrl}event.bind`, { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    expect(a).toEqual({ status: 403, body: { error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' } });
  });
});

describe('OAuth tokens', () => {
  it('auth is accepted in the query string, a form body or a JSON body', async () => {
    expect((await get(`${emu.url}/rest/server.time`, `auth=${emu.app.access_token}`)).status).toBe(200);
    expect((await postForm(`${emu.url}/rest/server.time.json`, { auth: emu.app.access_token })).status).toBe(200);
    expect((await oauth(emu, 'server.time')).status).toBe(200);
  });

  it('no auth is 401 NO_AUTH_FOUND; an unknown token is 401 invalid_token', async () => {
    expect(await post(`${emu.url}/rest/server.time`)).toEqual({ status: 401, body: { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' } });
    const unknown = await oauth(emu, 'server.time', {}, 'nonsense-token');
    expect(unknown).toEqual({ status: 401, body: { error: 'invalid_token', error_description: 'The access token provided is invalid.' } });
  });

  it('an OAuth call acts as the token owner', async () => {
    const t = emu.issueTokens(3);
    const a = await oauth(emu, 'user.current', {}, t.access_token);
    expect((a.body.result as { ID: string }).ID).toBe('3');
  });

  it('a token expires after tokenTtlSeconds on the emulator clock (401 expired_token), and refresh rotates the pair', async () => {
    const pair = emu.issueTokens(1);
    clock.advance(3599_000);
    expect((await oauth(emu, 'server.time', {}, pair.access_token)).status).toBe(200);
    clock.advance(1_000);
    expect(await oauth(emu, 'server.time', {}, pair.access_token)).toEqual({ status: 401, body: { error: 'expired_token', error_description: 'The access token provided has expired.' } });

    const refreshed = await get(emu.app.oauth_url, new URLSearchParams({ grant_type: 'refresh_token', client_id: emu.app.client_id, client_secret: emu.app.client_secret, refresh_token: pair.refresh_token }).toString());
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ expires_in: 3600, member_id: emu.app.member_id, user_id: 1, client_endpoint: `${emu.url}/rest/`, status: 'L' });
    expect(refreshed.body.expires).toBe(Math.floor(clock.now() / 1000) + 3600);
    expect(refreshed.body.refresh_token).not.toBe(pair.refresh_token);
    expect((await oauth(emu, 'server.time', {}, refreshed.body.access_token as string)).status).toBe(200);

    // The used refresh token is refused; the new one works (POST form works too).
    const reused = await get(emu.app.oauth_url, new URLSearchParams({ grant_type: 'refresh_token', client_id: emu.app.client_id, client_secret: emu.app.client_secret, refresh_token: pair.refresh_token }).toString());
    expect(reused).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } });
    const again = await postForm(emu.app.oauth_url, { grant_type: 'refresh_token', client_id: emu.app.client_id, client_secret: emu.app.client_secret, refresh_token: refreshed.body.refresh_token });
    expect(again.status).toBe(200);
  });

  it('token server errors: wrong client 401 invalid_client, missing grant_type 400 invalid_request', async () => {
    const bad = await get(emu.app.oauth_url, `grant_type=refresh_token&client_id=${emu.app.client_id}&client_secret=wrong&refresh_token=x`);
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    const missing = await get(emu.app.oauth_url, '');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('an app token may call app-only methods', async () => {
    // A fresh token: the default one expired when the clock moved an hour above.
    const a = await oauth(emu, 'event.get', {}, emu.issueTokens(1).access_token);
    expect(a.status).toBe(200);
  });
});
