/** A virtual clock: sleep() advances time at once, so waits are asserted without waiting. */
import type { Clock } from '../../../engine/clock.js';

export interface FakeClock extends Clock {
  sleeps: number[];
  advance(ms: number): void;
}

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      if (ms > 0) t += ms;
    },
    sleeps,
    advance: (ms: number) => {
      t += ms;
    },
  };
}
