/**
 * What the offline queue costs in requests, against the emulator over HTTP
 * (issue 12): pages as large as the portal allows, the clears of several
 * reservations in one request, clears that ride along in the next batch
 * request while the source runs, and the requests an idle source spends per
 * hour of its injected clock, with and without the ONOFFLINEEVENT wake-up
 * (delivered by the emulator to a real node:http receiver).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { createOfflineSource, type OfflineSource } from '../../engine/sources/offline.js';
import { until } from '../daemon/harness.js';
import { engineClient, oauthConfig, userClient } from './emulator-helpers.js';
import { makeContext, ManualClock, ManualTimers, openTestStore, type TestStore } from './helpers.js';

let emu: Emulator;
let store: TestStore;
let clock: ManualClock;
let receiver: Server | undefined;

beforeEach(async () => {
  // The idle hours send a few hundred requests in no time: no rate limit on the emulator's side.
  emu = await startEmulator({ port: 0, data: { users: [{ ID: 1, NAME: 'Admin', ACTIVE: true }] }, limits: { burst: 100_000 } });
  clock = new ManualClock(Date.now());
  store = openTestStore(clock.now);
});
afterEach(async () => {
  await emu.close();
  store.state.close();
  if (receiver) await new Promise<void>((r) => receiver?.close(() => r()));
  receiver = undefined;
});

async function addLeads(n: number, prefix = 'Lead'): Promise<string[]> {
  const added = await userClient(emu).batch(Array.from({ length: n }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `${prefix} ${i}` } } })));
  return Object.values(added).map((r) => String(r.result));
}

const queued = () => emu.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules');
/** Top-level reserving `event.offline.get` calls (the polls). */
const polls = () => emu.calls.of('event.offline.get', { batch: false }).filter((c) => c.params.process_id === undefined);

/** The engine's client with the ride-along deadline on timers the test runs. */
function rideClient(rideTimers: ManualTimers): B24Client {
  return createClient(oauthConfig(emu), { authConnector: 'b24rules', rateLimit: false, retries: 2, backoffBaseMs: 5, timers: rideTimers });
}

const all = () => store.inbox.list({ limit: 10_000 });

function finishAll(status: 'done' | 'dead' = 'done'): void {
  for (const i of all()) if (i.status === 'pending') store.finish(i.id, status);
}

/** Wait until the source's loop has armed its next timer (the cycle in flight is over). */
async function settle(timers: ManualTimers): Promise<void> {
  await until(() => timers.pending.size === 1, 'the next poll to be scheduled', 20_000, 1);
}

/**
 * Run the source's loop, timer by timer, until its clock reaches `end` (the clock stops at the last poll due by then);
 * returns the HTTP requests the emulator got meanwhile, in all and by method.
 */
async function runUntil(end: number, timers: ManualTimers): Promise<{ total: number; byMethod: Record<string, number> }> {
  const fromSeq = emu.calls.records.length;
  const before = emu.calls.httpRequests;
  for (;;) {
    // The pending timer was armed at the clock's current time.
    const [next] = [...timers.pending.values()];
    if (!next || clock.now() + next.ms > end) break;
    clock.advance(next.ms);
    timers.runAll();
    await settle(timers);
  }
  const byMethod: Record<string, number> = {};
  for (const c of emu.calls.records.slice(fromSeq)) if (!c.batch) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  return { total: emu.calls.httpRequests - before, byMethod };
}

const pendingWaits = (timers: ManualTimers) => [...timers.pending.values()].map((t) => t.ms);

