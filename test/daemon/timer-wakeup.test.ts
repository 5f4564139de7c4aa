/**
 * The daemon's idle wait ends at the earliest pending timer (issue 18): with an
 * idle interval of a minute and a for: timer due in 5 s, the loop sleeps 5 s,
 * not a minute, and the tick it wakes for fires the timer (a comment on the
 * deal, on the emulator over HTTP). Manual clock and timers: nothing sleeps.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import type { ClientConfig } from '../../engine/client/types.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { openStateStore } from '../../engine/store/index.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { tempDir, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

const RULE = `id: stale-executing
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: EXECUTING } }
  for: 14d
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "14 days in EXECUTING" }
`;

/** Let pending promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('the daemon loop and timers', () => {
  it('wakes up for the earliest pending timer instead of sleeping its whole idle interval', async () => {
    const start = Date.UTC(2026, 2, 2, 10);
    const clock = new ManualClock(start);
    emu = await startEmulator({ port: 0, now: clock.now });
    const dir = tempDir('b24-timer-wake-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'stale.yaml', RULE);
    // Deal 3 entered EXECUTING 14 days less 5 seconds ago: its timer is pending in the state file.
    const statePath = join(dir, 'state.db');
    const seed = openStateStore(statePath, { now: clock.now });
    seed.timers.create({ kind: 'for', ruleId: 'stale-executing', recordKey: 'deal:3', dueAt: start + 5_000, payload: { event: 'ONCRMDEALUPDATE', entity: 'deal', id: '3', changes: { STAGE_ID: { from: 'PREPARATION', to: 'EXECUTING' } } } });
    seed.close();
    const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl)!;
    const config: ClientConfig = { baseUrl: m[1]!, plan: 'enterprise', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! } };
    const timers = new ManualTimers();
    daemon = createDaemon({ rulesPaths: [join(dir, 'rules')], statePath, config, logger: memoryLogger().logger, listen: null, watch: false, clock, timers, tickIntervalMs: 60_000, clientOptions: { rateLimit: false, retries: 0 } });
    const first = daemon.nextTick();
    await daemon.start();
    expect((await first).nextTimerAt).toBe(start + 5_000);
    let wait: [number, { fn: () => void; ms: number }] | undefined;
    for (let i = 0; i < 100 && !wait; i++) {
      await settle();
      wait = [...timers.pending.entries()].find(([, t]) => t.ms === 5_000 || t.ms === 60_000);
    }
    expect(wait?.[1].ms).toBe(5_000);

    clock.advance(5_000);
    const woke = daemon.nextTick();
    timers.pending.delete(wait![0]);
    wait![1].fn();
    expect((await woke).timersFired).toBe(1);
    let comments: unknown[] = [];
    for (let i = 0; i < 5 && comments.length === 0; i++) {
      await daemon.nextTick();
      comments = emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === '3');
      if (comments.length === 0) {
        // The loop sleeps the idle interval again (no timer left): wake it.
        for (const [id, t] of [...timers.pending.entries()].filter(([, t]) => t.ms === 60_000)) {
          timers.pending.delete(id);
          t.fn();
        }
      }
    }
    expect(comments).toHaveLength(1);
    expect(daemon.store.timers.countByState()).toEqual({ pending: 0, fired: 1, cancelled: 0 });
  });
});
