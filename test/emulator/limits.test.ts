/**
 * Limits. Doc pages: _includes/system-errors.md (503 QUERY_LIMIT_EXCEEDED "Too many requests", 429 OPERATION_TIME_LIMIT), limits.md (leaky bucket: 503 QUERY_LIMIT_EXCEEDED; 50 burst / 2 per second, enterprise 250 / 5;
 * operating budget per method: 429 OPERATION_TIME_LIMIT, time.operating, time.operating_reset_at),
 * settings/how-to-call-rest-api/batch.md (a batch is one request).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { LeakyBucket, OperatingBudget } from '../../emulator/limits.js';
import { emulator, hook, post } from './helpers.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function burst(e: Emulator, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await hook(e, 'server.time')).status);
  return statuses;
}

describe('leaky bucket', () => {
  it('standard plan: 50 requests pass at once, the 51st is 503 QUERY_LIMIT_EXCEEDED; 2 per second drain', async () => {
    const started = await emulator();
    emu = started.emu;
    const statuses = await burst(emu, 51);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses[50]).toBe(503);
    expect(await hook(emu, 'server.time')).toEqual({ status: 503, body: { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' } });
    started.clock.advance(1000);
    expect(await burst(emu, 3)).toEqual([200, 200, 503]);
    expect(emu.calls.of('server.time').filter((c) => c.error === 'QUERY_LIMIT_EXCEEDED')).toHaveLength(3);
  });

  it('enterprise plan: 250 burst, 5 per second', async () => {
    const started = await emulator({ plan: 'enterprise' });
    emu = started.emu;
    const statuses = await burst(emu, 251);
    expect(statuses.filter((s) => s === 200)).toHaveLength(250);
    expect(statuses[250]).toBe(503);
    started.clock.advance(1000);
    expect(await burst(emu, 6)).toEqual([200, 200, 200, 200, 200, 503]);
  });

  it('a batch of 50 commands counts as one request', async () => {
    const started = await emulator({ limits: { burst: 2 } });
    emu = started.emu;
    const cmd = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 'server.time']));
    expect((await hook(emu, 'batch', { cmd })).status).toBe(200);
    expect((await hook(emu, 'server.time')).status).toBe(200);
    expect((await hook(emu, 'server.time')).status).toBe(503);
    expect(emu.calls.httpRequests).toBe(3);
    expect(emu.calls.of('server.time', { batch: true })).toHaveLength(50);
  });

  it('unit: the level drains continuously and a refused request adds nothing', () => {
    const b = new LeakyBucket(3, 2);
    expect([b.take('ip', 0), b.take('ip', 0), b.take('ip', 0), b.take('ip', 0)]).toEqual([true, true, true, false]);
    expect(b.level('ip', 0)).toBe(3);
    expect(b.take('ip', 500)).toBe(true);
    expect(b.take('other', 500)).toBe(true);
  });
});

describe('operating budget', () => {
  it('reports time.operating per method, refuses with 429 OPERATION_TIME_LIMIT once spent, other methods unaffected, frees after 10 minutes', async () => {
    const started = await emulator({ limits: { operatingBudgetSec: 480, costs: { 'crm.deal.list': 100 } } });
    emu = started.emu;
    const operating: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await hook(emu, 'crm.deal.list', { select: ['ID'] });
      expect(a.status).toBe(200);
      operating.push((a.body.time as { operating: number }).operating);
    }
    // Checked before the call: the call that crosses 480 s still runs, the next is refused.
    expect(operating).toEqual([100, 200, 300, 400, 500]);
    const refused = await hook(emu, 'crm.deal.list');
    expect(refused).toEqual({ status: 429, body: { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit' } });
    expect((await hook(emu, 'crm.lead.list', { select: ['ID'] })).status).toBe(200);
    // Another credential has its own budget.
    expect((await post(`${emu.addWebhook()}crm.deal.list`, { select: ['ID'] })).status).toBe(200);

    const first = (await hook(emu, 'crm.lead.list')).body.time as { operating_reset_at: number };
    expect(first.operating_reset_at).toBe(Date.parse('2026-11-24T06:10:00Z') / 1000);
    started.clock.advance(10 * 60_000);
    const after = await hook(emu, 'crm.deal.list', { select: ['ID'] });
    expect(after.status).toBe(200);
    expect((after.body.time as { operating: number }).operating).toBe(100);
  });

  it('unit: one-minute buckets each expire 10 minutes after their first call', () => {
    const o = new OperatingBudget(10);
    o.add('k', 4, 0);
    o.add('k', 4, 30_000);
    o.add('k', 4, 61_000);
    expect(o.report('k', 61_000)).toEqual({ operating: 12, resetAt: 600 });
    expect(o.exhausted('k', 61_000)).toBe(true);
    expect(o.used('k', 600_000)).toBe(4);
    expect(o.exhausted('k', 600_000)).toBe(false);
  });
});
