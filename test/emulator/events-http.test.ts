/**
 * The event system through the emulator's HTTP layer, with app (OAuth) auth:
 * writes made by crm.* methods land in offline queues and at online handlers;
 * event.* methods refuse webhooks. Handler calls are captured by a real
 * node:http server on port 0.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { stringifyPhpQuery } from '../../emulator/index.js';

let emu: Emulator;
let dealIds: string[];

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** An app call: `/rest/{method}` with the access token in the JSON body. */
async function app(method: string, params: Record<string, unknown> = {}, token = emu.app.access_token): Promise<Answer> {
  const res = await fetch(`${emu.url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...params, auth: token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function ok(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const { status, body } = await app(method, params);
  expect(body['error'], `${method}: ${String(body['error_description'])}`).toBeUndefined();
  expect(status).toBe(200);
  return body['result'];
}

interface OfflineEvent {
  ID: string;
  EVENT_NAME: string;
  EVENT_DATA: { FIELDS: { ID: string } };
  MESSAGE_ID: string;
  TIMESTAMP_X: string;
  EVENT_ADDITIONAL: unknown;
  PROCESS_ID?: string;
  ERROR?: string;
}

async function offlineGet(params: Record<string, unknown>): Promise<{ process_id: string | null; events: OfflineEvent[] }> {
  return (await ok('event.offline.get', params)) as { process_id: string | null; events: OfflineEvent[] };
}
async function offlineList(params: Record<string, unknown> = {}): Promise<OfflineEvent[]> {
  return (await ok('event.offline.list', params)) as OfflineEvent[];
}
const objectIds = (events: OfflineEvent[]): string[] => events.map((e) => e.EVENT_DATA.FIELDS.ID);

/** Empty a queue: clear every reserved batch, then read-and-delete the rest, erroneous records too. */
async function drainQueue(extra: Record<string, unknown> = {}): Promise<void> {
  const processIds = new Set((await offlineList(extra)).map((e) => e.PROCESS_ID).filter((p): p is string => Boolean(p)));
  for (const processId of processIds) await ok('event.offline.clear', { process_id: processId, ...extra });
  await offlineGet({ limit: 1000, ...extra });
  await offlineGet({ limit: 1000, error: 1, ...extra });
  expect(await offlineList(extra)).toEqual([]);
}

async function touchDeal(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await ok('crm.deal.update', { id, fields: { COMMENTS: `touched ${Math.random()}` }, ...extra });
}

beforeAll(async () => {
  // The leaky bucket is not under test here.
  emu = await startEmulator({ limits: { burst: 100_000 } });
  const list = (await ok('crm.deal.list', { select: ['ID'], order: { ID: 'ASC' } })) as Array<{ ID: string }>;
  dealIds = list.slice(0, 4).map((d) => d.ID);
  expect(dealIds).toHaveLength(4);
});
afterAll(async () => {
  await emu?.close();
});

describe('event.* refuse webhooks', () => {
  const methods = ['event.bind', 'event.unbind', 'event.get', 'event.offline.get', 'event.offline.clear', 'event.offline.error', 'event.offline.list', 'events', 'event.test'];
  it.each(methods)('%s answers 403 WRONG_AUTH_TYPE to a webhook', async (method) => {
    const res = await fetch(`${emu.webhookUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'WRONG_AUTH_TYPE' });
  });
});

