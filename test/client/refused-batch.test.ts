/**
 * Issue 13, item 7 (the client's half): a `batch` refused with 503
 * QUERY_LIMIT_EXCEEDED (or another load refusal) ran none of its commands.
 * The client re-sends it like any refused request, never reports it as
 * OUTCOME_UNKNOWN, and says so in a typed way: provedNotRun(err). The engine's
 * executor re-sends such a batch instead of looking its calls up as in doubt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createClient,
  NetworkError,
  OutcomeUnknownError,
  provedNotRun,
  RateLimitError,
  WriteRefusedError,
  type B24Client,
  type BatchCommand,
} from '../../engine/client/index.js';
import { webhookConfig } from './helpers/config.js';
import { fakeClock, type FakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type Handler, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(handler: Handler, options: { retries?: number } = {}): Promise<{ server: ScriptedServer; client: B24Client; clock: FakeClock }> {
  server = await startServer(handler);
  const clock = fakeClock();
  client = createClient(webhookConfig(server.url), { clock, rateLimit: false, ...options });
  return { server, client, clock };
}

/** `n` lead creations: writes that are not safe to repeat. */
function adds(n: number, from = 0): Record<string, BatchCommand> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`e${from + i}`, { method: 'crm.lead.add', params: { fields: { TITLE: `Lead ${from + i}` } } }]));
}

/** The portal's answer to a batch whose every command created a record. */
function batchAnswer(cmd: Record<string, string>): ReturnType<Handler> {
  const keys = Object.keys(cmd);
  return ok({ result: Object.fromEntries(keys.map((k, i) => [k, 100 + i])), result_error: [], result_total: [], result_next: [], result_time: [] });
}

describe('a refused batch ran none of its commands (issue 13, item 7)', () => {
  it('regression: 503 QUERY_LIMIT_EXCEEDED on every attempt: RateLimitError, provedNotRun, re-sent by the client, never OUTCOME_UNKNOWN', async () => {
    const { server, client } = await setup(() => fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'), { retries: 3 });
    const err = await client.batch(adds(50), { halt: false }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).not.toBeInstanceOf(OutcomeUnknownError);
    const r = err as RateLimitError;
    expect(r.code).toBe('RATE_LIMITED');
    expect(r.method).toBe('batch');
    expect(r.status).toBe(503);
    expect(r.error).toBe('QUERY_LIMIT_EXCEEDED');
    expect(r.completed).toBeUndefined();
    expect(provedNotRun(r)).toBe(true);
    // Re-sent like any refused request: the first attempt and its three retries.
    expect(server.count('batch')).toBe(4);
    expect(client.stats.outcomeUnknown).toBe(0);
    expect(client.stats.queryLimitRefusals).toBe(4);
  });

  it('a refusal then an answer: the same batch is re-sent and its results come back', async () => {
    const { server, client } = await setup((req, n) => (n <= 2 ? fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests') : batchAnswer(req.body.cmd as Record<string, string>)));
    const results = await client.batch(adds(50), { halt: false });
    expect(Object.values(results).every((x) => x.ok)).toBe(true);
    expect(server.count('batch')).toBe(3);
    expect(server.seen[2]?.body).toEqual(server.seen[0]?.body);
    expect(client.stats.outcomeUnknown).toBe(0);
  });

  it('429 OPERATION_TIME_LIMIT and 503 OVERLOAD_LIMIT for the whole batch are refusals too', async () => {
    for (const [status, code] of [
      [429, 'OPERATION_TIME_LIMIT'],
      [503, 'OVERLOAD_LIMIT'],
    ] as const) {
      const { client: c } = await setup(() => fail(status, code, 'refused'), { retries: 0 });
      const err = await c.batch(adds(3)).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(RateLimitError);
      expect(provedNotRun(err)).toBe(true);
      await c.close();
      await server?.close();
      client = undefined;
      server = undefined;
    }
  });

  it('a 503 that is not the portal JSON (a proxy page) proves nothing: a batch of creations is OUTCOME_UNKNOWN', async () => {
    const { client } = await setup(() => ({ status: 503, text: '<html>Service Unavailable</html>' }));
    const err = await client.batch(adds(5)).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(provedNotRun(err)).toBe(false);
  });

  it('regression: a later request of a batch() of more than 50 is refused: the error carries the earlier results, and is no proof that nothing ran', async () => {
    const { server, client } = await setup((req, n) => (n === 1 ? batchAnswer(req.body.cmd as Record<string, string>) : fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests')), { retries: 1 });
    const err = await client.batch(adds(60)).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RateLimitError);
    const r = err as RateLimitError;
    expect(r.code).toBe('RATE_LIMITED');
    expect(Object.keys(r.completed ?? {})).toHaveLength(50);
    expect(r.completed?.e0).toMatchObject({ ok: true, result: 100 });
    expect(provedNotRun(r)).toBe(false);
    expect(server.count('batch')).toBe(3);
  });

  it('the other proofs: a request that never left, a refused write; a dropped answer is none', async () => {
    // A port nothing listens on: the connection is refused before anything is written.
    const closed = await startServer(() => ok(true));
    const url = closed.url;
    await closed.close();
    const clock = fakeClock();
    client = createClient(webhookConfig(url), { clock, rateLimit: false, retries: 0 });
    const refused = await client.batch(adds(2)).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(NetworkError);
    expect((refused as NetworkError).sent).toBe(false);
    expect(provedNotRun(refused)).toBe(true);
    await client.close();
    client = undefined;

    client = createClient(webhookConfig(url), { clock, readOnly: true });
    const guarded = await client.batch(adds(2)).catch((x: unknown) => x);
    expect(guarded).toBeInstanceOf(WriteRefusedError);
    expect(provedNotRun(guarded)).toBe(true);
    await client.close();
    client = undefined;

    const { client: c } = await setup(() => ({ drop: true }));
    const dropped = await c.batch(adds(2)).catch((x: unknown) => x);
    expect(dropped).toBeInstanceOf(OutcomeUnknownError);
    expect(provedNotRun(dropped)).toBe(false);
    expect(provedNotRun(new Error('anything else'))).toBe(false);
  });
});
