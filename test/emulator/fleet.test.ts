/**
 * The emulator fleet over real HTTP: many portals, each its own server, bucket and offline queue; one
 * token server for all (oauth.bitrix.info's stand-in); ONAPPINSTALL/ONAPPUNINSTALL bodies as
 * api-reference/common/events/on-app-install.md and on-app-uninstall.md show them; and the record of
 * which worker each portal served when.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../engine/client/index.js';
import { fleetMemberId, parsePhpQuery, startEmulatorFleet, workerOf, type EmulatorFleet, type FleetPortal } from '../../emulator/index.js';
import { get, manualClock, NO_RATE_LIMIT, post, type Answer } from './helpers.js';
import { until } from '../daemon/harness.js';

const fleets: EmulatorFleet[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
});

async function fleetOf(options: Parameters<typeof startEmulatorFleet>[0]): Promise<EmulatorFleet> {
  const clock = manualClock();
  const fleet = await startEmulatorFleet({ now: clock.now, ...options });
  fleets.push(fleet);
  return fleet;
}

function hook(p: FleetPortal, method: string, params: Record<string, unknown> = {}): Promise<Answer> {
  return post(`${p.webhookUrl}${method}`, params);
}

function oauth(p: FleetPortal, method: string, params: Record<string, unknown> = {}, token = p.app.access_token): Promise<Answer> {
  return post(`${p.url}/rest/${method}`, { ...params, auth: token });
}

function refresh(fleet: EmulatorFleet, refreshToken: string, secret = fleet.clientSecret): Promise<Answer> {
  return get(fleet.oauthUrl, new URLSearchParams({ grant_type: 'refresh_token', client_id: fleet.clientId, client_secret: secret, refresh_token: refreshToken }).toString());
}

/** A stand-in app handler: answers 200 and keeps each raw form body. */
let handler: Server;
let handlerUrl: string;
const received: string[] = [];
beforeAll(async () => {
  handler = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => handler.listen(0, '127.0.0.1', resolve));
  handlerUrl = `http://127.0.0.1:${(handler.address() as AddressInfo).port}/b24/app`;
});
afterAll(() => new Promise<void>((resolve) => handler.close(() => resolve())));

