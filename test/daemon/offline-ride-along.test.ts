/**
 * The offline queue's clears riding along in the daemon (issue 12), against
 * the emulator over HTTP:
 *
 * - in-process, with manual clocks and timers: while a backlog is worked off
 *   tick by tick, each tick's `event.offline.clear` shares the next tick's
 *   first batch request (no request of its own); only the last one, with no
 *   batch left to join, goes alone at the deadline;
 * - `rules run` as a subprocess, killed with kill -9 after the portal ran the
 *   batch carrying a clear and before its answer came back: restarted on the
 *   same state file it loses nothing and does nothing twice;
 * - `rules run --offline-page N` asks for pages of N (1,000 by default).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { openStateStore } from '../../engine/store/index.js';
import { oauthConfig, userClient } from '../sources/emulator-helpers.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { emulatorEnv, startDaemonProcess, tempDir, until, writeRule, type DaemonProcess } from './harness.js';

const RULE = `id: welcome
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "welcomed {{ lead.TITLE }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome {{ lead.TITLE }}" }
`;

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
const procs: DaemonProcess[] = [];
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.kill('SIGKILL');
      await p.exited;
    }
  }
  await emu?.close();
  emu = undefined;
});

const commentsFor = (e: Emulator, lead: string) => e.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === lead).length;
const queued = (e: Emulator) => e.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules');

async function addLeads(e: Emulator, n: number, prefix: string): Promise<string[]> {
  const added = await userClient(e, { retries: 30, backoffBaseMs: 50 }).batch(Array.from({ length: n }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `${prefix} ${i}` } } })));
  return Object.values(added).map((r) => String(r.result));
}

/** Run the manual timers until `cond` holds (each round: every armed timer once, then let the I/O they start finish). */
async function drive(timers: ManualTimers, cond: () => boolean, what: string): Promise<void> {
  for (let round = 0; round < 500; round++) {
    if (cond()) return;
    timers.runAll();
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out driving the daemon until ${what}`);
}

/** The methods of the commands each batch request carried, by the batch's seq. */
function batchContents(e: Emulator): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of e.calls.records) if (r.batch) out.set(r.batch.parent, [...(out.get(r.batch.parent) ?? []), r.method]);
  return out;
}

describe('clears ride along in the daemon', () => {
  it('each tick’s clear shares the next tick’s first batch request; only the last goes alone, at the deadline', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0, limits: { burst: 1_000_000 } });
    const e = emu;
    const dir = tempDir('b24-ride-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'welcome.yaml', RULE);
    const timers = new ManualTimers();
    const rideTimers = new ManualTimers();
    daemon = createDaemon({
      rulesPaths: [join(dir, 'rules')],
      statePath: join(dir, 'state.db'),
      config: oauthConfig(e, dir),
      logger: memoryLogger().logger,
      listen: null,
      watch: false,
      clock: new ManualClock(Date.UTC(2026, 0, 5, 9)),
      timers,
      offline: { pollIntervalMs: 100 },
      // The ride-along deadline runs only when the test says so; three ticks of 20 events.
      clientOptions: { rateLimit: false, timers: rideTimers },
      engineOptions: { maxItemsPerTick: 20 },
    });
    await daemon.start();
    const polled = () => e.calls.of('event.offline.get', { batch: false }).length;
    await drive(timers, () => polled() > 0, 'the first poll');
    const leads = await addLeads(e, 60, 'Backlog');
    await drive(timers, () => leads.every((l) => commentsFor(e, l) === 1), 'every lead welcomed');

    // One reservation of 60 (a page of 1,000), worked off in three ticks: three clears.
    const gets = e.calls.of('event.offline.get', { batch: false }).filter((c) => c.params.process_id === undefined);
    expect(gets.map((c) => c.params.limit)).toEqual(gets.map(() => 1000));
    const contents = batchContents(e);
    const rode = e.calls.of('event.offline.clear', { batch: true });
    expect(rode).toHaveLength(2);
    for (const c of rode) expect((contents.get(c.batch!.parent) ?? []).filter((m) => m.startsWith('crm.')).length).toBeGreaterThan(0);
    expect(e.calls.of('event.offline.clear', { batch: false })).toHaveLength(0);
    // The last tick's clear waits for a batch that no longer comes, then goes alone: one plain call.
    await drive(timers, () => rideTimers.pending.size === 1, 'the last clear to wait for a batch');
    expect(queued(e)).toHaveLength(20);
    rideTimers.runAll();
    await drive(timers, () => queued(e).length === 0 && daemon!.store.inbox.openProcessIds().length === 0, 'the last clear');
    expect(e.calls.of('event.offline.clear', { batch: false })).toHaveLength(1);
    expect(leads.filter((l) => commentsFor(e, l) !== 1)).toEqual([]);
  });
});

/**
 * A proxy between the daemon and the emulator that forwards everything and
 * holds back the answer of the first request carrying an `event.offline.clear`
 * (the portal has run it; the daemon never hears back).
 */
async function answerHoldingProxy(target: string): Promise<{ url: string; held: { methods: string[] } | null; close(): Promise<void> }> {
  const state: { url: string; held: { methods: string[] } | null; close(): Promise<void> } = { url: '', held: null, close: async () => undefined };
  const waiting: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        let methods = [path.replace(/^.*\/rest\/(?:\d+\/[^/]+\/)?/, '').replace(/\.json$/, '')];
        if (methods[0] === 'batch') {
          const cmd = (JSON.parse(body || '{}') as { cmd?: Record<string, string> }).cmd ?? {};
          methods = Object.values(cmd).map((c) => c.slice(0, c.indexOf('?') < 0 ? c.length : c.indexOf('?')));
        }
        const answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json') }, ...(req.method === 'GET' ? {} : { body }) });
        const text = await answer.text();
        if (!state.held && methods.includes('event.offline.clear')) {
          state.held = { methods };
          waiting.push(res);
          return;
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      for (const w of waiting) w.destroy();
      server.close(() => r());
      server.closeAllConnections();
    });
  return state;
}

describe('kill -9 while a clear that rode along is unanswered', () => {
  it('the restarted daemon loses nothing and does nothing twice', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const e = emu;
    const proxy = await answerHoldingProxy(e.url);
    const dir = tempDir('b24-ride-kill-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'welcome.yaml', RULE);
    const start = (domain: string) => {
      const p = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '400', '--no-watch'], { ...emulatorEnv(e, dir), B24_DOMAIN: domain }, dir);
      procs.push(p);
      return p;
    };
    try {
      const first = start(proxy.url);
      await first.url;
      // Every call runs 1 s after it arrives: wave A's tick is still writing when wave B is reserved, so wave B's tick
      // follows at once, and its first batch carries wave A's clear.
      e.setFaults({ latencyMs: 1000 });
      const waveA = await addLeads(e, 30, 'Wave A');
      const aIds = new Set(waveA);
      const ofWave = (ids: Set<string>) => queued(e).filter((r) => ids.has(String((r.eventData as { FIELDS: { ID: string } }).FIELDS.ID)));
      await until(() => ofWave(aIds).length === 30 && ofWave(aIds).every((r) => r.processId !== ''), 'wave A reserved', 30_000, 5);
      const waveB = await addLeads(e, 30, 'Wave B');
      // The portal ran wave A's writes and then its clear; the proxy holds the clear's answer back. Kill now.
      await until(() => proxy.held !== null, 'the request carrying the clear', 60_000, 5);
      first.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect(waveA.filter((l) => commentsFor(e, l) !== 1)).toEqual([]);
      expect(ofWave(aIds)).toEqual([]);
      // It rode along: the clear shared a batch request with the next tick's commands.
      expect(proxy.held?.methods.filter((m) => m.startsWith('crm.')).length).toBeGreaterThan(0);
      // The killed daemon never heard the answer: wave A is done but not acknowledged in its state file.
      const state = openStateStore(join(dir, 'state.db'));
      const unacknowledged = state.inbox.finished('offline').length;
      state.close();
      expect(unacknowledged).toBe(30);

      e.setFaults({ latencyMs: 0 });
      const second = start(e.url);
      const url = await second.url;
      const all = [...waveA, ...waveB];
      await until(() => all.every((l) => commentsFor(e, l) >= 1), 'every lead welcomed', 60_000);
      const settled = async () => queued(e).length === 0 && ((await (await fetch(`${url}/healthz`)).json()) as { depth: number }).depth === 0;
      await until(settled, 'the queue cleared and every item finished', 30_000);
      expect(all.filter((l) => commentsFor(e, l) !== 1)).toEqual([]);
      for (const l of all) expect(e.store.get('lead', l)?.SOURCE_DESCRIPTION, `lead ${l}`).toMatch(/^welcomed Wave [AB] \d+$/);
      second.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
      // Wave A's clear was sent again by the restarted daemon (harmless: its records were gone), and everything is acknowledged.
      const restarted = openStateStore(join(dir, 'state.db'));
      expect(restarted.inbox.finished('offline')).toEqual([]);
      restarted.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('rules run --offline-page', () => {
  it('reserves pages of N records (1,000 by default); a page below 1 is a usage error', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const e = emu;
    const dir = tempDir('b24-ride-page-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'welcome.yaml', RULE);
    const bad = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--offline-page', '0'], emulatorEnv(e, dir), dir);
    procs.push(bad);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain('--offline-page must be an integer >= 1');

    const p = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '100', '--no-watch', '--offline-page', '7'], emulatorEnv(e, dir), dir);
    procs.push(p);
    await p.url;
    const leads = await addLeads(e, 10, 'Paged');
    await until(() => leads.every((l) => commentsFor(e, l) === 1), 'every lead welcomed', 30_000);
    const reserving = e.calls.of('event.offline.get', { batch: false }).filter((c) => c.params.process_id === undefined);
    expect(new Set(reserving.map((c) => c.params.limit))).toEqual(new Set([7]));
    p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
