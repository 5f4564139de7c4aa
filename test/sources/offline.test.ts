import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createOfflineSource, type OfflineRecord } from '../../engine/sources/offline.js';
import { createClient, type B24ClientApi } from '../../engine/client/index.js';
import { realTimers } from '../../engine/clock.js';
import { engineClient, oauthConfig, userClient } from './emulator-helpers.js';
import { makeContext, ManualClock, ManualTimers, memoryLogger, openTestStore, type TestStore } from './helpers.js';
import { until } from '../daemon/harness.js';

let emu: Emulator;
let store: TestStore;
let clock: ManualClock;

beforeEach(async () => {
  emu = await startEmulator({ port: 0, data: { users: [{ ID: 1, NAME: 'Admin', ACTIVE: true }] } });
  clock = new ManualClock(Date.now());
  store = openTestStore(clock.now);
});
afterEach(async () => {
  await emu.close();
  store.state.close();
});

async function queue(connector = 'b24rules'): Promise<OfflineRecord[]> {
  const r = await engineClient(emu, connector).call<OfflineRecord[]>('event.offline.list', { auth_connector: connector });
  return r.result;
}

async function addLeads(n: number, prefix = 'Lead'): Promise<number[]> {
  const user = userClient(emu);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(Number((await user.call<number>('crm.lead.add', { fields: { TITLE: `${prefix} ${i}` } })).result));
  return ids;
}

/** Wait until the source's loop has armed its next timer (the cycle in flight is over). */
async function settle(timers: ManualTimers): Promise<void> {
  await until(() => timers.pending.size === 1, 'the next poll to be scheduled');
}

function source(ctx = makeContext(store, clock, new ManualTimers()), events = ['ONCRMLEADADD']) {
  return createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events, batchSize: 50 }, ctx);
}

