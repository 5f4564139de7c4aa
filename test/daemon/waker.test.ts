/**
 * The daemon loop's idle wait (engine/daemon/waker.ts). Regression: a source
 * that stored work while a tick was in flight (nobody sleeping) notified into
 * the void, and the loop then slept a whole idle interval before taking it
 * (with manual timers, until the test ran them).
 */
import { describe, expect, it } from 'vitest';
import { Waker } from '../../engine/daemon/waker.js';
import { ManualTimers } from '../sources/helpers.js';

function settledWithin(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  return new Promise((r) => setImmediate(() => r(done)));
}

describe('the daemon loop waker', () => {
  it('sleeps until its timer fires, or until notified', async () => {
    const timers = new ManualTimers();
    const w = new Waker(timers);
    const a = w.sleep(250);
    expect(await settledWithin(a)).toBe(false);
    timers.runAll();
    expect(await settledWithin(a)).toBe(true);
    const b = w.sleep(250);
    w.notify();
    expect(await settledWithin(b)).toBe(true);
  });

  it('keeps a notification that came while nobody slept: the next sleep returns at once', async () => {
    const timers = new ManualTimers();
    const w = new Waker(timers);
    w.clear(); // a tick starts
    w.notify(); // a source stores work during the tick
    expect(await settledWithin(w.sleep(250))).toBe(true);
    // Used up: the one after waits again.
    expect(await settledWithin(w.sleep(250))).toBe(false);
  });

  it('forgets notifications from before a tick started (that tick sees their work)', async () => {
    const w = new Waker(new ManualTimers());
    w.notify();
    w.clear();
    expect(await settledWithin(w.sleep(250))).toBe(false);
  });
});