/** A real HTTP receiver for the portal's ONOFFLINEEVENT: passes it to the source while `deliver` is on. */
async function wakeUpReceiver(src: () => OfflineSource | undefined): Promise<{ url: string; deliver: boolean; received: number }> {
  const state = { url: '', deliver: true, received: 0 };
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (new URLSearchParams(body).get('event') === 'ONOFFLINEEVENT') {
        state.received++;
        if (state.deliver) src()?.signal();
      }
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/b24/events`;
  return state;
}

describe('offline queue: pages and clears', () => {
  it('reads a page far bigger than 50 in one request (the portal sets no maximum; 1,000 by default) and re-reads it in one', async () => {
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, new ManualTimers()));
    await src.bind();
    await addLeads(120);
    const before = emu.calls.httpRequests;
    expect(await src.poll()).toBe(120);
    expect(emu.calls.httpRequests - before).toBe(1);
    expect(polls().map((c) => c.params.limit)).toEqual([1000]);
    expect(new Set(all().map((i) => i.processId)).size).toBe(1);
    // After a crash before the clear, the whole reservation is re-read in one request too.
    const again = emu.calls.httpRequests;
    const recovered = await createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, new ManualTimers())).recover();
    expect(recovered.known).toHaveLength(1);
    // One re-read, and the list scan (its first page, then the other two pages in one batch); nothing done, nothing to clear.
    expect(emu.calls.httpRequests - again).toBe(3);
    expect(all()).toHaveLength(120);
  });

  it('clears several reservations due at once in one request', async () => {
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], batchSize: 40 }, makeContext(store, clock, new ManualTimers()));
    await src.bind();
    await addLeads(120);
    for (let i = 0; i < 3; i++) expect(await src.poll()).toBe(40);
    expect(store.inbox.openProcessIds()).toHaveLength(3);
    finishAll();
    const before = emu.calls.httpRequests;
    await src.acknowledge();
    expect(emu.calls.httpRequests - before).toBe(1);
    const clears = emu.calls.of('event.offline.clear');
    expect(clears).toHaveLength(3);
    expect(new Set(clears.map((c) => c.batch?.parent)).size).toBe(1);
    expect(queued()).toHaveLength(0);
    expect(store.inbox.openProcessIds()).toEqual([]);
  });

  it('while running, the clear rides in the next batch request anyone sends: no request of its own, and acknowledged only once answered', async () => {
    const rideTimers = new ManualTimers();
    const client = rideClient(rideTimers);
    const timers = new ManualTimers();
    const src = createOfflineSource({ client, authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, timers));
    await src.start();
    const [lead] = await addLeads(3);
    timers.runAll();
    await settle(timers);
    expect(store.inbox.list()).toHaveLength(3);
    finishAll();

    const before = emu.calls.httpRequests;
    await src.acknowledge({ rideAlong: true });
    // Queued, not sent: no request, the reservation still open.
    expect(emu.calls.httpRequests).toBe(before);
    expect(store.inbox.openProcessIds()).toHaveLength(1);
    expect(queued()).toHaveLength(3);
    expect(rideTimers.pending.size).toBe(1);

    // The next write batch carries it: one request for the update and the clear.
    const results = await client.batch({ touch: { method: 'crm.lead.update', params: { id: lead, fields: { SOURCE_DESCRIPTION: 'touched' } } } });
    expect(Object.keys(results)).toEqual(['touch']);
    expect(emu.calls.httpRequests - before).toBe(1);
    const [clear] = emu.calls.of('event.offline.clear');
    const [update] = emu.calls.of('crm.lead.update');
    expect(clear?.batch?.parent).toBeDefined();
    expect(clear?.batch?.parent).toBe(update?.batch?.parent);
    await until(() => store.inbox.openProcessIds().length === 0, 'the clear to be acknowledged');
    expect(queued()).toHaveLength(0);
    expect(rideTimers.pending.size).toBe(0);
    expect(client.stats.rideAlong).toBe(1);
    await src.stop();
    await client.close();
  });

  it('regression: a ridden clear answered after the state was closed (a worker shutting down) is left for the next start; it does not crash the process', async () => {
    const rideTimers = new ManualTimers();
    const client = rideClient(rideTimers);
    const timers = new ManualTimers();
    const src = createOfflineSource({ client, authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, timers));
    await src.start();
    const [lead] = await addLeads(2);
    timers.runAll();
    await settle(timers);
    finishAll();
    await src.acknowledge({ rideAlong: true });
    // The state closes while the clear waits for a batch to ride in; then one carries it and its answer comes back.
    store.state.close();
    await client.batch({ touch: { method: 'crm.lead.update', params: { id: lead, fields: { SOURCE_DESCRIPTION: 'touched' } } } });
    // Recording the acknowledgement fails (the state is closed): the source stops cleanly instead of an unhandled
    // rejection (which ended a worker's SIGTERM with exit code 1). The portal has cleared them; a next start's
    // clear of the same ids is harmless (event.offline.clear is idempotent).
    await expect(src.stop()).resolves.toBeUndefined();
    expect(queued()).toHaveLength(0);
    await client.close();
    store = openTestStore(clock.now);
  });

  it('a clear that fails leaves the events unacknowledged for the next pass; a dead report never rides (it is not safe to send twice)', async () => {
    const rideTimers = new ManualTimers();
    const client = rideClient(rideTimers);
    const timers = new ManualTimers();
    const src = createOfflineSource({ client, authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, timers));
    await src.start();
    await addLeads(2);
    timers.runAll();
    await settle(timers);
    const [first, second] = store.inbox.list();
    store.finish(first!.id, 'done');
    store.finish(second!.id, 'dead');

    emu.setFaults({ errorRate: 1, methods: ['event.offline.clear'] });
    await src.acknowledge({ rideAlong: true });
    // The dead report went at once, alone.
    expect(emu.calls.of('event.offline.error').map((c) => c.batch)).toEqual([undefined]);
    // No batch to join: the deadline sends the clear alone, and every attempt fails.
    rideTimers.runAll();
    await client.flushRideAlong();
    await until(() => emu.calls.of('event.offline.clear').length === 3, 'the clear and its two retries');
    // The pass is over and nothing was acknowledged: the next one sends the clear again.
    await until(async () => {
      await src.acknowledge({ rideAlong: true });
      return rideTimers.pending.size === 1;
    }, 'the failed clear to be queued again');
    expect(store.inbox.finished('offline').map((i) => i.id)).toEqual([first!.id]);
    emu.setFaults({ errorRate: 0 });
    rideTimers.runAll();
    await until(() => store.inbox.openProcessIds().length === 0, 'the clear to go through');
    expect(queued().map((r) => r.error)).toEqual([1]);
    await src.stop();
    await client.close();
  });
});

describe('offline queue: idle cost', () => {
  it('an idle source spends 366 requests an hour without the wake-up and 12 with it (one safety poll and one recovery scan per 10 minutes)', { timeout: 180_000 }, async () => {
    const counts: Record<string, { first: number; steady: number; byMethod: Record<string, number> }> = {};
    for (const wakeUp of [false, true]) {
      const timers = new ManualTimers();
      const the: { src?: OfflineSource } = {};
      if (wakeUp) {
        const r = await wakeUpReceiver(() => the.src);
        await engineClient(emu).call('event.bind', { event: 'ONOFFLINEEVENT', handler: r.url, options: { minTimeout: 0 } });
      }
      // The daemon's defaults: a 2 s poll interval, a 10 s idle cap, a 10-minute recovery and safety poll.
      const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], signalReceiver: wakeUp }, makeContext(store, clock, timers));
      the.src = src;
      const t0 = clock.now();
      const start = emu.calls.httpRequests;
      await src.start();
      expect(src.wakeUpArmed).toBe(wakeUp);
      await runUntil(t0 + 3_600_000, timers);
      const first = emu.calls.httpRequests - start;
      const steady = await runUntil(t0 + 7_200_000, timers);
      counts[wakeUp ? 'with' : 'without'] = { first, steady: steady.total, byMethod: steady.byMethod };
      await src.stop();
      clock.t = t0 + 7_200_000;
    }
    // The figures of the report (first hour: the start's event.get and bind, and the idle waits doubling up to their cap).
    console.log(`idle requests per hour: ${JSON.stringify(counts)}`);
    expect(counts.without?.byMethod).toEqual({ 'event.offline.get': 360, 'event.offline.list': 6 });
    expect(counts.with?.byMethod).toEqual({ 'event.offline.get': 6, 'event.offline.list': 6 });
  });

  it('with the wake-up armed, a signal ends the long idle wait at once; a lost signal is caught by the safety poll, which then falls back to the short idle pace until the next signal', async () => {
    const timers = new ManualTimers();
    const the: { src?: OfflineSource } = {};
    const r = await wakeUpReceiver(() => the.src);
    await engineClient(emu).call('event.bind', { event: 'ONOFFLINEEVENT', handler: r.url, options: { minTimeout: 0 } });
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], signalReceiver: true }, makeContext(store, clock, timers));
    the.src = src;
    await src.start();
    await runUntil(clock.now() + 1_800_000, timers);
    expect(pendingWaits(timers)).toEqual([600_000]);

    const at = clock.now();
    await addLeads(1, 'Signalled');
    await until(() => r.received === 1 && pendingWaits(timers)[0] === 0, 'the signal to cut the idle wait');
    timers.runAll();
    await settle(timers);
    expect(store.inbox.list()).toHaveLength(1);
    expect(clock.now()).toBe(at);

    // Signals stop reaching the source (a proxy swallows them): the record waits for the safety poll.
    r.deliver = false;
    await runUntil(clock.now() + 1_800_000, timers);
    expect(pendingWaits(timers)).toEqual([600_000]);
    await addLeads(1, 'Unannounced');
    await until(() => r.received === 2, 'the swallowed signal');
    expect(src.wakeUpArmed).toBe(true);
    const before = clock.now();
    await runUntil(clock.now() + 600_000, timers);
    expect(store.inbox.list()).toHaveLength(2);
    expect(clock.now() - before).toBe(600_000);
    expect(src.wakeUpArmed).toBe(false);
    // Back to the short pace: waits double from 2 s to 10 s at most.
    await runUntil(clock.now() + 60_000, timers);
    expect(pendingWaits(timers)).toEqual([10_000]);

    // The next signal that arrives arms the wake-up again.
    r.deliver = true;
    await addLeads(1, 'Announced again');
    await until(() => src.wakeUpArmed && pendingWaits(timers)[0] === 0, 'the signal to arm the wake-up again');
    await src.stop();
  });

  it('a binding made after the start arms the wake-up with its first signal', async () => {
    const timers = new ManualTimers();
    const the: { src?: OfflineSource } = {};
    const r = await wakeUpReceiver(() => the.src);
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], signalReceiver: true }, makeContext(store, clock, timers));
    the.src = src;
    await src.start();
    expect(src.wakeUpArmed).toBe(false);
    await engineClient(emu).call('event.bind', { event: 'ONOFFLINEEVENT', handler: r.url, options: { minTimeout: 0 } });
    await addLeads(1, 'First signal');
    await until(() => src.wakeUpArmed && pendingWaits(timers)[0] === 0, 'the first signal');
    timers.runAll();
    await settle(timers);
    expect(all()).toHaveLength(1);
    await src.stop();
  });
});