describe('offline source against the emulator', () => {
  it('binds only the missing offline events, with the connector', async () => {
    const src = source(undefined, ['ONCRMLEADADD', 'oncrmdealupdate']);
    expect((await src.bind()).sort()).toEqual(['ONCRMDEALUPDATE', 'ONCRMLEADADD']);
    expect(await src.bind()).toEqual([]);
    const binds = emu.calls.records.filter((c) => c.method === 'event.bind');
    expect(binds).toHaveLength(2);
    expect(binds[0]?.params).toMatchObject({ event_type: 'offline', auth_connector: 'b24rules' });
  });

  it('reserves a batch, stores it keyed process_id:MESSAGE_ID, and clears only what the inbox says is done', async () => {
    const src = source();
    await src.bind();
    await addLeads(3);
    expect(await src.poll()).toBe(3);
    const items = store.inbox.list().reverse();
    expect(items).toHaveLength(3);
    const pid = items[0]?.processId as string;
    expect(pid).toMatch(/\w{8,}/);
    for (const it of items) {
      expect(it).toMatchObject({ source: 'offline', event: 'ONCRMLEADADD', processId: pid, key: `${pid}:${it.messageId}` });
      expect((it.payload.data as { FIELDS: { ID: unknown } }).FIELDS.ID).toBeDefined();
    }
    expect((await queue()).every((r) => r.PROCESS_ID === pid)).toBe(true);

    // Nothing done yet: acknowledging clears nothing.
    await src.acknowledge();
    expect(emu.calls.records.some((c) => c.method === 'event.offline.clear')).toBe(false);
    expect(await queue()).toHaveLength(3);

    store.finish(items[0]!.id, 'done');
    store.finish(items[1]!.id, 'done');
    await src.acknowledge();
    const clears = emu.calls.records.filter((c) => c.method === 'event.offline.clear');
    expect(clears).toHaveLength(1);
    expect(clears[0]?.params).toMatchObject({ process_id: pid });
    expect(await queue()).toHaveLength(1);
    expect(store.inbox.openProcessIds()).toEqual([pid]);

    // The third is poison: reported with event.offline.error, kept out of the live queue.
    store.finish(items[2]!.id, 'dead');
    await src.acknowledge();
    const left = await queue();
    expect(left).toHaveLength(1);
    expect(String(left[0]?.ERROR)).toBe('1');
    expect(emu.calls.records.filter((c) => c.method === 'event.offline.error')).toHaveLength(1);
    expect(store.inbox.openProcessIds()).toEqual([]);
    expect(await src.poll()).toBe(0);
  });

  it('recovers a reservation nobody remembers (crash between get and insert) via event.offline.list', async () => {
    const first = source();
    await first.bind();
    await addLeads(2, 'Lost');
    // A daemon reserved this batch and died before storing it.
    const lost = await engineClient(emu).call<{ process_id: string; events: unknown[] }>('event.offline.get', { clear: 0, auth_connector: 'b24rules' });
    expect(lost.result.events).toHaveLength(2);
    // A normal get does not see reserved records: without recovery they would be hidden for 30 days.
    expect(await first.poll()).toBe(0);
    // A newer change, not reserved: recovery leaves it to the normal poll.
    await addLeads(1, 'Fresh');

    const ctx = makeContext(store, clock, new ManualTimers());
    const restarted = source(ctx);
    const rec = await restarted.recover();
    expect(rec.unknown).toEqual([lost.result.process_id]);
    const items = store.inbox.list();
    expect(items).toHaveLength(2);
    expect(items.every((i) => i.processId === lost.result.process_id)).toBe(true);
    for (const i of items) store.finish(i.id, 'done');
    await restarted.acknowledge();
    expect(await queue()).toHaveLength(1);
    expect(await restarted.poll()).toBe(1);
    expect(ctx.metrics.eventsProcessed.get({ source: 'offline', outcome: 'done' })).toBe(2);
  });

  it('after a crash between done and clear, a restart re-reads the known process id and clears it without new work', async () => {
    const src = source();
    await src.bind();
    await addLeads(2);
    await src.poll();
    for (const i of store.inbox.list()) store.finish(i.id, 'done');
    // Crash before acknowledge(): the portal still holds the reservation.
    expect(await queue()).toHaveLength(2);
    const restarted = source();
    const rec = await restarted.recover();
    expect(rec.known).toHaveLength(1);
    expect(rec.unknown).toEqual([]);
    expect(store.inbox.list()).toHaveLength(2);
    expect(await queue()).toHaveLength(0);
  });

  it('does not get back the changes made with its own connector (the engine writes)', async () => {
    const src = source(undefined, ['ONCRMLEADUPDATE']);
    await src.bind();
    const [id] = await addLeads(1);
    await engineClient(emu).call('crm.lead.update', { id, fields: { TITLE: 'changed by the engine' } });
    expect(await src.poll()).toBe(0);
    await userClient(emu).call('crm.lead.update', { id, fields: { TITLE: 'changed by a person' } });
    expect(await src.poll()).toBe(1);
  });

  it('stops reserving while the inbox is over its depth limit (backpressure)', async () => {
    const ctx = makeContext(store, clock, new ManualTimers());
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], maxDepth: 2 }, ctx);
    await src.bind();
    await addLeads(3);
    expect(await src.poll()).toBe(3);
    await addLeads(1, 'More');
    expect(await src.poll()).toBe(0);
    expect((await queue()).filter((r) => r.PROCESS_ID === '')).toHaveLength(1);
  });

  it('polls less often while the queue stays empty (doubling to 5x), and at once after a full batch', async () => {
    const timers = new ManualTimers();
    const ctx = makeContext(store, clock, timers);
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], pollIntervalMs: 100, batchSize: 2 }, ctx);
    await src.start();
    const waits: number[] = [];
    const step = async () => {
      waits.push(...[...timers.pending.values()].map((t) => t.ms));
      timers.runAll();
      await until(() => timers.pending.size === 1, 'the next poll to be scheduled');
    };
    for (let i = 0; i < 5; i++) await step();
    expect(waits).toEqual([0, 100, 200, 400, 500]);
    await addLeads(3);
    await step(); // polls 2 of 3: a full batch
    await step(); // polls the third: back to the short wait
    await step();
    expect(waits.slice(5)).toEqual([500, 0, 100]);
    await src.stop();
  });

  it('repeats the recovery scan while running, so a batch reserved but never stored is not hidden for long', async () => {
    const timers = new ManualTimers();
    const ctx = makeContext(store, clock, timers);
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], pollIntervalMs: 100, recoverEveryMs: 60_000 }, ctx);
    await src.start();
    // The first cycle runs the start's recovery.
    timers.runAll();
    await settle(timers);
    await addLeads(1, 'Reserved elsewhere');
    await engineClient(emu).call('event.offline.get', { clear: 0, auth_connector: 'b24rules' });
    timers.runAll();
    await until(() => timers.pending.size === 1, 'the next poll');
    expect(store.inbox.list()).toHaveLength(0);
    clock.advance(60_000);
    timers.runAll();
    await until(() => store.inbox.list().length === 1, 'the periodic recovery to store the lost batch');
    await src.stop();
  });

  it('regression: a reservation whose answer was lost (the get ran, the connection dropped) is recovered in the same poll cycle, not after 10 minutes', async () => {
    const timers = new ManualTimers();
    const ctx = makeContext(store, clock, timers);
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], pollIntervalMs: 100 }, ctx);
    await src.start();
    await settle(timers);
    await addLeads(3, 'Answer lost');
    // The portal reserves the three records, then the answer is lost; the client's retry reserves the (empty) rest.
    emu.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['event.offline.get'], maxFaults: 1 });
    const before = clock.now();
    timers.runAll();
    await settle(timers);
    expect(emu.calls.of('event.offline.get').filter((c) => c.fault === 'drop')).toHaveLength(1);
    const items = store.inbox.list();
    expect(items).toHaveLength(3);
    expect(new Set(items.map((i) => i.messageId)).size).toBe(3);
    // Within the poll cycle that lost the answer: no time passed on the source's clock, no further poll ran.
    expect(clock.now() - before).toBe(0);
    for (const i of items) store.finish(i.id, 'done');
    await src.acknowledge();
    expect(await queue()).toHaveLength(0);
    await src.stop();
  });

  it('regression: when every attempt of the reserving get lost its answer, the next poll recovers the reservation first', async () => {
    const timers = new ManualTimers();
    const ctx = makeContext(store, clock, timers);
    // retries: 2, so three lost answers fail the poll.
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], pollIntervalMs: 100 }, ctx);
    await src.start();
    await settle(timers);
    await addLeads(2, 'All answers lost');
    emu.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['event.offline.get'], maxFaults: 3 });
    timers.runAll();
    await settle(timers);
    expect(store.inbox.list()).toHaveLength(0);
    // The failure backoff: 2 x the poll interval.
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([200]);
    timers.runAll();
    await settle(timers);
    const items = store.inbox.list();
    expect(items).toHaveLength(2);
    for (const i of items) store.finish(i.id, 'done');
    await src.acknowledge();
    expect(await queue()).toHaveLength(0);
    await src.stop();
  });

  it('an acknowledgement asked for during the list scan is skipped, so no clear shifts the pages being read', async () => {
    const real = engineClient(emu);
    /** Clear requests the portal had seen when the acknowledgement asked for during the scan resolved. */
    let clearsSeenByAck: Promise<number> | undefined;
    // The real client, passing everything through; it asks for an acknowledgement as the scan's list request leaves.
    const client: B24ClientApi = {
      call: (method, params, options) => {
        if (method === 'event.offline.list' && !clearsSeenByAck) clearsSeenByAck = src.acknowledge().then(() => emu.calls.of('event.offline.clear').length);
        return real.call(method, params, options);
      },
      batch: (commands, options) => real.batch(commands, options),
      listAll: (method, options) => real.listAll(method, options),
    };
    const src = createOfflineSource({ client, authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(store, clock, new ManualTimers()));
    await src.bind();
    await addLeads(2, 'Done');
    expect(await src.poll()).toBe(2);
    for (const i of store.inbox.list()) store.finish(i.id, 'done');
    await addLeads(1, 'Reserved elsewhere');
    const elsewhere = await real.call<{ process_id: string }>('event.offline.get', { clear: 0, auth_connector: 'b24rules' });

    const recovered = await src.recover();
    expect(recovered.unknown).toEqual([elsewhere.result.process_id]);
    // Skipped: it resolved at once, before anything was cleared.
    expect(await clearsSeenByAck).toBe(0);
    // The recovery's own acknowledgement, after the scan, clears the two done events.
    const seqs = (m: string) => emu.calls.of(m).filter((c) => !c.batch).map((c) => c.seq);
    expect(seqs('event.offline.clear')).toHaveLength(1);
    expect(Math.min(...seqs('event.offline.clear'))).toBeGreaterThan(Math.max(...seqs('event.offline.list')));
    expect((await queue()).map((r) => r.PROCESS_ID)).toEqual([elsewhere.result.process_id]);
  });

  it('start() binds, recovers and polls from its timer; stop() waits for the poll in flight', async () => {
    const timers = new ManualTimers();
    const ctx = makeContext(store, clock, timers);
    const src = source(ctx);
    await addLeads(1);
    await src.start();
    expect(timers.pending.size).toBe(1);
    timers.runAll();
    await src.stop();
    // The binding was made at start, after the lead: nothing to read yet, and that is fine.
    await addLeads(2);
    const again = source(makeContext(store, clock, timers));
    await again.start();
    timers.runAll();
    await again.stop();
    expect(store.inbox.list()).toHaveLength(2);
    expect(ctx.notified).toBe(0);
  });
});

