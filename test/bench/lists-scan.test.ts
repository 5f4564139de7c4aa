/**
 * The lists bench's scale variant: an emulator process of its own (dist/bench/lists-emulator.js, so
 * `npm run build` first, as `npm test` does), seeded with deals, read whole by listAllBatched, its CPU and
 * memory reported from inside that process. Behaviour checks only, no speed.
 */
import { describe, expect, it } from 'vitest';
import { runListScan } from '../../bench/lists.js';

describe('lists bench: the scan in an emulator process of its own', () => {
  it('reads every deal once in chained batches, then offset pages, and reports the emulator process figures', async () => {
    const s = await runListScan(2000);
    expect(s.rows).toBe(2000);
    // The first page alone for the total, then one batch of 39 pages and the page that sees rows added meanwhile.
    expect(s.httpRequests).toBe(2);
    expect(s.listCommands).toBe(41);
    expect(s.emuCpuMs).toBeGreaterThan(0);
    expect(s.emuSeededRssMB).toBeGreaterThan(0);
    expect(s.emuPeakRssMB).toBeGreaterThanOrEqual(s.emuSeededRssMB as number);
    expect(s.emuScanPeakGrowthMB).toBeGreaterThanOrEqual(0);
    // Then 20 offset pages in another order, each checked for its 50 rows and the total.
    expect(s.emuOffsetCpuMs).toBeGreaterThan(0);
    expect(s.offsetWallMs).toBeGreaterThan(0);
  }, 120_000);
});
