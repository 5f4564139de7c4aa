/**
 * The event hub and the event.* method handlers, called in-process (no HTTP):
 * the offline queue's reservation cycle, collapsing, auth_connector
 * suppression, argument errors, and online delivery to a real node:http server.
 * The same behaviour over the emulator's HTTP layer is in events-http.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventHub, encodeForm, type EventHub, type EventHubOptions } from '../../emulator/events/index.js';
import { eventMethods } from '../../emulator/methods/event.js';
import { PortalError, type CallContext, type Params } from '../../emulator/types.js';

const APP = 'local.app.test';
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

interface Harness {
  hub: EventHub;
  clock: { ms: number };
  call(method: string, params?: Params, opts?: { userId?: number; authConnector?: string }): Promise<{ result: unknown; total?: number; next?: number }>;
  change(event: string, id: number | string, opts?: { userId?: number; authConnector?: string }): void;
}

function harness(extra: Partial<EventHubOptions> = {}): Harness {
  const clock = { ms: T0 };
  const hub = createEventHub({
    now: () => clock.ms,
    portal: { domain: 'test.bitrix24.ru', member_id: 'member-1', application_token: 'app-token-1', client_id: APP },
    ...extra,
  });
  const methods = eventMethods(hub);
  return {
    hub,
    clock,
    async call(method, params = {}, opts = {}) {
      const def = methods[method];
      if (!def) throw new Error(`no method ${method}`);
      const ctx: CallContext = {
        auth: { kind: 'oauth', userId: opts.userId ?? 1, scopes: ['crm'], clientId: APP, applicationToken: 'app-token-1' },
        ...(opts.authConnector === undefined ? {} : { authConnector: opts.authConnector }),
        now: () => clock.ms,
        emit: () => undefined,
      };
      return def.handler(params, ctx);
    },
    change(event, id, opts = {}) {
      hub.emit(event, { FIELDS: { ID: String(id) } }, { userId: opts.userId ?? 1, ...(opts.authConnector === undefined ? {} : { authConnector: opts.authConnector }) });
    },
  };
}

interface GetResult {
  process_id: string | null;
  events: Array<{ ID: string; TIMESTAMP_X: string; EVENT_NAME: string; EVENT_DATA: unknown; EVENT_ADDITIONAL: unknown; MESSAGE_ID: string }>;
}
type ListRow = GetResult['events'][number] & { PROCESS_ID: string; ERROR: string };

async function get(h: Harness, params: Params = {}, opts: { authConnector?: string } = {}): Promise<GetResult> {
  return (await h.call('event.offline.get', params, opts)).result as GetResult;
}
async function list(h: Harness, params: Params = {}, opts: { authConnector?: string } = {}): Promise<ListRow[]> {
  return (await h.call('event.offline.list', params, opts)).result as ListRow[];
}
function ids(events: Array<{ EVENT_DATA: unknown }>): string[] {
  return events.map((e) => (e.EVENT_DATA as { FIELDS: { ID: string } }).FIELDS.ID);
}
async function portalError(p: Promise<unknown>): Promise<PortalError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PortalError);
  return err as PortalError;
}

describe('offline queue: reservation by process_id', () => {
  let h: Harness;
  beforeEach(async () => {
    h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    for (const id of [11, 12, 13]) {
      h.change('ONCRMDEALUPDATE', id);
      h.clock.ms += 1000;
    }
  });

  it('get with clear=0 reserves the batch, hides it from other readers, and re-reads it by process_id', async () => {
    const first = await get(h, { clear: 0, limit: 2 });
    expect(first.process_id).toMatch(/^[a-z0-9]{32}$/);
    expect(ids(first.events)).toEqual(['11', '12']);

    const second = await get(h, { clear: 0 });
    expect(second.process_id).not.toBe(first.process_id);
    expect(ids(second.events)).toEqual(['13']);
    expect((await get(h, { clear: 0 })).events).toEqual([]);

    const again = await get(h, { clear: 0, process_id: first.process_id });
    expect(again.process_id).toBe(first.process_id);
    expect(again.events).toEqual(first.events);

    const rows = await list(h);
    expect(rows.map((r) => [ids([r])[0], r.PROCESS_ID, r.ERROR])).toEqual([
      ['11', first.process_id, '0'],
      ['12', first.process_id, '0'],
      ['13', second.process_id, '0'],
    ]);
  });

  it('clear by message_id removes part of a batch; error marks and releases records that only error=1 reads back', async () => {
    const batch = await get(h, { clear: 0 });
    const [a, b, c] = batch.events;
    await h.call('event.offline.clear', { process_id: batch.process_id, message_id: [a!.MESSAGE_ID] });
    expect(ids(await list(h))).toEqual(['12', '13']);

    await h.call('event.offline.error', { process_id: batch.process_id, message_id: [b!.MESSAGE_ID] });
    const rows = await list(h);
    expect(rows.map((r) => [ids([r])[0], r.PROCESS_ID, r.ERROR])).toEqual([
      ['12', '', '1'],
      ['13', batch.process_id, '0'],
    ]);
    expect((await get(h, { clear: 0 })).events).toEqual([]);
    const errors = await get(h, { clear: 0, error: 1 });
    expect(ids(errors.events)).toEqual(['12']);

    await h.call('event.offline.clear', { process_id: batch.process_id });
    expect(ids(await list(h))).toEqual(['12']);
    expect(c!.MESSAGE_ID).toMatch(/^[0-9a-f]{32}$/);
  });

  it('clear prefers message_id over id, and id clears by record ID', async () => {
    const batch = await get(h, { clear: 0 });
    const [a, b] = batch.events;
    await h.call('event.offline.clear', { process_id: batch.process_id, id: [Number(a!.ID)], message_id: [b!.MESSAGE_ID] });
    expect(ids(await list(h))).toEqual(['11', '13']);
    await h.call('event.offline.clear', { process_id: batch.process_id, id: [a!.ID] });
    expect(ids(await list(h))).toEqual(['13']);
  });

  it('get with the default clear=1 deletes what it returns and answers process_id null', async () => {
    const res = await get(h, { limit: 2 });
    expect(res.process_id).toBeNull();
    expect(ids(res.events)).toEqual(['11', '12']);
    expect(ids(await list(h))).toEqual(['13']);
  });

  it('get with process_id and clear=1 deletes the whole batch, past the limit too', async () => {
    const batch = await get(h, { clear: 0 });
    const res = await get(h, { process_id: batch.process_id, limit: 1 });
    expect(res.process_id).toBe(batch.process_id);
    expect(res.events).toHaveLength(1);
    expect(await list(h)).toEqual([]);
  });

  it('reserved records are dropped after the reservation lifetime; unreserved ones stay', async () => {
    await get(h, { clear: 0, limit: 1 });
    h.clock.ms += 2_952_000_000 + 10_000;
    expect(ids(await list(h))).toEqual(['12', '13']);
  });

  it('filter and order apply to get and list', async () => {
    const desc = await get(h, { clear: 0, order: { ID: 'DESC' }, filter: { '>=ID': 2 } });
    expect(ids(desc.events)).toEqual(['13', '12']);
    const byName = await list(h, { filter: { '=EVENT_NAME': 'oncrmdealupdate', PROCESS_ID: '' } });
    expect(ids(byName)).toEqual(['11']);
  });
});

describe('offline queue: one record per object', () => {
  it('repeated changes of one object collapse into the unreserved record with the latest time and author', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await h.call('event.bind', { event: 'ONCRMDEALADD', event_type: 'offline' });
    h.change('ONCRMDEALADD', 5);
    h.change('ONCRMDEALUPDATE', 5, { userId: 1 });
    h.clock.ms += 60_000;
    h.change('ONCRMDEALUPDATE', 5, { userId: 7 });
    h.change('ONCRMDEALUPDATE', 6, { userId: 0 });
    const rows = await list(h);
    expect(rows.map((r) => [r.ID, r.EVENT_NAME, ids([r])[0]])).toEqual([
      ['1', 'ONCRMDEALADD', '5'],
      ['2', 'ONCRMDEALUPDATE', '5'],
      ['3', 'ONCRMDEALUPDATE', '6'],
    ]);
    expect(rows[1]).toMatchObject({ TIMESTAMP_X: '2026-11-24T12:01:00+03:00', EVENT_ADDITIONAL: { user_id: '7' }, EVENT_DATA: { FIELDS: { ID: '5' } } });
    expect(rows[2]!.EVENT_ADDITIONAL).toBe(false);
  });

  it('a change to a reserved object adds a new record, which clearing the batch leaves in place', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    h.change('ONCRMDEALUPDATE', 5);
    const batch = await get(h, { clear: 0 });
    h.change('ONCRMDEALUPDATE', 5);
    h.change('ONCRMDEALUPDATE', 5);
    const rows = await list(h);
    expect(rows.map((r) => r.PROCESS_ID)).toEqual([batch.process_id, '']);
    expect(rows[0]!.MESSAGE_ID).toBe(rows[1]!.MESSAGE_ID);
    await h.call('event.offline.clear', { process_id: batch.process_id });
    expect(ids((await get(h, { clear: 0 })).events)).toEqual(['5']);
  });

  it('marking a record erroneous deletes newer unprocessed records of the same object, as the portal does', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    h.change('ONCRMDEALUPDATE', 5);
    const batch = await get(h, { clear: 0 });
    h.change('ONCRMDEALUPDATE', 5);
    await h.call('event.offline.error', { process_id: batch.process_id, message_id: [batch.events[0]!.MESSAGE_ID] });
    const rows = await list(h);
    expect(rows.map((r) => [r.ID, r.PROCESS_ID, r.ERROR])).toEqual([['1', '', '1']]);
    // A later change refreshes the erroneous record and keeps its mark (merge key has no ERROR).
    h.clock.ms += 5000;
    h.change('ONCRMDEALUPDATE', 5);
    expect((await list(h)).map((r) => [r.ID, r.ERROR])).toEqual([['1', '1']]);
  });
});

describe('offline queue: list paging', () => {
  it('pages by 50 with total and next, and get honours limit', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMLEADADD', event_type: 'offline' });
    for (let id = 1; id <= 120; id++) h.change('ONCRMLEADADD', id);
    const first = await h.call('event.offline.list');
    expect([(first.result as unknown[]).length, first.total, first.next]).toEqual([50, 120, 50]);
    const last = await h.call('event.offline.list', { start: 100 });
    expect([(last.result as unknown[]).length, last.total, last.next]).toEqual([20, 120, undefined]);
    expect(ids(last.result as ListRow[])[0]).toBe('101');
    expect((await get(h, { limit: 70 })).events).toHaveLength(70);
    expect((await list(h))).toHaveLength(50);
    expect((await h.call('event.offline.list')).total).toBe(50);
  });
});

describe('offline queue: page size', () => {
  it('get takes any positive limit (the docs give a default of 50 and no maximum; the portal refuses only <= 0)', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMLEADADD', event_type: 'offline' });
    for (let id = 1; id <= 1200; id++) h.change('ONCRMLEADADD', id);
    expect((await get(h, { clear: 0 })).events).toHaveLength(50);
    const page = await get(h, { clear: 0, limit: '5000' });
    expect(page.events).toHaveLength(1150);
    expect(new Set(page.events.map((e) => e.ID)).size).toBe(1150);
    expect((await get(h, { process_id: page.process_id, clear: 0, limit: 2000 })).events).toHaveLength(1150);
  });
});

describe('offline queue: auth_connector', () => {
  it('a change made with a connector is not queued to that connector, but is queued to the source-less queue', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' }, { authConnector: 'rules' });
    h.change('ONCRMDEALUPDATE', 1, { authConnector: 'rules' });
    h.change('ONCRMDEALUPDATE', 2);
    h.change('ONCRMDEALUPDATE', 3, { authConnector: 'other' });
    expect(ids(await list(h, {}, { authConnector: 'rules' }))).toEqual(['2', '3']);
    expect(ids(await list(h))).toEqual(['1', '2', '3']);
    const mine = await get(h, { clear: 0 }, { authConnector: 'rules' });
    expect(ids(mine.events)).toEqual(['2', '3']);
    // Another source's batch is invisible without its key, and clear without the key deletes nothing.
    await h.call('event.offline.clear', { process_id: mine.process_id });
    expect(ids(await list(h, {}, { authConnector: 'rules' }))).toEqual(['2', '3']);
    expect((await h.call('event.get')).result).toEqual([
      { event: 'ONCRMDEALUPDATE', connector_id: '', offline: 1 },
      { event: 'ONCRMDEALUPDATE', connector_id: 'rules', offline: 1 },
    ]);
  });

  it('without the plan feature, auth_connector answers WRONG_LICENSE', async () => {
    const h = harness({ features: { authConnector: false } });
    const err = await portalError(h.call('event.offline.get', {}, { authConnector: 'x' }));
    expect([err.status, err.error]).toEqual([403, 'WRONG_LICENSE']);
  });
});

describe('event.* argument and access errors', () => {
  const cases: Array<[string, string, Params, number, string, string]> = [
    ['limit 0', 'event.offline.get', { limit: 0 }, 400, 'ERROR_ARGUMENT', 'Value must be positive integer'],
    ['negation in filter', 'event.offline.get', { filter: { '!ID': 1 } }, 400, 'ERROR_ARGUMENT', 'Filter operation not allowed: !'],
    ['unknown filter field', 'event.offline.get', { filter: { PROCESS_ID: 'x' } }, 400, 'ERROR_ARGUMENT', 'Filter field not allowed: PROCESS_ID'],
    ['array filter value', 'event.offline.get', { filter: { ID: [1, 2] } }, 400, 'ERROR_ARGUMENT', "The value of an argument 'ID' has an invalid type"],
    ['filter not an object', 'event.offline.get', { filter: 'ID' }, 400, 'ERROR_ARGUMENT', 'The filter is not an array.'],
    ['bad order direction', 'event.offline.list', { order: { ID: 'UP' } }, 400, 'ERROR_ARGUMENT', 'Order direction should be one of {ASC|DESC}'],
    ['clear without process_id', 'event.offline.clear', {}, 400, 'ERROR_ARGUMENT', "Argument 'PROCESS_ID' is null or empty"],
    ['clear with short message_id', 'event.offline.clear', { process_id: 'p', message_id: ['abc'] }, 400, 'ERROR_ARGUMENT', 'Value must be array of MESSAGE_ID values'],
    ['clear with id 0', 'event.offline.clear', { process_id: 'p', id: [0] }, 400, 'ERROR_ARGUMENT', 'Value must be array of integers'],
    ['error without message_id', 'event.offline.error', { process_id: 'p' }, 400, 'ERROR_ARGUMENT', 'Value must be array of MESSAGE_ID values'],
    ['bind unknown event', 'event.bind', { event: 'ONNOTHING', handler: 'http://127.0.0.1/' }, 400, 'ERROR_EVENT_NOT_FOUND', 'Event not found'],
    ['bind online without handler', 'event.bind', { event: 'ONCRMDEALADD' }, 400, 'ERROR_ARGUMENT', "Argument 'HANDLER' is null or empty"],
    ['bind without event', 'event.bind', { handler: 'http://127.0.0.1/' }, 400, 'ERROR_ARGUMENT', "Argument 'EVENT' is null or empty"],
    ['bind bad event_type', 'event.bind', { event: 'ONCRMDEALADD', event_type: 'push' }, 400, 'ERROR_ARGUMENT', 'Value must be one of {online|offline}'],
    ['bind ONOFFLINEEVENT offline', 'event.bind', { event: 'ONOFFLINEEVENT', event_type: 'offline' }, 400, 'ERROR_ARGUMENT', 'Offline event cannot be registered for this event.'],
  ];
  it.each(cases)('%s', async (_name, method, params, status, error, description) => {
    const err = await portalError(harness().call(method, params));
    expect([err.status, err.error, err.description]).toEqual([status, error, description]);
  });

  it('offline methods and offline binding need an administrator', async () => {
    const h = harness({ isAdmin: (userId) => userId === 1 });
    for (const method of ['event.offline.get', 'event.offline.list']) {
      const err = await portalError(h.call(method, {}, { userId: 5 }));
      expect([err.status, err.error, err.description]).toEqual([403, 'ACCESS_DENIED', 'Access denied!']);
    }
    const err = await portalError(h.call('event.bind', { event: 'ONCRMDEALADD', event_type: 'offline' }, { userId: 5 }));
    expect([err.status, err.error]).toEqual([403, 'ACCESS_DENIED']);
    // A non-admin's online binding is bound to that user, and event.get shows them only their own.
    await h.call('event.bind', { event: 'ONCRMDEALADD', handler: 'http://127.0.0.1:9/a' }, { userId: 5 });
    await h.call('event.bind', { event: 'ONCRMDEALADD', handler: 'http://127.0.0.1:9/b' }, { userId: 1 });
    expect((await h.call('event.get', {}, { userId: 5 })).result).toEqual([{ event: 'ONCRMDEALADD', handler: 'http://127.0.0.1:9/a', auth_type: '5', offline: 0 }]);
    expect((await h.call('event.get', {}, { userId: 1 })).result).toHaveLength(2);
  });

  it('a duplicate binding is refused and unbind answers the count removed', async () => {
    const h = harness();
    const params = { event: 'onCrmDealAdd', handler: 'http://127.0.0.1:9/h' };
    expect((await h.call('event.bind', params)).result).toBe(true);
    const err = await portalError(h.call('event.bind', params));
    expect(err.error).toBe('ERROR_CORE');
    expect((await h.call('event.unbind', params)).result).toEqual({ count: 1 });
    expect((await h.call('event.unbind', params)).result).toEqual({ count: 0 });
  });
});

describe('online delivery', () => {
  let server: Server;
  let url: string;
  let received: Array<{ headers: IncomingMessage['headers']; body: string }>;
  let status: number;

  beforeEach(async () => {
    received = [];
    status = 200;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = status;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/handler`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts the documented form to the handler, with the change author tokens when the emulator issues them', async () => {
    const h = harness({ issueAuth: (_app, userId) => ({ access_token: `at-${userId}`, refresh_token: `rt-${userId}`, expires_in: 3600, scope: 'crm' }) });
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', handler: url });
    h.change('ONCRMDEALUPDATE', 7405, { userId: 3 });
    expect(received).toHaveLength(0);
    await h.hub.idle();
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = Object.fromEntries(new URLSearchParams(received[0]!.body));
    expect(form).toEqual({
      event: 'ONCRMDEALUPDATE',
      event_handler_id: '1',
      'data[FIELDS][ID]': '7405',
      ts: String(T0 / 1000),
      'auth[access_token]': 'at-3',
      'auth[expires]': String(T0 / 1000 + 3600),
      'auth[expires_in]': '3600',
      'auth[scope]': 'crm',
      'auth[domain]': 'test.bitrix24.ru',
      'auth[server_endpoint]': 'https://oauth.bitrix.info/rest/',
      'auth[status]': 'L',
      'auth[client_endpoint]': 'https://test.bitrix24.ru/rest/',
      'auth[member_id]': 'member-1',
      'auth[user_id]': '3',
      'auth[application_token]': 'app-token-1',
    });
  });

  it('sends no tokens for a change without a user, and does not retry a failed call', async () => {
    status = 500;
    const h = harness({ issueAuth: () => ({ access_token: 'x', expires_in: 3600, scope: 'crm' }) });
    await h.call('event.bind', { event: 'ONCRMLEADADD', handler: url });
    h.change('ONCRMLEADADD', 1, { userId: 0 });
    await h.hub.idle();
    expect(received).toHaveLength(1);
    const keys = [...new URLSearchParams(received[0]!.body).keys()].filter((k) => k.startsWith('auth['));
    expect(keys).toEqual(['auth[domain]', 'auth[server_endpoint]', 'auth[client_endpoint]', 'auth[member_id]', 'auth[application_token]']);
    expect(h.hub.deliveries()).toMatchObject([{ ok: false, status: 500, error: 'HTTP 500' }]);
  });

  it('an unreachable handler is dropped after one attempt', async () => {
    const h = harness();
    await new Promise((resolve) => server.close(resolve));
    await h.call('event.bind', { event: 'ONCRMLEADADD', handler: url });
    h.change('ONCRMLEADADD', 1);
    await h.hub.idle();
    expect(h.hub.deliveries()).toHaveLength(1);
    expect(h.hub.deliveries()[0]!.ok).toBe(false);
    server = createServer();
    server.listen(0);
  });

  it('ONOFFLINEEVENT signals new queue records at most once per minTimeout', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await h.call('event.bind', { event: 'ONOFFLINEEVENT', handler: url, options: { minTimeout: 10 } });
    h.change('ONCRMDEALUPDATE', 1);
    h.change('ONCRMDEALUPDATE', 2);
    h.clock.ms += 9_000;
    h.change('ONCRMDEALUPDATE', 3);
    h.clock.ms += 1_000;
    h.change('ONCRMDEALUPDATE', 4);
    await h.hub.idle();
    expect(received.map((r) => new URLSearchParams(r.body).get('event'))).toEqual(['ONOFFLINEEVENT', 'ONOFFLINEEVENT']);
  });

  it('event.test fires ONAPPTEST with the call params at the caller app', async () => {
    const h = harness();
    await h.call('event.bind', { event: 'ONAPPTEST', handler: url });
    expect((await h.call('event.test', { any: 'thing' })).result).toBe(1);
    await h.hub.idle();
    expect(new URLSearchParams(received[0]!.body).get('data[QUERY][any]')).toBe('thing');
  });
});

describe('handler form encoding', () => {
  it('writes PHP bracket keys, lists by index, booleans as 1/empty, and leaves out null', () => {
    const body = encodeForm({ event: 'ONTASKADD', data: { FIELDS_AFTER: { ID: 7, TAGS: ['a b', 'c&d'] }, DONE: true, NO: false, GONE: null } });
    expect([...new URLSearchParams(body)]).toEqual([
      ['event', 'ONTASKADD'],
      ['data[FIELDS_AFTER][ID]', '7'],
      ['data[FIELDS_AFTER][TAGS][0]', 'a b'],
      ['data[FIELDS_AFTER][TAGS][1]', 'c&d'],
      ['data[DONE]', '1'],
      ['data[NO]', ''],
    ]);
  });
});
