/**
 * bench/workers.ts in its --quick form, on the test suite's PostgreSQL (B24_BENCH_DATABASE_URL): 1, 2 and 3
 * worker processes serve 20 emulated portals; the bench checks the work itself (every lead commented once on
 * its portal, no portal served by two workers at once) before a figure counts. No assertion on speed.
 */
import { describe, expect, it } from 'vitest';
import { runWorkersBench, WORKERS_DEFAULTS } from '../../bench/workers.js';
import { pgUrl } from '../helpers/pg.js';

describe.skipIf(!pgUrl())('bench workers --quick', () => {
  // Six worker processes start and stop in turn, and each serves 20 portals: on an unloaded machine about 40 s,
  // but 120 s ran out in a whole-suite run beside a CPU hog (load 10-15); the bench's own waits say what stuck.
  it('measures 1, 2 and 3 workers over 20 portals, with the requests per portal against their floor', { timeout: 600_000 }, async () => {
    process.env.B24_BENCH_DATABASE_URL = pgUrl() as string;
    try {
      const r = await runWorkersBench({ quick: true, repetitions: 1 });
      expect(r.variants.map((v) => v.name)).toEqual(['1-worker', '2-workers', '3-workers']);
      for (const v of r.variants) {
        expect(v.median.eventsPerSec).toBeGreaterThan(0);
        // The floor for 10 comments and 10 leads read: ceil(10/50) + ceil(10/2500) + at least one queue request.
        expect(v.median.floorPerPortal).toBeGreaterThanOrEqual(3);
        // From the work alone (one page of events to get): the idle polls are reported apart, not in the floor.
        expect(v.median.floorPerPortal).toBe(3);
        expect(v.median.queueRequestsPerPortal).toBeGreaterThanOrEqual(1);
        expect(v.median.overFloorWithoutQueueMax).toBeGreaterThanOrEqual(0);
        expect(v.median.requestsPerPortal).toBeGreaterThanOrEqual(v.median.floorPerPortal as number);
        expect(v.median.overFloorMax).toBeGreaterThanOrEqual(0);
      }
      expect(r.ratios.map((x) => `${x.numerator}/${x.denominator} ${x.metric}`)).toEqual(['2-workers/1-worker eventsPerSec', '3-workers/1-worker eventsPerSec', '3-workers/1-worker requestsPerPortal']);
      expect(r.title).toContain(`${WORKERS_DEFAULTS.portals} portals`);
    } finally {
      delete process.env.B24_BENCH_DATABASE_URL;
    }
  });
});
