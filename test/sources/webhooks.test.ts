import { afterEach, describe, expect, it } from 'vitest';
import { createOutgoingWebhookSource } from '../../engine/sources/outgoing-webhook.js';
import { createFormWebhookSource } from '../../engine/sources/form-webhook.js';
import { parseNestedForm } from '../../engine/sources/http-body.js';
import { createDaemonMetrics } from '../../engine/status/daemon-metrics.js';
import { startStatusServer, type RequestHandler, type StatusServer } from '../../engine/status/server.js';
import type { Inbox } from '../../engine/store/types.js';
import { constTemplate, makeContext, ManualClock, openTestStore, rule } from './helpers.js';

const TOKEN = 'app-token-0123456789';

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handlers: RequestHandler[]): Promise<string> {
  server = await startStatusServer({ listen: ':0', metrics: createDaemonMetrics().registry, health: () => ({ ok: true }), handlers });
  return server.url;
}

function form(fields: Record<string, string>): { method: string; headers: Record<string, string>; body: string } {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

const dealUpdate = (token: string, id = '7405', ts = '1766047124') =>
  form({
    event: 'ONCRMDEALUPDATE',
    event_handler_id: '185',
    'data[FIELDS][ID]': id,
    ts,
    'auth[domain]': 'example.bitrix24.com',
    'auth[member_id]': 'm1',
    'auth[application_token]': token,
  });

describe('parseNestedForm', () => {
  it('nests brackets like PHP and drops prototype keys', () => {
    expect(parseNestedForm('a[b][c]=1&a[b][d]=2&l[]=x&l[]=y&__proto__[x]=1&s=t')).toEqual({ a: { b: { c: '1', d: '2' } }, l: ['x', 'y'], s: 't' });
  });
});

describe('outgoing webhook source', () => {
  it('stores the event (without tokens) and only then answers 200; a repeat is stored once', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const ctx = makeContext(store, clock);
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN }, ctx);
    await src.start();
    const url = await serve([src.handler]);
    const res = await fetch(`${url}/b24/events`, dealUpdate(TOKEN));
    expect(res.status).toBe(200);
    const items = store.inbox.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ source: 'outgoing', event: 'ONCRMDEALUPDATE', ruleId: null, receivedAt: 1_000 });
    expect(items[0]?.payload).toEqual({
      event: 'ONCRMDEALUPDATE',
      event_handler_id: '185',
      data: { FIELDS: { ID: '7405' } },
      ts: '1766047124',
      auth: { domain: 'example.bitrix24.com', member_id: 'm1' },
    });
    expect(JSON.stringify(items[0])).not.toContain(TOKEN);
    expect((await fetch(`${url}/b24/events`, dealUpdate(TOKEN))).status).toBe(200);
    expect(store.inbox.list()).toHaveLength(1);
    expect(ctx.metrics.eventsReceived.get({ source: 'outgoing' })).toBe(1);
    expect(ctx.metrics.eventsDuplicate.get({ source: 'outgoing' })).toBe(1);
  });

  it('answers 401 without a token and 403 with a wrong one, storing nothing', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const ctx = makeContext(store, clock);
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN }, ctx);
    await src.start();
    const url = await serve([src.handler]);
    const noToken = form({ event: 'ONCRMDEALUPDATE', 'data[FIELDS][ID]': '1' });
    expect((await fetch(`${url}/b24/events`, noToken)).status).toBe(401);
    expect((await fetch(`${url}/b24/events`, dealUpdate('app-token-0123456788'))).status).toBe(403);
    expect((await fetch(`${url}/b24/events`, dealUpdate(TOKEN.slice(0, 5)))).status).toBe(403);
    expect((await fetch(`${url}/b24/events`, { method: 'GET' })).status).toBe(405);
    expect(store.inbox.list()).toHaveLength(0);
    expect(ctx.metrics.webhookRejected.get({ source: 'outgoing', reason: 'token_mismatch' })).toBe(2);
  });

  it('answers 500, never 200, when the store fails', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const broken: Inbox = { ...store.inbox, add: () => { throw new Error('SQLITE_FULL: database or disk is full'); } } as unknown as Inbox;
    const ctx = { ...makeContext(store, clock), inbox: broken };
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN }, ctx);
    await src.start();
    const url = await serve([src.handler]);
    const res = await fetch(`${url}/b24/events`, dealUpdate(TOKEN));
    expect(res.status).toBe(500);
  });

  it('answers 500 when the real state file was closed under it', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN }, makeContext(store, clock));
    await src.start();
    const url = await serve([src.handler]);
    store.state.close();
    expect((await fetch(`${url}/b24/events`, dealUpdate(TOKEN))).status).toBe(500);
  });

  it('answers 503 once stopped (the portal will not retry, the reconciliation schedule catches up)', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN }, makeContext(store, clock));
    const url = await serve([src.handler]);
    await src.start();
    await src.stop();
    expect((await fetch(`${url}/b24/events`, dealUpdate(TOKEN))).status).toBe(503);
  });

  it('passes ONOFFLINEEVENT to the offline poller instead of storing it; acknowledge retires finished rows', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    let signals = 0;
    const src = createOutgoingWebhookSource({ applicationToken: TOKEN, onOfflineSignal: () => signals++ }, makeContext(store, clock));
    await src.start();
    const url = await serve([src.handler]);
    await fetch(`${url}/b24/events`, form({ event: 'ONOFFLINEEVENT', 'auth[application_token]': TOKEN }));
    expect(signals).toBe(1);
    expect(store.inbox.list()).toHaveLength(0);
    await fetch(`${url}/b24/events`, dealUpdate(TOKEN));
    const [item] = store.inbox.list();
    store.finish(item!.id, 'done');
    expect(store.inbox.finished('outgoing')).toHaveLength(1);
    await src.acknowledge?.();
    expect(store.inbox.finished('outgoing')).toHaveLength(0);
  });
});

