/**
 * The `operating` limit is learned, not assumed (issue 15): the per-method
 * limit is the portal's configuration (limits.md: 480 s is the docs' example),
 * and the client takes it from the answers' `time` blocks. The emulator runs
 * with a limit other than 480 s on the clock the client waits with, so the
 * 10-minute windows pass in virtual time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { fakeClock, type FakeClock } from './helpers/fake-clock.js';

let emu: Emulator | undefined;
let client: B24Client | undefined;
afterEach(async () => {
  await client?.close();
  await emu?.close();
  client = undefined;
  emu = undefined;
});

async function setup(limitSec: number, costs: Record<string, number>): Promise<{ emu: Emulator; client: B24Client; clock: FakeClock }> {
  const clock = fakeClock(Date.parse('2026-11-24T06:00:00Z'));
  emu = await startEmulator({ now: clock.now, limits: { burst: 1e6, drainPerSec: 1e6, operatingBudgetSec: limitSec, costs } });
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl)!;
  client = createClient({ baseUrl: m[1]!, plan: 'standard', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! } }, { clock, rateLimit: false, random: () => 0.5 });
  return { emu, client, clock };
}

const refusals = (e: Emulator, method: string): number => e.calls.of(method).filter((c) => c.error === 'OPERATION_TIME_LIMIT').length;

describe('the operating limit is learned from the answers', () => {
  it('regression: a portal configured with 30 s refuses once; from then on the client waits for the reset before the portal would refuse, for every method', async () => {
    const { emu, client } = await setup(30, { 'crm.deal.list': 1, 'crm.lead.list': 1 });
    // 100 s of work on a 30 s limit: four windows' worth. Assuming 480 s, the client hit the limit in each window.
    for (let i = 0; i < 100; i++) await client.call('crm.deal.list', { select: ['ID'] });
    expect(refusals(emu, 'crm.deal.list')).toBe(1);
    // The call at 30 s was allowed, the one at 31 s refused: the limit is 30 s.
    expect(client.operatingLimit).toEqual({ limit: 30, source: 'learned', floor: 30, ceiling: 31 });
    // What one method taught holds for the others: none of them is refused.
    for (let i = 0; i < 70; i++) await client.call('crm.lead.list', { select: ['ID'] });
    expect(refusals(emu, 'crm.lead.list')).toBe(0);
    expect(client.stats.operatingLimitRefusals).toBe(1);
    expect(client.stats.errors).toBe(0);
  });

  it('regression: a portal configured above 480 s: the docs\' 480 s holds a method for one reset, then the client goes past it and, unrefused, stops waiting for resets the portal does not need', async () => {
    const { emu, client, clock } = await setup(1000, { 'crm.deal.list': 10 });
    const reported: number[] = [];
    const waitedAfter: number[] = [];
    for (let i = 0; i < 120; i++) {
      const before = clock.now();
      const env = await client.call('crm.deal.list', { select: ['ID'] });
      const operating = env.time?.operating ?? 0;
      if (reported.length > 0 && (reported.at(-1) ?? 0) > 480) waitedAfter.push(clock.now() - before);
      reported.push(operating);
    }
    expect(refusals(emu, 'crm.deal.list')).toBe(0);
    // Assuming 480 s, the client waited for the reset at 480 s every time and the sum never went past it.
    expect(Math.max(...reported)).toBeGreaterThan(600);
    // Past 480 s: no waits at all (assuming 480 s, each call there waited for the reset).
    expect(waitedAfter.length).toBeGreaterThan(10);
    expect(waitedAfter.every((ms) => ms === 0)).toBe(true);
    expect(client.operatingLimit.source).toBe('unknown');
  });
});
