/**
 * One clock in the daemon: the clock given to createDaemon is the one its REST
 * client waits on. With a client-side rate limit of one request per 500 s,
 * starting the daemon (the offline source binds its events: several
 * requests) takes 500 s of the injected clock's time per
 * request after the first, and no real time; on the system clock the start
 * would not finish within the test's timeout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { oauthConfig } from '../sources/emulator-helpers.js';
import { tempDir, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

describe('the daemon clock', () => {
  it('is the clock of the REST client it creates (rate-limit waits follow it)', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-clock-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'welcome.yaml', 'id: welcome\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "{{ lead.ID }}", text: hi }\n');
    // Two events to bind (event.get and two binds at start): the recovery runs after start, in the source's loop.
    writeRule(join(dir, 'rules'), 'deal.yaml', 'id: deal\ntrigger: { event: ONCRMDEALADD }\nactions:\n  - comment: { entity: deal, id: "{{ deal.ID }}", text: hi }\n');
    const start = Date.UTC(2026, 0, 5, 9);
    const clock = new ManualClock(start);
    daemon = createDaemon({
      rulesPaths: [join(dir, 'rules')],
      statePath: join(dir, 'state.db'),
      config: oauthConfig(emu, dir),
      logger: memoryLogger().logger,
      listen: null,
      watch: false,
      clock,
      timers: new ManualTimers(),
      clientOptions: { rateLimit: { burst: 1, drainPerSecond: 1 / 500 } },
    });
    await daemon.start();

    const waits = clock.sleeps.filter((ms) => ms > 100_000);
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(clock.now() - start).toBeGreaterThanOrEqual(waits.length * 400_000);
    expect(daemon.metrics.rateLimitWaits.get({ kind: 'request_rate' })).toBeGreaterThanOrEqual(waits.length);
    // The requests went out: the offline event is bound.
    expect(emu.events.hub.bindings.forEvent('ONCRMLEADADD')).toHaveLength(1);
  });
});
