/**
 * Schedules in the daemon: a every-second schedule fires from the daemon's own
 * timer loop and its rule acts on the portal; after a restart following
 * downtime, the missed ticks are caught up once (one item), not once per tick.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { memoryLogger } from '../sources/helpers.js';
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

describe('schedules in the daemon', () => {
  it('fires from its timer loop, and catches up once after downtime', { timeout: 30_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-schedule-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'r.yaml', 'id: heartbeat\ntrigger: { schedule: { cron: "* * * * * *", timezone: UTC } }\ndedupe: "heartbeat:{{ schedule.at }}"\nactions:\n  - notify: { user: 1, message: "tick {{ schedule.at }}" }\n');
    const make = () =>
      createDaemon({ rulesPaths: [join(dir, 'rules')], statePath: join(dir, 'state.db'), config: oauthConfig(emu!, dir), logger: memoryLogger().logger, listen: null, watch: false, tickIntervalMs: 50 });
    const notes = () => emu!.store.all('notification').filter((n) => /^tick /.test(String(n.MESSAGE ?? n.message ?? '')));
    daemon = make();
    await daemon.start();
    await until(() => notes().length >= 1, 'the first heartbeat notification', 10_000);
    await daemon.stop();
    const before = notes().length;

    await new Promise((r) => setTimeout(r, 3200));
    daemon = make();
    await daemon.start();
    const caughtUp = daemon.store.inbox.list({ source: 'schedule', limit: 1000 }).filter((i) => (i.payload.schedule as { caughtUp?: boolean }).caughtUp === true);
    expect(caughtUp).toHaveLength(1);
    await until(() => notes().length > before, 'the caught-up tick to act', 10_000);
  });
});