describe('form webhook source', () => {
  const contactUs = rule('contact-us', { kind: 'webhook', path: '/forms/contact-us', secret: constTemplate('s3cret-value') });

  it('stores a JSON or form submission for the rule when the secret matches (header or query), then answers 200', async () => {
    const clock = new ManualClock(5_000);
    const store = openTestStore(clock.now);
    const ctx = makeContext(store, clock);
    const src = createFormWebhookSource({ rules: [contactUs] }, ctx);
    await src.start();
    const url = await serve([src.handler]);
    const r1 = await fetch(`${url}/hooks/forms/contact-us`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-rules-secret': 's3cret-value' },
      body: JSON.stringify({ name: 'Ann', phone: '+49 30 1234567' }),
    });
    expect(r1.status).toBe(200);
    const r2 = await fetch(`${url}/hooks/forms/contact-us?secret=s3cret-value&utm=ads`, form({ name: 'Bob' }));
    expect(r2.status).toBe(200);
    const items = store.inbox.list().reverse();
    expect(items.map((i) => [i.source, i.ruleId, i.event])).toEqual([
      ['form', 'contact-us', null],
      ['form', 'contact-us', null],
    ]);
    expect(items[0]?.payload).toMatchObject({ request: { path: '/hooks/forms/contact-us', body: { name: 'Ann', phone: '+49 30 1234567' }, query: {} } });
    expect(items[1]?.payload).toMatchObject({ request: { body: { name: 'Bob' }, query: { utm: 'ads' } } });
    expect(JSON.stringify(items)).not.toContain('s3cret-value');
  });

  it('401 without the secret, 403 with a wrong one, 404 for an unknown hook, 400 for bad JSON', async () => {
    const clock = new ManualClock(5_000);
    const store = openTestStore(clock.now);
    const src = createFormWebhookSource({ rules: [contactUs] }, makeContext(store, clock));
    await src.start();
    const url = await serve([src.handler]);
    const json = (secret?: string, body = '{"a":1}') => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-rules-secret': secret } : {}) },
      body,
    });
    expect((await fetch(`${url}/hooks/forms/contact-us`, json())).status).toBe(401);
    expect((await fetch(`${url}/hooks/forms/contact-us`, json('s3cret-valuX'))).status).toBe(403);
    expect((await fetch(`${url}/hooks/forms/other`, json('s3cret-value'))).status).toBe(404);
    expect((await fetch(`${url}/hooks/forms/contact-us`, json('s3cret-value', '{oops'))).status).toBe(400);
    expect(store.inbox.list()).toHaveLength(0);
  });

  it('a repeated submission with the same Idempotency-Key is stored once', async () => {
    const clock = new ManualClock(5_000);
    const store = openTestStore(clock.now);
    const src = createFormWebhookSource({ rules: [contactUs] }, makeContext(store, clock));
    await src.start();
    const url = await serve([src.handler]);
    for (const body of ['{"a":1}', '{"a":2}']) {
      const res = await fetch(`${url}/hooks/forms/contact-us`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rules-secret': 's3cret-value', 'idempotency-key': 'sub-1' },
        body,
      });
      expect(res.status).toBe(200);
    }
    expect(store.inbox.list()).toHaveLength(1);
  });

  it('reads the secret from an env var the rule lists, and refuses everything (503) while it is unset', async () => {
    const clock = new ManualClock(5_000);
    const store = openTestStore(clock.now);
    const fromEnv = rule(
      'lead-form',
      { kind: 'webhook', path: 'lead', secret: { source: '{{ env.FORM_SECRET }}', refs: ['env'], render: (f) => (f.env as Record<string, unknown>).FORM_SECRET } },
      { env: ['FORM_SECRET'] },
    );
    const env: NodeJS.ProcessEnv = {};
    const src = createFormWebhookSource({ rules: [fromEnv], env }, makeContext(store, clock));
    await src.start();
    const url = await serve([src.handler]);
    const post = () => fetch(`${url}/hooks/lead?secret=abc123`, form({ x: '1' }));
    expect((await post()).status).toBe(503);
    env.FORM_SECRET = 'abc123';
    src.setRules([fromEnv]);
    expect((await post()).status).toBe(200);
    expect(src.routes()).toEqual([{ path: '/hooks/lead', ruleId: 'lead-form' }]);
  });
});