describe('a fleet of portals', () => {
  it('each portal has its own server, domain and webhook; member_ids are 32 hex from the seed; one app on all', async () => {
    const fleet = await fleetOf({ portals: 2, seed: 7 });
    const [a, b] = fleet.portals as [FleetPortal, FleetPortal];
    expect(a.url).not.toBe(b.url);
    expect(a.domain).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(a.memberId).toBe(fleetMemberId(7, 0));
    expect(b.memberId).toBe(fleetMemberId(7, 1));
    expect(a.memberId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.memberId).not.toBe(b.memberId);
    expect(fleetMemberId(7, 0)).not.toBe(fleetMemberId(8, 0));
    expect(a.app.client_id).toBe(fleet.clientId);
    expect(b.app.client_id).toBe(fleet.clientId);
    expect(a.app.application_token).not.toBe(b.app.application_token);
    expect(a.app.oauth_url).toBe(fleet.oauthUrl);
    expect(fleet.find(b.memberId)).toBe(b);
    expect(fleet.find(a.domain)).toBe(a);
    expect(() => fleet.portal(2)).toThrow(RangeError);

    // Each portal answers as itself, with its own data and its own webhook only.
    expect((await hook(a, 'crm.deal.add', { fields: { TITLE: 'only on a' } })).status).toBe(200);
    const onA = await hook(a, 'crm.deal.list', { filter: { TITLE: 'only on a' } });
    const onB = await hook(b, 'crm.deal.list', { filter: { TITLE: 'only on a' } });
    expect(onA.body.total).toBe(1);
    expect(onB.body.total).toBe(0);
    const foreignHook = await post(`${b.url}/rest/${a.webhookUrl.split('/rest/')[1]}server.time`);
    expect(foreignHook.status).toBe(401);
    expect((await oauth(b, 'server.time', {}, a.app.access_token)).body.error).toBe('invalid_token');
  });

  it('buckets are per portal: exhausting one portal does not throttle the other', async () => {
    const fleet = await fleetOf({ portals: 2, limits: { burst: 3, drainPerSec: 0.001 } });
    const [a, b] = fleet.portals as [FleetPortal, FleetPortal];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await hook(a, 'server.time')).status);
    expect(statuses).toEqual([200, 200, 200, 503]);
    expect((await hook(b, 'server.time')).status).toBe(200);
    expect((await hook(a, 'server.time')).body.error).toBe('QUERY_LIMIT_EXCEEDED');
  });

  it('offline queues are per portal: a change on one portal is queued on that portal only', async () => {
    const fleet = await fleetOf({ portals: 2, limits: NO_RATE_LIMIT });
    const [a, b] = fleet.portals as [FleetPortal, FleetPortal];
    for (const p of [a, b]) expect((await oauth(p, 'event.bind', { event: 'ONCRMDEALADD', event_type: 'offline' })).status).toBe(200);
    const added = await hook(a, 'crm.deal.add', { fields: { TITLE: 'queued on a' } });
    const gotA = await oauth(a, 'event.offline.get', { clear: 1 });
    const gotB = await oauth(b, 'event.offline.get', { clear: 1 });
    expect((gotA.body.result as { events: Array<{ EVENT_DATA: unknown }> }).events.map((e) => e.EVENT_DATA)).toEqual([{ FIELDS: { ID: String(added.body.result) } }]);
    expect((gotB.body.result as { events: unknown[] }).events).toEqual([]);
  });

  it("one token server refreshes every portal's token and answers that portal's member_id, domain and endpoints", async () => {
    const fleet = await fleetOf({ portals: 2, limits: NO_RATE_LIMIT });
    for (const p of fleet.portals) {
      const oldRefresh = p.app.refresh_token;
      const r = await refresh(fleet, oldRefresh);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ member_id: p.memberId, domain: p.domain, client_endpoint: `${p.url}/rest/`, server_endpoint: `${fleet.tokenServerUrl}/rest/`, status: 'F' });
      const other = fleet.portals[1 - p.index] as FleetPortal;
      expect((await oauth(p, 'server.time', {}, r.body.access_token as string)).status).toBe(200);
      expect((await oauth(other, 'server.time', {}, r.body.access_token as string)).body.error).toBe('invalid_token');
      // The refresh token rotated: the old one is spent.
      expect((await refresh(fleet, oldRefresh)).body.error).toBe('invalid_grant');
    }
    expect((await refresh(fleet, 'not-a-token')).body.error).toBe('invalid_grant');
    expect((await refresh(fleet, 'not-a-token', 'wrong-secret')).status).toBe(401);
    const record = fleet.tokenRequests();
    expect(record.slice(0, 2).map((t) => [t.portal, t.status])).toEqual([
      [0, 200],
      [0, 400],
    ]);
    expect(record.at(-1)).toMatchObject({ portal: null, status: 401, error: 'invalid_client' });
  });

  it("the engine's OAuth client refreshes through the fleet's token server and its user agent names its worker", async () => {
    const fleet = await fleetOf({ portals: 2, limits: NO_RATE_LIMIT });
    const p = fleet.portal(1);
    const dir = mkdtempSync(join(tmpdir(), 'b24-fleet-'));
    try {
      const client = createClient(
        { baseUrl: p.url, plan: 'standard', auth: { mode: 'oauth', refreshToken: p.app.refresh_token, clientId: fleet.clientId, clientSecret: fleet.clientSecret, oauthUrl: fleet.oauthUrl, tokenFile: join(dir, 'tokens.json') } },
        { rateLimit: false, retries: 0, userAgent: 'b24-rules/9.9.9 (worker w7)' },
      );
      const user = await client.call<{ ID: string }>('user.current');
      expect(user.result.ID).toBe('1');
      expect(fleet.tokenRequests().map((t) => [t.portal, t.status])).toEqual([[1, 200]]);
      expect(fleet.requests(1).map((r) => [r.worker, r.method])).toEqual([['w7', 'user.current']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The form fields of a body, parsed by the platform's form parser, in order. */
function fields(body: string): Array<[string, string]> {
  return [...new URLSearchParams(body).entries()];
}

describe('install and uninstall', () => {
  it('install POSTs the documented ONAPPINSTALL body; the pair it carries works and refreshes to that portal', async () => {
    received.length = 0;
    const fleet = await fleetOf({ portals: 2, installed: false, limits: NO_RATE_LIMIT, appScopes: ['crm', 'user'] });
    const p = fleet.portal(1);
    expect(p.emulator.appInstalled).toBe(false);
    expect(p.app.access_token).toBe('');
    expect(await fleet.install(1, handlerUrl)).toEqual({ status: 200, body: 'ok' });
    expect(received).toHaveLength(1);
    const sent = fields(received[0] as string);
    expect(sent.map(([k]) => k)).toEqual([
      'event',
      'data[VERSION]',
      'data[ACTIVE]',
      'data[INSTALLED]',
      'data[LANGUAGE_ID]',
      'ts',
      'auth[domain]',
      'auth[scope]',
      'auth[access_token]',
      'auth[refresh_token]',
      'auth[expires_in]',
      'auth[server_endpoint]',
      'auth[status]',
      'auth[client_endpoint]',
      'auth[member_id]',
      'auth[application_token]',
    ]);
    const body = parsePhpQuery(received[0] as string) as { event: string; data: Record<string, string>; ts: string; auth: Record<string, string> };
    expect(body.event).toBe('ONAPPINSTALL');
    expect(body.data).toEqual({ VERSION: '1', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'en' });
    expect(body.ts).toMatch(/^\d{10}$/);
    expect(body.auth).toMatchObject({
      domain: p.domain,
      scope: 'crm,user',
      access_token: p.app.access_token,
      refresh_token: p.app.refresh_token,
      expires_in: '3600',
      server_endpoint: `${fleet.tokenServerUrl}/rest/`,
      status: 'F',
      client_endpoint: `${p.url}/rest/`,
      member_id: p.memberId,
      application_token: p.app.application_token,
    });
    expect((await oauth(p, 'server.time', {}, body.auth.access_token)).status).toBe(200);
    const r = await refresh(fleet, body.auth.refresh_token as string);
    expect(r.body.member_id).toBe(p.memberId);
    // The other portal is still without the app.
    expect(fleet.portal(0).emulator.appInstalled).toBe(false);
  });

  it("uninstall POSTs ONAPPUNINSTALL without tokens; the app's tokens stop working and its queue stops filling", async () => {
    received.length = 0;
    const fleet = await fleetOf({ portals: 2, limits: NO_RATE_LIMIT });
    const p = fleet.portal(0);
    expect((await oauth(p, 'event.bind', { event: 'ONCRMDEALADD', event_type: 'offline' })).status).toBe(200);
    await hook(p, 'crm.deal.add', { fields: { TITLE: 'before' } });
    expect(p.emulator.events.hub.queue.snapshot()).toHaveLength(1);
    const { access_token: access, refresh_token: refreshToken, application_token: appToken } = p.app;
    expect(await fleet.uninstall(0, handlerUrl, { clean: true })).toEqual({ status: 200, body: 'ok' });
    const sent = fields(received[0] as string);
    expect(sent).toEqual([
      ['event', 'ONAPPUNINSTALL'],
      ['data[LANGUAGE_ID]', 'en'],
      ['data[CLEAN]', '1'],
      ['ts', expect.stringMatching(/^\d{10}$/) as unknown as string],
      ['auth[domain]', p.domain],
      ['auth[server_endpoint]', `${fleet.tokenServerUrl}/rest/`],
      ['auth[client_endpoint]', `${p.url}/rest/`],
      ['auth[member_id]', p.memberId],
      ['auth[application_token]', appToken],
    ]);
    expect((await oauth(p, 'server.time', {}, access)).body.error).toBe('invalid_token');
    expect((await refresh(fleet, refreshToken)).body.error).toBe('invalid_grant');
    expect(p.emulator.events.hub.queue.snapshot()).toEqual([]);
    await hook(p, 'crm.deal.add', { fields: { TITLE: 'after' } });
    expect(p.emulator.events.hub.queue.snapshot()).toEqual([]);
    // The other portal keeps its app; a reinstall brings this one back with the same application_token.
    expect((await oauth(fleet.portal(1), 'server.time')).status).toBe(200);
    await fleet.install(0, handlerUrl);
    expect(p.app.application_token).toBe(appToken);
    expect((await oauth(p, 'server.time')).status).toBe(200);
    await fleet.install(0, handlerUrl, { newApplicationToken: true });
    expect(p.app.application_token).not.toBe(appToken);
    expect(parsePhpQuery(received.at(-1) as string)).toMatchObject({ auth: { application_token: p.app.application_token } });
  });

  it('a forged install or uninstall carries made-up secrets and changes nothing on the portal', async () => {
    received.length = 0;
    const fleet = await fleetOf({ portals: 1, installed: false, limits: NO_RATE_LIMIT });
    const p = fleet.portal(0);
    await fleet.install(0, handlerUrl, { forge: true });
    const forged = parsePhpQuery(received[0] as string) as { auth: Record<string, string> };
    expect(forged.auth.member_id).toBe(p.memberId);
    expect(forged.auth.application_token).not.toBe(p.app.application_token);
    expect(forged.auth.application_token).toMatch(/^[0-9a-f]{32}$/);
    expect((await refresh(fleet, forged.auth.refresh_token as string)).body.error).toBe('invalid_grant');
    expect(p.emulator.appInstalled).toBe(false);

    await fleet.install(0, handlerUrl);
    await fleet.install(0, handlerUrl, { forge: { application_token: 'wrong-app-token' } });
    const partial = parsePhpQuery(received.at(-1) as string) as { auth: Record<string, string> };
    expect(partial.auth.application_token).toBe('wrong-app-token');
    expect(partial.auth.refresh_token).toBe(p.app.refresh_token);

    await fleet.uninstall(0, handlerUrl, { forge: 'not-the-token' });
    expect((parsePhpQuery(received.at(-1) as string) as { auth: Record<string, string> }).auth.application_token).toBe('not-the-token');
    expect(p.emulator.appInstalled).toBe(true);
    expect((await oauth(p, 'server.time')).status).toBe(200);
  });
});

describe('which worker each portal served, and when', () => {
  const as = (worker: string | null): Record<string, string> => (worker ? { 'user-agent': `b24-rules/1.2.3 (worker ${worker})` } : {});
  const call = (p: FleetPortal, worker: string | null): Promise<Response> =>
    fetch(`${p.webhookUrl}server.time`, { method: 'POST', headers: { 'content-type': 'application/json', ...as(worker) }, body: '{}' });

  it('workerOf reads the tag of the user agent; no tag is unknown', () => {
    expect(workerOf('b24-rules/0.4.0 (worker host-1:4242)')).toBe('host-1:4242');
    expect(workerOf('b24-rules')).toBe('unknown');
    expect(workerOf(undefined)).toBe('unknown');
  });

  it('two workers in flight on one portal at once are an overlap; sequential ones, one worker, or untagged calls are not', async () => {
    const fleet = await fleetOf({ portals: 2, limits: NO_RATE_LIMIT });
    const [a, b] = fleet.portals as [FleetPortal, FleetPortal];

    // Sequential: w1 then w2 on portal b.
    expect((await call(b, 'w1')).status).toBe(200);
    expect((await call(b, 'w2')).status).toBe(200);
    expect((await call(b, 'w2')).status).toBe(200);
    expect(fleet.overlaps()).toEqual([]);
    expect(fleet.overlapCount).toBe(0);
    expect(fleet.workersSeen(1).map((r) => [r.worker, r.requests])).toEqual([
      ['w1', 1],
      ['w2', 2],
    ]);

    // Concurrent on portal a: each held at the door until all four are in, arriving in this order.
    const gate = fleet.hold(0);
    const sent: Array<Promise<Response>> = [];
    for (const worker of ['w1', 'w1', null, 'w2']) {
      sent.push(call(a, worker));
      await gate.held(sent.length);
    }
    gate.release();
    expect((await Promise.all(sent)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const overlaps = fleet.overlaps();
    expect(overlaps.map((o) => [o.portal, o.a.worker, o.b.worker])).toEqual([
      [0, 'w1', 'w2'],
      [0, 'w1', 'w2'],
    ]);
    expect(fleet.overlapCount).toBe(2);
    for (const o of overlaps) {
      expect(o.a.end).toBeGreaterThanOrEqual(o.b.start);
      expect(o.b.end).toBeGreaterThanOrEqual(o.a.start);
    }
    const spans = fleet.requests(0);
    expect(spans.map((s) => s.worker)).toEqual(['w1', 'w1', 'unknown', 'w2']);
    expect(spans.every((s) => s.method === 'server.time' && s.end !== undefined && s.end >= s.start)).toBe(true);
    // No webhook code in the record.
    expect(JSON.stringify(spans)).not.toContain(a.webhookUrl.split('/')[5]);
  });

  it("a request whose sender gave up (or died) is the portal's until the portal answers it: another worker's request meanwhile is an overlap", async () => {
    const fleet = await fleetOf({ portals: 1, limits: NO_RATE_LIMIT });
    const p = fleet.portal(0);
    // Held after the portal read it, before its work: a real portal runs a request it received to its end.
    const gate = p.emulator.hold(({ method }) => method === 'crm.lead.add');
    const abort = new AbortController();
    const body = JSON.stringify({ fields: { TITLE: 'sent by w1' } });
    const gone = fetch(`${p.webhookUrl}crm.lead.add`, { method: 'POST', headers: { 'content-type': 'application/json', ...as('w1') }, body, signal: abort.signal }).catch(() => 'aborted');
    await gate.held(1);
    abort.abort();
    expect(await gone).toBe('aborted');
    const first = fleet.requests(0)[0];
    await until(() => first?.clientGone !== undefined, 'the first request seen cut off by its sender');
    expect(first?.end).toBeUndefined();
    // The next worker's request arrives while the portal still works on the first.
    expect((await call(p, 'w2')).status).toBe(200);
    gate.release();
    await until(() => first?.end !== undefined, 'the first request done by the portal');
    expect(p.emulator.store.all('lead').filter((l) => l.TITLE === 'sent by w1')).toHaveLength(1);
    expect(fleet.overlaps().map((o) => [o.a.worker, o.b.worker])).toEqual([['w1', 'w2']]);
    expect((first?.end as number) >= (first?.clientGone as number)).toBe(true);
  });

  it("a refresh at the token server counts as a request to its portal: one worker's refresh while another's call is in flight is an overlap", async () => {
    const fleet = await fleetOf({ portals: 1, limits: NO_RATE_LIMIT });
    const p = fleet.portal(0);
    const gate = fleet.hold(0);
    const held = call(p, 'w1');
    await gate.held(1);
    const url = `${fleet.oauthUrl}?${new URLSearchParams({ grant_type: 'refresh_token', client_id: fleet.clientId, client_secret: fleet.clientSecret, refresh_token: p.app.refresh_token })}`;
    expect((await fetch(url, { headers: as('w2') })).status).toBe(200);
    gate.release();
    expect((await held).status).toBe(200);
    expect(fleet.overlaps().map((o) => [o.a.worker, o.a.method, o.b.worker, o.b.method])).toEqual([['w1', 'server.time', 'w2', 'oauth/token']]);
    // The refresh is not one of the portal's own requests; the tokens it issued are among the fleet's secrets.
    expect(fleet.requests(0).map((r) => r.method)).toEqual(['server.time']);
    expect(fleet.secrets()).toEqual(expect.arrayContaining([fleet.clientSecret, p.app.application_token]));
    expect(fleet.secrets().length).toBeGreaterThanOrEqual(6);
  });
});
