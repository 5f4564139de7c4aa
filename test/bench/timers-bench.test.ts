/** bench/timers.ts in its --quick form: it does the work it claims (no assertion on speed). */
import { describe, expect, it } from 'vitest';
import { runTimersBench, TIMERS_DEFAULTS } from '../../bench/timers.js';

describe('bench timers --quick', () => {
  it('ticks with 0, 1,000 and 10,000 pending timers without a portal request, and fires 100 per tick in the firing variant', async () => {
    const r = await runTimersBench({ quick: true, repetitions: 1 });
    const v = (name: string) => r.variants.find((x) => x.name === name)!.median;
    for (const n of TIMERS_DEFAULTS.pending) {
      expect(v(`pending-${n}`).pending).toBe(n);
      expect(v(`pending-${n}`).portalRequests).toBe(0);
      expect(v(`pending-${n}`).firedPerTick).toBe(0);
      expect(v(`pending-${n}`).usPerTick).toBeGreaterThan(0);
    }
    expect(v('firing').firedPerTick).toBe(TIMERS_DEFAULTS.duePerTick);
    expect(v('firing').portalRequests).toBe(0);
    expect(r.ratios[0]).toMatchObject({ metric: 'usPerTick', numerator: 'pending-10000', denominator: 'pending-0' });
    expect(r.notes[0]).toMatch(/USING INDEX timers_due/);
    expect(r.targets!.map((t) => t.figure)).toEqual(['idle tick with 10,000 pending timers / with none', 'portal requests of idle ticks with pending timers']);
  });
});
