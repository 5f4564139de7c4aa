/**
 * `rules run` as a subprocess, stopped with SIGTERM while it works through a
 * backlog against the emulator (a batch held by the portal, so the signal
 * lands while a tick is in flight): it exits 0 within the 10 s it promises,
 * and every run that reached a final state in the state file is in its log
 * exactly once (issue 13, item 8). And a request the client is still
 * retrying when the daemon has stopped (a poll the offline source gave up
 * waiting for) does not keep the process alive until the hard exit (exit 1).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { FINAL_RUN_STATUSES, openStateStore } from '../../engine/store/index.js';
import { userClient } from '../sources/emulator-helpers.js';
import { emulatorEnv, startDaemonProcess, tempDir, writeRule, type DaemonProcess } from './harness.js';

const RULES = `id: followup
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Follow-up for {{ lead.TITLE }}" }
`;
const LEADS = 150;

let emu: Emulator | undefined;
let daemon: DaemonProcess | undefined;
afterEach(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.kill('SIGKILL');
    await daemon.exited;
  }
  await emu?.close();
  emu = undefined;
  daemon = undefined;
});

describe('rules run and SIGTERM under a backlog', () => {
  it('exits 0 within the promise, and every run it finished is logged once', { timeout: 120_000 }, async () => {
    // The portal's own rate limit out of the way: this is about the stop, not the bucket.
    emu = await startEmulator({ port: 0, limits: { burst: 100_000, drainPerSec: 10_000 } });
    const dir = tempDir('b24-sigterm-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
    const state = join(dir, 'state.db');
    const d = startDaemonProcess([join(dir, 'rules'), '--state', state, '--listen', '127.0.0.1:0', '--poll-interval-ms', '100', '--no-watch', '--log-level', 'debug'], emulatorEnv(emu, dir), dir);
    daemon = d;
    await d.url;
    // The portal holds a batch of comments after it read it, so the signal lands while a batch is in flight,
    // whatever the machine's load (waiting on the daemon's log for "a batch has just left" raced: a loaded
    // test process read the log in large chunks, after the backlog was done). Batches of comments go through
    // until 10 comments have (the leads reach the daemon in as many polls as the load makes: a batch may carry
    // 3 of them); the next one is held, and released once the daemon has taken the signal: its answer comes
    // back during the drain.
    let comments = 0;
    const hold = emu.hold(({ method, params }) => {
      if (method !== 'batch') return false;
      const n = Object.values((params.cmd ?? {}) as Record<string, unknown>).filter((c) => String(c).startsWith('crm.timeline.comment.add')).length;
      if (n === 0) return false;
      if (comments >= 10) return true;
      comments += n;
      return false;
    });
    const user = userClient(emu, { retries: 10, backoffBaseMs: 20 });
    for (let i = 0; i < LEADS; i++) await user.call('crm.lead.add', { fields: { TITLE: `Backlog ${i}` } });
    // Held: at least 10 comments were answered before it. (Not "10 runs logged": a run is logged when its tick
    // ends, and the tick of the held batch may be the one that carries those 10.)
    await hold.held(1);
    d.kill('SIGTERM');
    await d.waitForLog((r) => String(r.msg).startsWith('SIGTERM received'), 60_000);
    hold.release();
    const exit = await d.exited;
    // Exit 0: past the 10 s promise the process would have ended itself with 1.
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(d.logs.some((r) => r.msg === 'daemon stopped' || String(r.msg).includes('abandoning'))).toBe(true);

    const store = openStateStore(state);
    try {
      const finished = store.runs.list({ limit: 100_000 }).filter((r) => (FINAL_RUN_STATUSES as readonly string[]).includes(r.status));
      const logged = d.logs.filter((r) => typeof r.run === 'number' && typeof r.outcome === 'string' && r.component === undefined).map((r) => r.run as number);
      expect(new Set(logged).size).toBe(logged.length);
      expect(logged.sort((a, b) => a - b)).toEqual(finished.map((r) => r.id).sort((a, b) => a - b));
      // The held batch's tick ends during the drain (its answer comes back), with the 10 comments before it; a
      // drain that gave up on it ('abandoning') leaves its runs to the next start, unlogged and unfinished.
      if (!d.logs.some((r) => String(r.msg).includes('abandoning'))) expect(finished.length).toBeGreaterThanOrEqual(10);
    } finally {
      store.close();
    }
  });

  it('regression: a poll still being retried when the daemon has stopped does not hold the process (exit 0, not the hard exit)', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-sigterm-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
    const d = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '100', '--no-watch', '--log-level', 'debug'], emulatorEnv(emu, dir), dir);
    daemon = d;
    await d.url;
    // Every poll's connection drops before the portal reads it: the client retries it with a growing backoff.
    emu.setFaults({ dropRate: 1, dropWhen: 'before', methods: ['event.offline.get'] });
    await d.waitForLog((r) => r.method === 'event.offline.get' && r.msg === 'REST call failed; retrying', 20_000);
    d.kill('SIGTERM');
    const exit = await d.exited;
    expect(d.logs.some((r) => r.msg === 'daemon stopped')).toBe(true);
    expect(d.logs.filter((r) => r.msg === 'shutdown took too long; exiting')).toEqual([]);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });
});
