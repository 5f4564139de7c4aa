import { afterEach, describe, expect, it } from 'vitest';
import { createClient, LeakyBucket, type B24Client } from '../../engine/client/index.js';
import { fakeClock, type FakeClock } from './helpers/fake-clock.js';
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

/** The portal's own limiter (API-FACTS §2.1) on the same virtual clock: refuse while the counter is above the burst. */
function portalLimiter(clock: FakeClock, burst: number, rate: number) {
  let level = 0;
  let at = clock.now();
  let refusals = 0;
  return {
    admit(): boolean {
      level = Math.max(0, level - ((clock.now() - at) / 1000) * rate);
      at = clock.now();
      if (level > burst) {
        refusals++;
        return false;
      }
      level += 1;
      return true;
    },
    get refusals() {
      return refusals;
    },
  };
}

describe('leaky bucket', () => {
  it('60 calls on burst 50 / 2 per s: the first 50 go at once, the last 10 wait 0.5 s each, zero refusals', async () => {
    const clock = fakeClock();
    const limiter = portalLimiter(clock, 50, 2);
    const sentAt: number[] = [];
    server = await startServer(() => {
      sentAt.push(clock.now());
      return limiter.admit() ? ok(true) : fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');
    });
    client = createClient(webhookConfig(server.url), { clock });
    const t0 = clock.now();
    for (let i = 0; i < 60; i++) await client.call('crm.lead.get', { id: i });
    expect(limiter.refusals).toBe(0);
    expect(sentAt.slice(0, 50).every((t) => t === t0)).toBe(true);
    const gaps = sentAt.slice(50).map((t, i) => t - (sentAt[49 + i] as number));
    expect(gaps).toEqual(Array(10).fill(500));
    expect(clock.sleeps).toEqual(Array(10).fill(500));
    expect(client.stats.rateLimitWaits).toBe(10);
    expect(client.stats.rateLimitWaitMs).toBe(5000);
  });

  it('concurrent callers reserve slots in order: the 51st..60th wait 0.5 s, 1 s, ... 5 s', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ burst: 50, drainPerSecond: 2 }, clock);
    const waits = Array.from({ length: 60 }, () => bucket.reserve());
    expect(waits.slice(0, 50).every((w) => w === 0)).toBe(true);
    expect(waits.slice(50)).toEqual([500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000]);
  });

  it('the enterprise plan mirrors burst 250 and 5 per second', async () => {
    const clock = fakeClock();
    server = await startServer(() => ok(true));
    client = createClient({ ...webhookConfig(server.url), plan: 'enterprise' }, { clock });
    for (let i = 0; i < 252; i++) await client.call('crm.lead.get', {});
    expect(clock.sleeps).toEqual([200, 200]);
  });

  it('drains over time: after 10 s of quiet, 20 more calls go at once', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ burst: 50, drainPerSecond: 2 }, clock);
    for (let i = 0; i < 50; i++) bucket.reserve();
    clock.advance(10_000);
    expect(Array.from({ length: 20 }, () => bucket.reserve()).every((w) => w === 0)).toBe(true);
    expect(bucket.reserve()).toBe(500);
  });

  it('a QUERY_LIMIT_EXCEEDED from the portal fills the bucket, so the next calls wait instead of being refused again', async () => {
    const clock = fakeClock();
    server = await startServer((_r, n) => (n === 1 ? fail(503, 'QUERY_LIMIT_EXCEEDED') : ok(true)));
    client = createClient(webhookConfig(server.url), { clock, random: () => 0 });
    await client.call('crm.lead.get', {});
    // the retry needed a slot in a full bucket
    expect(clock.sleeps.filter((s) => s > 0)).toEqual([500]);
  });

  it('configurable, and can be disabled', async () => {
    const clock = fakeClock();
    server = await startServer(() => ok(true));
    client = createClient(webhookConfig(server.url), { clock, rateLimit: { burst: 2, drainPerSecond: 1 } });
    for (let i = 0; i < 3; i++) await client.call('crm.lead.get', {});
    expect(clock.sleeps).toEqual([1000]);
    const free = createClient(webhookConfig(server.url), { clock, rateLimit: false });
    for (let i = 0; i < 100; i++) await free.call('crm.lead.get', {});
    await free.close();
    expect(clock.sleeps).toEqual([1000]);
  });

  it('two clients of one portal can share a bucket', async () => {
    const clock = fakeClock();
    server = await startServer(() => ok(true));
    const shared = new LeakyBucket({ burst: 3, drainPerSecond: 1 }, clock);
    client = createClient(webhookConfig(server.url), { clock, rateLimit: shared });
    const other = createClient(webhookConfig(server.url), { clock, rateLimit: shared });
    await client.call('crm.lead.get', {});
    await other.call('crm.lead.get', {});
    await client.call('crm.lead.get', {});
    await other.call('crm.lead.get', {});
    await other.close();
    expect(clock.sleeps).toEqual([1000]);
  });
});

describe('requests in flight', () => {
  it('a request reserves its bucket slot only once it holds a connection, so queued requests still arrive spaced (regression: 1-2 refusals in 300 calls)', async () => {
    const clock = fakeClock();
    const arrivals: number[] = [];
    server = await startServer(async () => {
      arrivals.push(clock.now());
      await new Promise((r) => setTimeout(r, 5));
      return ok(true);
    });
    client = createClient(webhookConfig(server.url), { clock, connections: 1, rateLimit: { burst: 1, drainPerSecond: 2 } });
    await Promise.all(Array.from({ length: 4 }, (_, i) => client!.call('crm.lead.get', { id: i })));
    expect(arrivals).toHaveLength(4);
    // Reserving before queueing for the socket let the waits run out together: the last three arrived at once.
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(500);
  });
});
