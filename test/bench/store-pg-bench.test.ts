/**
 * The store-pg benchmark's --quick mode, in-process: both stores do the backlog's work (the bench checks the portal's
 * state itself) with the same requests. Behaviour only: no assertion depends on how fast the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorePgBench } from '../../bench/store-pg.js';
import { freshDatabase, pgUrl } from '../helpers/pg.js';

describe.skipIf(!pgUrl())('bench store-pg --quick', () => {
  const before = process.env.B24_BENCH_DATABASE_URL;
  beforeAll(async () => {
    process.env.B24_BENCH_DATABASE_URL = await freshDatabase('bench_store');
  });
  afterAll(() => {
    if (before === undefined) delete process.env.B24_BENCH_DATABASE_URL;
    else process.env.B24_BENCH_DATABASE_URL = before;
  });

  it('runs the backlog on SQLite and on PostgreSQL: the same work, the same HTTP requests, a ratio of the two', async () => {
    const r = await runStorePgBench({ quick: true, repetitions: 1 });
    const sqlite = r.variants.find((v) => v.name === 'sqlite')!.median;
    const pg = r.variants.find((v) => v.name === 'postgres')!.median;
    expect(pg.httpRequests).toBe(sqlite.httpRequests);
    expect(pg.eventsPerSec).toBeGreaterThan(0);
    expect(r.ratios.map((x) => [x.metric, x.numerator, x.denominator])).toEqual([
      ['eventsPerSec', 'postgres', 'sqlite'],
      ['cpuMs', 'postgres', 'sqlite'],
    ]);
    expect(r.notes.join('\n')).toContain('B24_BENCH_DATABASE_URL');
  });
});
