import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client, type ClientEvent } from '../../engine/client/index.js';
import { fakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const types = (events: ClientEvent[]) => events.map((e) => e.type);

describe('per-call onEvent', () => {
  it('each call hears only its own events; the client\'s listener hears all of them', async () => {
    server = await startServer((req) => {
      if (req.method === 'crm.deal.get' && server!.count('crm.deal.get') === 1) return fail(503, 'QUERY_LIMIT_EXCEEDED');
      if (req.method === 'batch') return ok({ result: { a: 1, b: 2 }, result_error: [], result_total: [], result_next: [], result_time: [] });
      return ok({ ID: '1' });
    });
    const all: ClientEvent[] = [];
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), random: () => 0.5, rateLimit: false, onEvent: (e) => all.push(e) });
    const deal: ClientEvent[] = [];
    const lead: ClientEvent[] = [];
    const batch: ClientEvent[] = [];
    await Promise.all([
      client.call('crm.deal.get', { id: 1 }, { onEvent: (e) => deal.push(e) }),
      client.call('crm.lead.get', { id: 1 }, { onEvent: (e) => lead.push(e) }),
      client.batch({ a: { method: 'crm.lead.get', params: { id: 1 } }, b: { method: 'crm.lead.get', params: { id: 2 } } }, { onEvent: (e) => batch.push(e) }),
    ]);
    expect(types(deal)).toEqual(['request', 'retry', 'request']);
    expect(deal.every((e) => !('method' in e) || e.method === 'crm.deal.get')).toBe(true);
    expect(types(lead)).toEqual(['request']);
    expect(types(batch)).toEqual(['request', 'batch']);
    expect(all).toHaveLength(deal.length + lead.length + batch.length);
  });

  it('a listAll hears one request per page; an error it ends with is reported too', async () => {
    server = await startServer((req) => {
      const after = Number((req.body.filter as Record<string, unknown>)['>ID']);
      if (after >= 100) return fail(400, 'INVALID_FILTER', 'bad filter');
      return ok(Array.from({ length: 50 }, (_, i) => ({ ID: String(after + i + 1) })));
    });
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), random: () => 0.5, rateLimit: false });
    const events: ClientEvent[] = [];
    const rows: unknown[] = [];
    const err = await (async () => {
      for await (const row of client!.listAll('crm.lead.list', { onEvent: (e) => events.push(e) })) rows.push(row);
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'B24_API_ERROR' });
    expect(rows).toHaveLength(100);
    expect(types(events)).toEqual(['request', 'request', 'request', 'error']);
    expect(server.count('crm.lead.list')).toBe(3);
  });

  it('a listener that throws does not fail the call', async () => {
    server = await startServer(() => ok({ ID: '1' }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), rateLimit: false });
    const env = await client.call('crm.lead.get', { id: 1 }, {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(env.result).toEqual({ ID: '1' });
  });
});
