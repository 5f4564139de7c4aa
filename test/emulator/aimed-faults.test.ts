/**
 * An aimed fault (`methods`, `maxFaults`) counts only a fault that happened:
 * a call the portal refuses before it runs (bad credentials, the rate limit)
 * does not spend it, so "lose exactly one answer" loses the answer of the next
 * call that runs. The drill aims one at `event.offline.get` (bench/drill/), and
 * with 30 s tokens the first get after the aim was often an expired-token 401.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { emulator, NO_RATE_LIMIT, type Clock } from './helpers.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function status(url: string): Promise<number | 'drop'> {
  try {
    return (await fetch(url, { method: 'POST' })).status;
  } catch {
    return 'drop';
  }
}

describe('aimed faults', () => {
  it('a call refused for its credentials does not spend the one fault aimed at its method', async () => {
    ({ emu } = await emulator({ limits: NO_RATE_LIMIT, faults: { dropRate: 1, dropWhen: 'after', methods: ['user.current'], maxFaults: 1 } }));
    expect(await status(`${emu.url}/rest/1/not-the-code/user.current`)).toBe(401);
    expect(await status(`${emu.webhookUrl}user.current`)).toBe('drop');
    expect(await status(`${emu.webhookUrl}user.current`)).toBe(200);
    expect(emu.calls.records.filter((r) => r.fault === 'drop').map((r) => [r.method, r.status])).toEqual([['user.current', 200]]);
  });

  it('a call refused by the rate limit does not spend it either', async () => {
    let clock: Clock;
    ({ emu, clock } = await emulator({ limits: { burst: 1, drainPerSec: 1 }, faults: { dropRate: 1, dropWhen: 'after', methods: ['user.current'], maxFaults: 1 } }));
    // The burst's one request goes to another method; the aimed method is then refused by the bucket.
    expect(await status(`${emu.webhookUrl}profile`)).toBe(200);
    expect(await status(`${emu.webhookUrl}user.current`)).toBe(503);
    clock.advance(2000);
    expect(await status(`${emu.webhookUrl}user.current`)).toBe('drop');
    expect(emu.calls.records.filter((r) => r.fault === 'drop').map((r) => [r.method, r.status])).toEqual([['user.current', 200]]);
  });
});
