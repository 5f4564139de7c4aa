/**
 * The process benchmarks in --quick mode, end to end: a `rules emulator
 * --unthrottled` process, the bench's counting proxy, a real `rules run`
 * (OAuth, offline queue) and the peers in their own processes. Behaviour
 * only: each variant did the work (the bench checks every lead on the
 * portal) and the counts add up; no assertion depends on the machine's speed.
 * Needs the build (dist/): `npx tsc -p tsconfig.build.json`.
 */
import { describe, expect, it } from 'vitest';
import { formatResult, requestFloor, runDaemonPathBench, runLatencyBench, type BenchResult } from '../../bench/index.js';

function variant(r: BenchResult, name: string) {
  const v = r.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name} in ${r.name}`);
  return v.median;
}

describe('bench --quick, process benchmarks', () => {
  it('daemon: the engine, the naive loop and the SDK batch helper each route and score every lead; the requests add up', async () => {
    const r = await runDaemonPathBench({ quick: true, repetitions: 1 });
    const engine = variant(r, 'engine');
    const naive = variant(r, 'naive');
    const sdk = variant(r, 'sdk');
    for (const v of [engine, naive, sdk]) {
      expect(v.wrongLeads).toBe(0);
      expect(v.httpRequests).toBe(v.batch! + v.offlineGet! + v.offlineClear! + v.other!);
      expect(v.floor).toBe(requestFloor(v.writeCommands!, 40, v.offlineGet! + v.offlineClear!));
      expect(v.failed).toBe(0);
    }
    // 40 events, one page: a get, then per event get lead, set manager, notify, write score.
    expect(naive).toMatchObject({ httpRequests: 1 + 40 * 4, offlineGet: 1, writeCommands: 120, readCommands: 40 });
    // One page: the reads in one batch, the 120 writes in three.
    expect(sdk).toMatchObject({ offlineGet: 1, batch: 4, writeCommands: 120 });
    // The engine sends one update per lead when it merges the two rules' updates, two when it does not.
    expect(engine.writeCommands).toBeGreaterThanOrEqual(80);
    expect(engine.writeCommands).toBeLessThanOrEqual(120);
    expect(engine.httpRequests).toBeLessThan(naive.httpRequests!);
    expect(engine.cpuMs).toBeGreaterThan(0);
    expect(r.targets?.map((t) => t.figure)).toEqual(expect.arrayContaining([expect.stringMatching(/^HTTP requests/), expect.stringMatching(/^engine CPU per event/), expect.stringMatching(/^naive \/ engine wall/)]));
    expect(r.targets?.find((t) => t.figure.startsWith('leads left wrong'))?.met).toBe(true);
    expect(formatResult(r).join('\n')).toMatch(/engine commands by method \(last repetition\): .*crm\.lead\.update/);
  }, 300_000);

  it('latency: a new lead reaches its write with and without the wake-up; the idle requests are counted', async () => {
    const r = await runLatencyBench({ quick: true });
    for (const name of ['wake', 'poll']) {
      const v = variant(r, name);
      expect(v.p50Ms).toBeGreaterThan(0);
      expect(v.p99Ms).toBeGreaterThanOrEqual(v.p50Ms!);
      expect(v.idleWindowS).toBeGreaterThan(0);
      expect(v.idleRequestsPerHour).toBeCloseTo((v.idleRequests! * 3600) / v.idleWindowS!, 6);
    }
    expect(variant(r, 'poll').idlePushesPerHour).toBe(0);
    expect(r.targets?.[0]?.figure).toMatch(/idle requests per hour with the ONOFFLINEEVENT wake-up/);
  }, 300_000);
});
