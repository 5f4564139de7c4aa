/**
 * Ride-along commands against a real node:http portal: an idempotent command
 * queued with rideAlong() shares the next batch request's spare slots (the
 * batch's caller never sees it), or goes alone when the deadline passes (one
 * plain call for one, one batch for several). Timers are run by the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client, type BatchItemResult } from '../../engine/client/index.js';
import { ManualTimers } from '../sources/helpers.js';
import { fakeClock } from './helpers/fake-clock.js';
import { PortalError, runBatch, type MethodImpl } from './helpers/php-portal.js';
import { webhookConfig } from './helpers/config.js';
import { ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** A portal with updates and offline clears; every command it ran, in order, with the request it came in. */
async function portal(options: { failRequests?: number } = {}) {
  const ran: Array<{ request: number; method: string; params: Record<string, unknown> }> = [];
  const methods: Record<string, MethodImpl> = {
    'crm.lead.update': () => ({ result: true }),
    'event.offline.clear': (p) => {
      if (p.process_id === 'refused') throw new PortalError(400, 'ERROR_ARGUMENT', "Argument 'PROCESS_ID' is null or empty");
      return { result: true };
    },
  };
  let failures = options.failRequests ?? 0;
  server = await startServer((req, n) => {
    if (failures > 0) {
      failures--;
      return { status: 500, json: { error: 'INTERNAL_SERVER_ERROR', error_description: 'down' } };
    }
    if (req.method === 'batch') return { json: { result: runBatch(req.body, methods, (method, params) => ran.push({ request: n, method, params })), time: {} } };
    const impl = methods[req.method];
    if (!impl) return ok(null);
    const params = req.body;
    ran.push({ request: n, method: req.method, params });
    try {
      return { json: { ...impl(params), time: {} } };
    } catch (err) {
      const e = err as PortalError;
      return { status: e.status, json: { error: e.error, error_description: e.description } };
    }
  });
  return { ran, server };
}

function newClient(timers: ManualTimers, extra: Parameters<typeof createClient>[1] = {}): B24Client {
  client = createClient(webhookConfig((server as ScriptedServer).url), { clock: fakeClock(), timers, rateLimit: false, retries: 1, backoffBaseMs: 1, ...extra });
  return client;
}

const clear = (pid: string) => ({ method: 'event.offline.clear', params: { process_id: pid, message_id: ['a'.repeat(32)] } });
const updates = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`u${i}`, { method: 'crm.lead.update', params: { id: i + 1, fields: { TITLE: `t${i}` } } }]));
/** Commands of each batch request the portal got, by method. */
const commandsOf = (s: ScriptedServer) => s.seen.filter((r) => r.method === 'batch').map((r) => Object.values(r.body.cmd as Record<string, string>).map((c) => c.slice(0, c.indexOf('?'))));

