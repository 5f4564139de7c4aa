import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { AuthError, B24ApiError, NetworkError, OutcomeUnknownError, RateLimitError } from '../../engine/client/errors.js';
import { fakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type Handler, type ScriptedServer } from './helpers/scripted-server.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(handler: Handler, options: Parameters<typeof createClient>[1] = {}) {
  server = await startServer(handler);
  const clock = fakeClock();
  client = createClient(webhookConfig(server.url), { clock, random: () => 0.5, ...options });
  return { server, client, clock };
}

describe('retries', () => {
  it('503 QUERY_LIMIT_EXCEEDED then success: retried, the answer returned, the bucket marked full', async () => {
    const { server, client } = await setup((_req, n) => (n <= 2 ? fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests') : ok({ ID: '7' })));
    const env = await client.call('crm.lead.get', { id: 7 });
    expect(env.result).toEqual({ ID: '7' });
    expect(server.count('crm.lead.get')).toBe(3);
    expect(client.stats.retries).toBe(2);
    expect(client.stats.queryLimitRefusals).toBe(2);
  });

  it('QUERY_LIMIT_EXCEEDED is retried even for an .add (the portal refused it before running it)', async () => {
    const { server, client } = await setup((_req, n) => (n === 1 ? fail(503, 'QUERY_LIMIT_EXCEEDED') : ok(42)));
    expect((await client.call('crm.lead.add', { fields: { TITLE: 'x' } })).result).toBe(42);
    expect(server.count('crm.lead.add')).toBe(2);
  });

  it('5xx on a read then success: retried with backoff from the injected clock', async () => {
    const { server, client, clock } = await setup((_req, n) => (n === 1 ? fail(500, 'INTERNAL_SERVER_ERROR') : n === 2 ? { status: 502, text: '<html>Bad gateway</html>' } : ok([])));
    await client.call('crm.deal.list', {});
    expect(server.count('crm.deal.list')).toBe(3);
    // equal jitter with random 0.5: 500 ms step → 375, 1000 ms step → 750
    expect(clock.sleeps).toEqual([375, 750]);
  });

  it('a dropped connection on a read is retried', async () => {
    const { server, client } = await setup((_req, n) => (n === 1 ? { drop: true } : ok({ ID: '1' })));
    expect((await client.call('crm.lead.get', { id: 1 })).result).toEqual({ ID: '1' });
    expect(server.count('crm.lead.get')).toBe(2);
  });

  it('a dropped connection on an .add throws OutcomeUnknownError and is not re-sent', async () => {
    const { server, client } = await setup(() => ({ drop: true }));
    const err = await client.call('crm.lead.add', { fields: { TITLE: 'Acme', ORIGIN_ID: 'rule-1:evt-9' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    const e = err as OutcomeUnknownError;
    expect(e.code).toBe('OUTCOME_UNKNOWN');
    expect(e.method).toBe('crm.lead.add');
    expect(e.params).toEqual({ fields: { TITLE: 'Acme', ORIGIN_ID: 'rule-1:evt-9' } });
    expect(server.count('crm.lead.add')).toBe(1);
    expect(client.stats.outcomeUnknown).toBe(1);
  });

  it('a 500 answer to an .add is an unknown outcome too (the portal may have created the record)', async () => {
    const { server, client } = await setup(() => fail(500, 'INTERNAL_SERVER_ERROR'));
    await expect(client.call('crm.deal.add', { fields: {} })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(server.count('crm.deal.add')).toBe(1);
  });

  it('an idempotent write (update) is re-sent after a dropped connection', async () => {
    const { server, client } = await setup((_req, n) => (n === 1 ? { drop: true } : ok(true)));
    expect((await client.call('crm.deal.update', { id: 3, fields: { STAGE_ID: 'WON' } })).result).toBe(true);
    expect(server.count('crm.deal.update')).toBe(2);
  });

  it('a timeout waiting for the answer: a read is retried, an .add is an unknown outcome', async () => {
    const { server, client } = await setup((req, n) => (n === 1 || req.method === 'crm.lead.add' ? { hang: true } : ok([])), { headersTimeoutMs: 150 });
    await client.call('crm.lead.list', {});
    expect(server.count('crm.lead.list')).toBe(2);
    const err = await client.call('crm.lead.add', { fields: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(((err as OutcomeUnknownError).cause as NetworkError).code).toBe('NETWORK_TIMEOUT');
    expect(server.count('crm.lead.add')).toBe(1);
  });

  it('connection refused proves the request was never sent: even an .add is retried, then a NetworkError', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const clock = fakeClock();
    client = createClient(webhookConfig(`http://127.0.0.1:${port}`), { clock, random: () => 0.5, retries: 2 });
    const err = await client.call('crm.lead.add', { fields: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).errno).toBe('ECONNREFUSED');
    expect((err as NetworkError).sent).toBe(false);
    expect(client.stats.retries).toBe(2);
  });

  it.each([
    [404, 'ERROR_METHOD_NOT_FOUND', B24ApiError, 'B24_METHOD_NOT_FOUND'],
    [403, 'insufficient_scope', AuthError, 'AUTH_INSUFFICIENT_SCOPE'],
    [403, 'WRONG_AUTH_TYPE', AuthError, 'AUTH_WRONG_TYPE'],
    [403, 'ACCESS_DENIED', B24ApiError, 'B24_API_ERROR'],
    [400, '', B24ApiError, 'B24_API_ERROR'],
    [400, 'INVALID_ARG_VALUE', B24ApiError, 'B24_API_ERROR'],
    [401, 'NO_AUTH_FOUND', AuthError, 'AUTH_FAILED'],
    [503, 'OVERLOAD_LIMIT', RateLimitError, 'OVERLOAD_LIMIT'],
  ] as const)('%i %s is not retried (%s %s)', async (status, error, cls, code) => {
    const { server, client } = await setup(() => fail(status, error, 'Parameter filter must be array.'));
    const err = await client.call('crm.deal.list', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    const e = err as B24ApiError;
    expect(e.code).toBe(code);
    expect(e.error).toBe(error);
    expect(e.errorDescription).toBe('Parameter filter must be array.');
    expect(e.status).toBe(status);
    expect(e.method).toBe('crm.deal.list');
    expect(server.count('crm.deal.list')).toBe(1);
    expect(client.stats.retries).toBe(0);
  });

  it('a redirect (portal changed its domain) is not followed and not retried: B24_PORTAL_MOVED', async () => {
    const { server, client } = await setup(() => ({ status: 302, text: '', headers: { location: 'https://new-name.bitrix24.com/rest/1/x/crm.lead.add.json' } }));
    const err = (await client.call('crm.lead.add', { fields: {} }).catch((e: unknown) => e)) as B24ApiError;
    expect(err.code).toBe('B24_PORTAL_MOVED');
    expect(err.errorDescription).toContain('https://new-name.bitrix24.com');
    expect(err.message).not.toContain('/rest/1/x');
    expect(server.count('crm.lead.add')).toBe(1);
  });

  it('gives up after the configured retries with the last error', async () => {
    const { server, client } = await setup(() => fail(500, 'INTERNAL_SERVER_ERROR'), { retries: 3 });
    const err = await client.call('crm.lead.get', { id: 1 }).catch((e: unknown) => e);
    expect((err as B24ApiError).code).toBe('B24_SERVER_ERROR');
    expect((err as B24ApiError).kind).toBe('operational');
    expect(server.count('crm.lead.get')).toBe(4);
  });
});

describe('execution budget (time.operating)', () => {
  it('429 OPERATION_TIME_LIMIT waits until operating_reset_at (virtual time) and then succeeds', async () => {
    const start = 1_700_000_000_000;
    const resetAt = start / 1000 + 90;
    let refusedAt = 0;
    const { server, client, clock } = await setup((_req, n) => {
      if (n === 1) return ok([], { time: { operating: 200, operating_reset_at: resetAt } });
      if (n === 2) {
        refusedAt = clock.now();
        return fail(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.');
      }
      return ok([{ ID: '1' }], { time: { operating: 10, operating_reset_at: resetAt + 600 } });
    });
    await client.call('crm.deal.list', {});
    const env = await client.call('crm.deal.list', {});
    expect(env.result).toEqual([{ ID: '1' }]);
    expect(server.count('crm.deal.list')).toBe(3);
    expect(refusedAt).toBeLessThan(resetAt * 1000);
    expect(clock.now()).toBeGreaterThanOrEqual(resetAt * 1000);
    expect(client.stats.operatingLimitRefusals).toBe(1);
    expect(client.stats.operatingWaitMs).toBeGreaterThanOrEqual(resetAt * 1000 - refusedAt - 1000);
  });

  it('slows a method down as it nears the budget, and leaves other methods alone', async () => {
    const start = 1_700_000_000_000;
    const { client, clock } = await setup((req) =>
      req.method === 'crm.deal.list' ? ok([], { time: { operating: 456, operating_reset_at: start / 1000 + 100 } }) : ok([]),
    );
    await client.call('crm.deal.list', {});
    const before = clock.now();
    await client.call('crm.lead.list', {});
    expect(clock.now()).toBe(before);
    await client.call('crm.deal.list', {});
    // 456 s of 480: 75% of the way from the 384 s threshold → 75% of the 100 s to the reset
    expect(clock.now() - before).toBe(75_000);
    expect(client.stats.operatingWaits).toBe(1);
  });
});
