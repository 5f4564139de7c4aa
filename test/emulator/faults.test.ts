/** Fault injection: 500s, dropped connections and latency, from a seeded RNG so runs repeat exactly. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { FaultInjector } from '../../emulator/faults.js';
import { emulator, hook } from './helpers.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function outcome(e: Emulator): Promise<number | 'drop'> {
  try {
    return (await hook(e, 'server.time')).status;
  } catch {
    return 'drop';
  }
}

describe('fault injection', () => {
  it('errorRate 1 answers 500 INTERNAL_SERVER_ERROR (_includes/system-errors.md) without running the call', async () => {
    ({ emu } = await emulator({ faults: { errorRate: 1 } }));
    expect(await hook(emu, 'crm.lead.add', { fields: { TITLE: 'never' } })).toEqual({ status: 500, body: { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' } });
    expect(emu.store.all('lead').some((l) => l.TITLE === 'never')).toBe(false);
    expect(emu.calls.records.at(-1)).toMatchObject({ method: 'crm.lead.add', status: 500, fault: 'error' });
  });

  it('dropRate 1 destroys the connection: the client sees a network error', async () => {
    ({ emu } = await emulator({ faults: { dropRate: 1 } }));
    await expect(hook(emu, 'server.time')).rejects.toThrow();
    expect(emu.calls.records.at(-1)).toMatchObject({ method: 'server.time', status: 0, fault: 'drop' });
  });

  it("dropWhen 'after' runs the write and loses the answer", async () => {
    ({ emu } = await emulator({ faults: { dropRate: 1, dropWhen: 'after' } }));
    await expect(hook(emu, 'crm.lead.add', { fields: { TITLE: 'written, answer lost' } })).rejects.toThrow();
    expect(emu.store.all('lead').some((l) => l.TITLE === 'written, answer lost')).toBe(true);
    expect(emu.events.emitted.at(-1)?.event).toBe('ONCRMLEADADD');
    expect(emu.calls.of('crm.lead.add').at(-1)).toMatchObject({ status: 200, fault: 'drop' });
  });

  it('the same seed gives the same sequence of faults', async () => {
    const run = async (): Promise<Array<number | 'drop'>> => {
      const started = await emulator({ faults: { errorRate: 0.3, dropRate: 0.2, seed: 42 } });
      const seq: Array<number | 'drop'> = [];
      for (let i = 0; i < 20; i++) seq.push(await outcome(started.emu));
      await started.emu.close();
      return seq;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(500);
    expect(a).toContain('drop');
    expect(a).toContain(200);
  });

  it('setFaults changes faults at run time; latency delays the answer', async () => {
    ({ emu } = await emulator());
    expect(await outcome(emu)).toBe(200);
    emu.setFaults({ errorRate: 1 });
    expect(await outcome(emu)).toBe(500);
    emu.setFaults({ errorRate: 0, latencyMs: 30 });
    const t0 = performance.now();
    expect(await outcome(emu)).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('methods and maxFaults aim faults at one call: only the named method draws them, and only that many', async () => {
    ({ emu } = await emulator({ faults: { errorRate: 1, methods: ['Server.Time'], maxFaults: 1 } }));
    expect((await hook(emu, 'profile')).status).toBe(200);
    expect(await outcome(emu)).toBe(500);
    expect(await outcome(emu)).toBe(200);
    emu.setFaults({ maxFaults: 1 });
    expect(await outcome(emu)).toBe(500);
    expect(await outcome(emu)).toBe(200);
    expect(emu.calls.of('server.time').map((c) => c.fault ?? null)).toEqual(['error', null, 'error', null]);
  });

  it('rejects rates outside 0..1', () => {
    expect(() => new FaultInjector({ errorRate: 2 })).toThrow(/between 0 and 1/);
  });
});

describe('long runs', () => {
  it('the call log keeps only its last records', async () => {
    const { CallLog } = await import('../../emulator/calls.js');
    const log = new CallLog(100);
    for (let i = 0; i < 1000; i++) log.add({ seq: log.nextSeq(), method: 'm', params: {}, auth: null, userId: null, time: 0, status: 200 });
    expect(log.records.length).toBeLessThanOrEqual(110);
    expect(log.records.at(-1)?.seq).toBe(1000);
  });
});