describe('ride-along commands', () => {
  it('share the next batch request: one request, the caller of the batch sees only its own keys, each rider gets its own answer', async () => {
    const p = await portal();
    const timers = new ManualTimers();
    const c = newClient(timers);
    const riders = [c.rideAlong(clear('pid-1')), c.rideAlong(clear('pid-2'))];
    expect(p.server.seen).toHaveLength(0);
    const results = await c.batch(updates(3));
    expect(Object.keys(results)).toEqual(['u0', 'u1', 'u2']);
    expect(await Promise.all(riders)).toEqual([expect.objectContaining({ ok: true, result: true }), expect.objectContaining({ ok: true, result: true })]);
    expect(p.server.seen.map((r) => r.method)).toEqual(['batch']);
    expect(commandsOf(p.server)).toEqual([['crm.lead.update', 'crm.lead.update', 'crm.lead.update', 'event.offline.clear', 'event.offline.clear']]);
    expect(p.ran.filter((r) => r.method === 'event.offline.clear').map((r) => r.params.process_id)).toEqual(['pid-1', 'pid-2']);
    expect(c.stats.rideAlong).toBe(2);
    // The deadline timer went with them: nothing is left to send.
    expect(timers.pending.size).toBe(0);
  });

  it('take only the spare slots of a request (at most 50 commands), and none of a halting batch', async () => {
    const p = await portal();
    const timers = new ManualTimers();
    const c = newClient(timers);
    const first = c.rideAlong(clear('pid-1'));
    const second = c.rideAlong(clear('pid-2'));
    await c.batch(updates(49));
    await first;
    expect(commandsOf(p.server)[0]).toHaveLength(50);
    await c.batch(updates(2), { halt: true });
    expect(commandsOf(p.server)[1]).toEqual(['crm.lead.update', 'crm.lead.update']);
    // The second is still waiting; the deadline sends it alone, as a plain call.
    expect(timers.pending.size).toBe(1);
    timers.runAll();
    expect(await second).toMatchObject({ ok: true, result: true });
    expect(p.server.seen.map((r) => r.method)).toEqual(['batch', 'batch', 'event.offline.clear']);
  });

  it('without a batch to join, go alone at the deadline: several due at once in one request, one alone as a plain call', async () => {
    const p = await portal();
    const timers = new ManualTimers();
    const c = newClient(timers, { rideAlongDeadlineMs: 750 });
    const three = [c.rideAlong(clear('pid-1')), c.rideAlong(clear('pid-2')), c.rideAlong(clear('pid-3'))];
    // One timer for the queue, at the deadline of the first.
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([750]);
    timers.runAll();
    expect((await Promise.all(three)).every((r) => r.ok)).toBe(true);
    expect(commandsOf(p.server)).toEqual([['event.offline.clear', 'event.offline.clear', 'event.offline.clear']]);
    const one = c.rideAlong(clear('pid-4'), { deadlineMs: 10 });
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([10]);
    timers.runAll();
    expect(await one).toMatchObject({ ok: true });
    expect(p.server.seen.map((r) => r.method)).toEqual(['batch', 'event.offline.clear']);
  });

  it('a command the portal refuses gets its error as its own result; a request that fails fails its riders, not the others', async () => {
    const p = await portal();
    const timers = new ManualTimers();
    const c = newClient(timers);
    const refused = c.rideAlong(clear('refused'));
    const fine = c.rideAlong(clear('pid-1'));
    await c.flushRideAlong();
    const answers: BatchItemResult[] = await Promise.all([refused, fine]);
    expect(answers[0]).toMatchObject({ ok: false, error: { error: 'ERROR_ARGUMENT' } });
    expect(answers[1]).toMatchObject({ ok: true });
    // Alone, as a plain call: the same refusal as a result, not a rejection.
    const alone = c.rideAlong(clear('refused'));
    await c.flushRideAlong();
    expect(await alone).toMatchObject({ ok: false, error: { error: 'ERROR_ARGUMENT', error_description: "Argument 'PROCESS_ID' is null or empty" } });
    expect(p.ran.map((r) => r.method)).toEqual(['event.offline.clear', 'event.offline.clear', 'event.offline.clear']);
  });

  it('a batch request that fails as a whole rejects the riders it carried with its error', async () => {
    await portal({ failRequests: 2 });
    const timers = new ManualTimers();
    const c = newClient(timers);
    const rider = c.rideAlong(clear('pid-1'));
    await expect(c.batch(updates(1))).rejects.toMatchObject({ code: 'B24_SERVER_ERROR' });
    await expect(rider).rejects.toMatchObject({ code: 'B24_SERVER_ERROR' });
    expect(timers.pending.size).toBe(0);
  });

  it('only idempotent commands ride; a read-only client refuses writes; close() fails those still waiting with CLIENT_CLOSED, unsent', async () => {
    const p = await portal();
    const timers = new ManualTimers();
    const c = newClient(timers);
    await expect(c.rideAlong({ method: 'crm.lead.add', params: { fields: { TITLE: 'x' } } })).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(c.rideAlong({ method: 'event.offline.error', params: { process_id: 'p', message_id: ['a'.repeat(32)] } })).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(c.rideAlong({ method: 'batch', params: {} })).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    const readOnly = createClient(webhookConfig(p.server.url), { readOnly: true, timers });
    await expect(readOnly.rideAlong(clear('pid-1'))).rejects.toMatchObject({ code: 'WRITE_REFUSED' });
    await readOnly.close();
    const waiting = c.rideAlong(clear('pid-1'));
    await c.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED', kind: 'operational' });
    await expect(c.rideAlong(clear('pid-2'))).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(p.server.seen).toHaveLength(0);
    expect(timers.pending.size).toBe(0);
    client = undefined;
  });
});
