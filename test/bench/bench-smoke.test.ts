/**
 * The benchmarks' --quick mode, run in-process: they must do the work they
 * claim and return consistent figures. Behaviour checks only: no assertion
 * here depends on how fast the machine is (the rate-limit bench runs on a
 * clock that moves only when a caller waits, so the portal refuses the same
 * requests however slowly a loaded machine sends them).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../sources/helpers.js';
import {
  BENCH_NAMES,
  BenchUsageError,
  formatResult,
  parseRunArgs,
  reproduceCommand,
  runBacklogBench,
  runListsBench,
  runLogicBench,
  runRateLimitBench,
  runRestV3Bench,
  secondsAtRealRate,
  type BenchResult,
} from '../../bench/index.js';

function variant(r: BenchResult, name: string) {
  const v = r.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name} in ${r.name}`);
  return v.median;
}

describe('bench --quick', () => {
  it('backlog: the engine does the same REST work as the naive loop in 50 times fewer HTTP requests', async () => {
    const r = await runBacklogBench({ quick: true, repetitions: 1 });
    const engine = variant(r, 'engine');
    const naive = variant(r, 'naive');
    // 200 events × (get lead, get contact, update, comment), checked against the portal's state by the bench itself.
    expect(naive.restCalls).toBe(800);
    // The engine sends the same 400 writes; it reads the 200 leads and 200 contacts by ID in list commands of up to 50 IDs (issue 12).
    expect(engine.restCalls).toBeGreaterThanOrEqual(400 + 2 * Math.ceil(200 / 50));
    expect(engine.restCalls).toBeLessThanOrEqual(800);
    expect(naive.httpRequests).toBe(800);
    expect(engine.httpRequests).toBe(engine.batchRequests);
    expect(engine.httpRequests).toBeLessThan(naive.httpRequests! / 10);
    expect(engine.wallMs).toBeGreaterThan(0);
    const reqRatio = r.ratios.find((x) => x.metric === 'httpRequests');
    expect(reqRatio?.value).toBeCloseTo(naive.httpRequests! / engine.httpRequests!);
    expect(r.computed.find((c) => c.variant === 'naive')?.value).toBe(secondsAtRealRate(800));
    expect(formatResult(r).join('\n')).toContain('NOT measured');
  }, 120_000);

  it('rest-v3: the same tasks and comments; REST 3.0 sends each task alone, REST 1 batches them with the comments', async () => {
    const r = await runRestV3Bench({ quick: true, repetitions: 1 });
    const v1 = variant(r, 'v1-batched');
    const v3 = variant(r, 'v3-idempotent');
    // 100 tasks and 100 comments each, checked against the portal's state by the bench itself.
    expect(v1.restCalls).toBe(v3.restCalls);
    expect(v1.httpRequests).toBe(v1.batchRequests);
    expect(v3.httpRequests).toBe(v3.batchRequests! + 100);
    expect(v3.httpRequests! / v1.httpRequests!).toBeGreaterThan(10);
  }, 120_000);

  it('lists: every variant reads every row; the batched iterator needs 3 requests where the others need one per page', async () => {
    const r = await runListsBench({ quick: true });
    for (const name of ['fast', 'fast-batched', 'paged']) expect(variant(r, name).rows).toBe(5000);
    // 100 full pages, then the fast scan needs one empty page to see the end; offset paging knows it from `next`.
    expect(variant(r, 'fast').httpRequests).toBe(101);
    expect(variant(r, 'paged').httpRequests).toBe(100);
    expect(variant(r, 'fast-batched').httpRequests).toBe(3);
    // The first page alone gives the total; the chains are sized by it: 1 + 50 + 50 pages (the last one empty, to see rows added meanwhile).
    expect(variant(r, 'fast-batched').listCommands).toBe(101);
    expect(variant(r, 'fast').listCommands).toBe(101);
  }, 120_000);

  it('rate-limit: without the client limiter the portal refuses requests and the client retries them', async () => {
    const r = await runRateLimitBench({ quick: true, clock: new ManualClock(Date.UTC(2026, 0, 5, 9)) });
    const on = variant(r, 'limiter-on');
    const off = variant(r, 'limiter-off');
    expect(off.refused).toBeGreaterThan(0);
    expect(off.retries).toBe(off.refused);
    expect(on.refused!).toBeLessThan(off.refused!);
    expect(on.clientWaits).toBeGreaterThan(0);
    expect(off.clientWaits).toBe(0);
    expect(on.httpRequests).toBe(on.calls! + on.refused!);
  }, 120_000);

  it('logic: compiled and recompiled variants both evaluate events (and agree, or the bench throws)', async () => {
    const r = await runLogicBench({ quick: true, repetitions: 1 });
    expect(variant(r, 'compiled').ops).toBeGreaterThan(0);
    expect(variant(r, 'recompiled').ops).toBeGreaterThan(0);
    expect(r.ratios[0]?.value).toBeGreaterThan(0);
  }, 120_000);
});

describe('bench arguments', () => {
  it('takes --only names (comma-separated or repeated), --quick and --json, and rebuilds the command', () => {
    const a = parseRunArgs(['--only', 'backlog,lists', '--only', 'logic', '--quick', '--json', 'out.json']);
    expect(a).toEqual({ only: ['backlog', 'lists', 'logic'], quick: true, json: 'out.json' });
    expect(reproduceCommand(a as Exclude<typeof a, 'help'>)).toBe('npm run bench -- --only backlog,lists,logic --quick --json out.json');
    expect(reproduceCommand({ only: [], quick: false })).toBe('npm run bench');
  });

  it('refuses an unknown benchmark name, naming the valid ones', () => {
    expect(() => parseRunArgs(['--only', 'nope'])).toThrow(BenchUsageError);
    expect(() => parseRunArgs(['--only', 'nope'])).toThrow(BENCH_NAMES.join(', '));
    expect(() => parseRunArgs(['--repetitions', '0'])).toThrow(/--repetitions/);
  });
});