describe('offline source without the rights to bind', () => {
  it('start() fails with a user error that says what offline events need', async () => {
    const e = await startEmulator({ port: 0, data: { users: [{ ID: 1, NAME: 'Admin', ACTIVE: true }, { ID: 7, NAME: 'Not admin', ACTIVE: true }] } });
    try {
      const clock = new ManualClock(Date.now());
      const st = openTestStore(clock.now);
      const tokens = e.issueTokens(7);
      const base = oauthConfig(e);
      const client = createClient({ ...base, auth: { ...base.auth, accessToken: tokens.access_token, refreshToken: tokens.refresh_token } as typeof base.auth }, { authConnector: 'b24rules', rateLimit: false, retries: 0 });
      const src = createOfflineSource({ client, authConnector: 'b24rules', events: ['ONCRMLEADADD'] }, makeContext(st, clock, new ManualTimers()));
      await expect(src.start()).rejects.toMatchObject({ code: 'OFFLINE_SOURCE_FAILED', kind: 'user', message: expect.stringContaining('administrator') });
      st.state.close();
    } finally {
      await e.close();
    }
  });
});

describe('offline source start-up through faults (the client retries reads and idempotent writes)', () => {
  const bound = () => emu.events.hub.bindings.forEvent('ONCRMLEADADD').filter((b) => b.offline);

  it('regression: a dropped connection on event.get (before or after the portal ran it) does not fail the start', async () => {
    for (const dropWhen of ['before', 'after'] as const) {
      emu.setFaults({ dropRate: 1, dropWhen, methods: ['event.get'], maxFaults: 1 });
      const timers = new ManualTimers();
      const src = source(makeContext(store, clock, timers));
      await src.start();
      await src.stop();
    }
    expect(emu.calls.of('event.get').filter((c) => c.fault === 'drop')).toHaveLength(2);
    expect(bound()).toHaveLength(1);
  });

  it('regression: a re-sent event.bind whose first attempt ran ("Handler already binded") counts as bound', async () => {
    emu.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['event.bind'], maxFaults: 1 });
    const { logger, records } = memoryLogger();
    const ctx = { ...makeContext(store, clock, new ManualTimers()), logger };
    const src = source(ctx);
    await src.start();
    await src.stop();
    const binds = emu.calls.of('event.bind');
    expect(binds.map((c) => [c.status, c.error ?? null, c.fault ?? null])).toEqual([
      [200, null, 'drop'],
      [400, 'ERROR_CORE', null],
    ]);
    expect(bound()).toHaveLength(1);
    expect(records.some((r) => String(r.msg).includes('bound already'))).toBe(true);
  });

  it('a portal that keeps failing at start does not stop it: the failure is logged with its own code, not a hint about rights or the plan, and the loop binds later', async () => {
    emu.setFaults({ errorRate: 1, methods: ['event.get'] });
    const { logger, records } = memoryLogger();
    const src = source({ ...makeContext(store, clock, new ManualTimers()), logger });
    await src.start();
    const warning = records.find((r) => r.msg === 'offline: binding the events failed; starting anyway, binding again in the background');
    expect(warning?.err).toMatchObject({ code: 'B24_SERVER_ERROR', kind: 'operational' });
    expect(JSON.stringify(warning)).not.toMatch(/administrator|Professional plan/i);
    await src.stop();
  });

  it('a binding slower than startBindWaitMs does not hold the start up: it goes on in the background and the source then polls', async () => {
    // Every answer 400 ms late: event.get and event.bind take about a second, far past the 50 ms the start waits.
    emu.setFaults({ latencyMs: 400 });
    const { logger, records } = memoryLogger();
    const ctx = { ...makeContext(store, clock, realTimers), logger };
    const src = createOfflineSource({ client: engineClient(emu), authConnector: 'b24rules', events: ['ONCRMLEADADD'], batchSize: 50, startBindWaitMs: 50 }, ctx);
    await src.start();
    expect(records.some((r) => r.msg === 'offline: binding the events is slow; starting anyway, binding goes on in the background')).toBe(true);
    await until(() => emu.events.hub.bindings.forEvent('ONCRMLEADADD').some((b) => b.offline), 'the background binding', 20_000);
    emu.setFaults({ latencyMs: 0 });
    const [lead] = await addLeads(1, 'Slow start');
    await until(() => store.inbox.list().some((i) => String((i.payload as { data?: { FIELDS?: { ID?: unknown } } }).data?.FIELDS?.ID) === String(lead)), 'the lead event in the inbox', 20_000);
    await src.stop();
  });

  it('a plan without auth_connector fails the start with the plan hint, not the administrator one', async () => {
    (emu.events.hub.features as { authConnector: boolean }).authConnector = false;
    const src = source();
    const err = (await src.start().catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('OFFLINE_SOURCE_FAILED');
    expect(err.message).toContain('WRONG_LICENSE');
    expect(err.message).toContain('Professional plan');
    expect(err.message).toContain('rest_auth_connector');
    expect(err.message).not.toContain('administrator');
  });
});