describe('offline queue over HTTP', () => {
  beforeEach(async () => {
    await ok('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await drainQueue();
  });
  afterEach(async () => {
    await ok('event.unbind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await drainQueue();
  });

  it('reserves with clear=0, hides the batch, re-reads it by process_id, clears part, marks errors, and list shows PROCESS_ID', async () => {
    const [a, b, c] = dealIds as [string, string, string];
    await touchDeal(a);
    await touchDeal(b);
    await touchDeal(b);
    await touchDeal(b);
    await touchDeal(c);
    expect(objectIds(await offlineList())).toEqual([a, b, c]);

    const batch = await offlineGet({ clear: 0, limit: 2, order: { ID: 'ASC' } });
    expect(batch.process_id).toMatch(/^[a-z0-9]{32}$/);
    expect(objectIds(batch.events)).toEqual([a, b]);
    expect(batch.events[0]).toMatchObject({ EVENT_NAME: 'ONCRMDEALUPDATE', EVENT_ADDITIONAL: { user_id: '1' } });

    const other = await offlineGet({ clear: 0 });
    expect(objectIds(other.events)).toEqual([c]);
    expect((await offlineGet({ clear: 0 })).events).toEqual([]);

    const again = await offlineGet({ clear: 0, process_id: batch.process_id });
    expect(again.events).toEqual(batch.events);

    const listed = await offlineList();
    expect(listed.map((e) => [e.EVENT_DATA.FIELDS.ID, e.PROCESS_ID, e.ERROR])).toEqual([
      [a, batch.process_id, '0'],
      [b, batch.process_id, '0'],
      [c, other.process_id, '0'],
    ]);

    expect(await ok('event.offline.clear', { process_id: batch.process_id, message_id: [batch.events[0]!.MESSAGE_ID] })).toBe(true);
    expect(await ok('event.offline.error', { process_id: batch.process_id, message_id: [batch.events[1]!.MESSAGE_ID] })).toBe(true);
    expect((await offlineList()).map((e) => [e.EVENT_DATA.FIELDS.ID, e.PROCESS_ID, e.ERROR])).toEqual([
      [b, '', '1'],
      [c, other.process_id, '0'],
    ]);
    expect(objectIds((await offlineGet({ clear: 0, error: 1 })).events)).toEqual([b]);
  });

  it('a change made while its record is reserved is queued again, so clearing the batch loses nothing', async () => {
    const [a] = dealIds as [string];
    await touchDeal(a);
    const batch = await offlineGet({ clear: 0 });
    await touchDeal(a);
    await ok('event.offline.clear', { process_id: batch.process_id });
    expect(objectIds((await offlineGet({})).events)).toEqual([a]);
  });

  it('accepts the PHP form encoding a portal client sends', async () => {
    const [a, b] = dealIds as [string, string];
    await touchDeal(a);
    await touchDeal(b);
    const res = await fetch(`${emu.url}/rest/event.offline.get`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: stringifyPhpQuery({ auth: emu.app.access_token, clear: 0, filter: { '>ID': 0 }, order: { ID: 'DESC' } }),
    });
    const body = (await res.json()) as { result: { events: OfflineEvent[] } };
    expect(objectIds(body.result.events)).toEqual([b, a]);
  });
});

describe('auth_connector', () => {
  it('a write with the connector is not queued back to that connector, but other queues get it', async () => {
    const [a, b] = dealIds as [string, string];
    await drainQueue();
    await ok('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline', auth_connector: 'rules-engine' });
    await ok('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await touchDeal(a, { auth_connector: 'rules-engine' });
    await touchDeal(b);
    expect(objectIds(await offlineList({ auth_connector: 'rules-engine' }))).toEqual([b]);
    expect(objectIds(await offlineList())).toEqual([a, b]);
    expect(objectIds((await offlineGet({ auth_connector: 'rules-engine' })).events)).toEqual([b]);
    await ok('event.unbind', { event: 'ONCRMDEALUPDATE', event_type: 'offline', auth_connector: 'rules-engine' });
    await ok('event.unbind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await drainQueue();
    await drainQueue({ auth_connector: 'rules-engine' });
  });
});

describe('online handlers', () => {
  let server: Server;
  let handlerUrl: string;
  let received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  let status: number;

  beforeEach(async () => {
    received = [];
    status = 200;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/b24/handler`;
  });
  afterEach(async () => {
    await ok('event.unbind', { event: 'ONCRMDEALUPDATE', handler: handlerUrl });
    await new Promise((resolve) => server.close(resolve));
  });

  it('get the documented form POST after a write, with tokens that work against the portal', async () => {
    const [a] = dealIds as [string];
    await ok('event.bind', { event: 'ONCRMDEALUPDATE', handler: handlerUrl });
    expect(await ok('event.get')).toContainEqual({ event: 'ONCRMDEALUPDATE', handler: handlerUrl, auth_type: '0', offline: 0 });
    await touchDeal(a);
    await emu.events.hub.idle();
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(received[0]!.body);
    expect(form.get('event')).toBe('ONCRMDEALUPDATE');
    expect(form.get('event_handler_id')).toMatch(/^\d+$/);
    expect(form.get('data[FIELDS][ID]')).toBe(a);
    expect(form.get('ts')).toMatch(/^\d{10}$/);
    expect(form.get('auth[domain]')).toBe(emu.app.domain);
    expect(form.get('auth[member_id]')).toBe(emu.app.member_id);
    expect(form.get('auth[application_token]')).toBe(emu.app.application_token);
    expect(form.get('auth[client_endpoint]')).toBe(`${emu.url}/rest/`);
    expect(form.get('auth[user_id]')).toBe('1');
    const token = form.get('auth[access_token]');
    expect(token).toBeTruthy();
    const viaHandlerToken = await app('crm.deal.get', { id: a }, token!);
    expect(viaHandlerToken.status).toBe(200);
  });

  it('a failing handler is called once and never retried', async () => {
    status = 500;
    const [a] = dealIds as [string];
    await ok('event.bind', { event: 'ONCRMDEALUPDATE', handler: handlerUrl });
    const before = emu.events.hub.deliveries().length;
    await touchDeal(a);
    await emu.events.hub.idle();
    expect(received).toHaveLength(1);
    const attempts = emu.events.hub.deliveries().slice(before);
    expect(attempts).toMatchObject([{ event: 'ONCRMDEALUPDATE', ok: false, status: 500 }]);
  });
});
