/**
 * Schedules in the daemon: an every-second schedule fires from the daemon's own
 * timer loop and its rule acts on the portal; after a restart following
 * downtime, the missed ticks are caught up once (one item, for the latest
 * missed tick, and that tick acts), not once per tick; a stall of the running
 * loop afterwards is no catch-up: each tick it passed fires once.
 *
 * The daemon runs on an injected clock and timers: the test moves time and
 * runs the due timers, so neither the downtime nor the stall is a real sleep
 * and a loaded machine cannot add or remove a tick.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { oauthConfig } from '../sources/emulator-helpers.js';
import { tempDir, until, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0, 300);
const tick = (s: number) => new Date(Date.UTC(2026, 0, 5, 9, 0, s)).toISOString();

describe('schedules in the daemon', () => {
  it('fires from its timer loop, catches up once after downtime (the caught-up tick acts), and a stalled loop is no catch-up', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-schedule-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'r.yaml', 'id: heartbeat\ntrigger: { schedule: { cron: "* * * * * *", timezone: UTC } }\ndedupe: "heartbeat:{{ schedule.at }}"\nactions:\n  - notify: { user: 1, message: "tick {{ schedule.at }}" }\n');
    const clock = new ManualClock(T0);
    let timers = new ManualTimers();
    const make = () =>
      createDaemon({
        rulesPaths: [join(dir, 'rules')],
        statePath: join(dir, 'state.db'),
        config: oauthConfig(emu!, dir),
        logger: memoryLogger().logger,
        listen: null,
        watch: false,
        offline: false,
        clock,
        timers,
        // No client-side waits: the manual clock moves only when the test moves it.
        clientOptions: { rateLimit: false },
      });
    const notes = () => emu!.store.all('notification').map((n) => String(n.MESSAGE ?? n.message ?? '')).filter((m) => /^tick /.test(m));
    const schedule = () => daemon!.store.inbox.list({ source: 'schedule', limit: 1000 });
    const caughtUp = () => schedule().filter((i) => (i.payload.schedule as { caughtUp?: boolean }).caughtUp === true);
    /** Move the clock to `t` and run the pending timers once (the schedule's wake-up and the idle loop's). */
    const moveTo = (t: number) => {
      clock.t = t;
      timers.runAll();
    };
    /**
     * Wait for `cond`, running the pending timers at each look without moving the clock: the idle loop's wait is a
     * timer too, and an item stored while a tick is in flight is taken by the next tick, after that wait.
     */
    const settle = (cond: () => boolean, what: string) =>
      until(
        () => {
          timers.runAll();
          return cond();
        },
        what,
        30_000,
      );

    daemon = make();
    await daemon.start();
    moveTo(T0 + 1000);
    await settle(() => notes().includes(`tick ${tick(1)}`), `the heartbeat of ${tick(1)} from the timer loop`);
    expect(caughtUp()).toEqual([]);
    await daemon.stop();

    // Down for 3.2 s of the clock: the ticks of :02, :03 and :04 fall due with nobody watching.
    timers = new ManualTimers();
    clock.t = T0 + 4200;
    daemon = make();
    await daemon.start();
    expect(caughtUp().map((i) => i.key)).toEqual([`heartbeat@${tick(4)}`]);
    await settle(() => notes().includes(`tick ${tick(4)}`), `the caught-up tick ${tick(4)} to act`);
    expect(notes().filter((m) => m === `tick ${tick(2)}` || m === `tick ${tick(3)}`)).toEqual([]);

    // The running loop stalls for 2.3 s: its timer fires late, past the ticks of :05 and :06. Each fires once, neither is caught up.
    moveTo(T0 + 6500);
    expect(caughtUp().map((i) => i.key)).toEqual([`heartbeat@${tick(4)}`]);
    expect(schedule().map((i) => i.key).sort()).toEqual([tick(1), tick(4), tick(5), tick(6)].map((t) => `heartbeat@${t}`));
    await settle(() => notes().includes(`tick ${tick(5)}`) && notes().includes(`tick ${tick(6)}`), `the ticks ${tick(5)} and ${tick(6)} after the stall to act`);
  });
});
