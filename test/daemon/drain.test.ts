/**
 * The daemon's stop under load (issue 13, item 8). SIGTERM lets the tick in
 * flight finish for a bounded time; runs that reached a final state during
 * that time are logged and counted once, also when the tick had to be
 * abandoned at the deadline (a restarted daemon starts its run log after the
 * latest finished run, so a run not logged by the process that finished it
 * was never logged at all). The deadline covers the whole drain, stopping the
 * pulling sources included, and leaves a margin under the 10 s promise.
 *
 * The daemon runs in-process with a manual clock and manual timers; the rule
 * that holds the tick in flight makes an `http` request to a real node:http
 * server that answers only when the test says so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../../engine/client/types.js';
import { createDaemon, DAEMON_DEFAULTS, SIGNAL_DEFAULTS, type Daemon } from '../../engine/daemon/index.js';
import { DAEMON_SOURCES, type SourcePlugin } from '../../engine/sources/index.js';
import { STATUS_SERVER_DEFAULTS } from '../../engine/status/index.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { tempDir, writeRule } from './harness.js';

/** No rule here calls the portal: webhook auth to an address nothing listens on. */
const CONFIG: ClientConfig = { baseUrl: 'http://127.0.0.1:9', plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'draintest1' } };

const rulesText = (hookUrl: string) => `id: quick
trigger: { manual: {} }
condition: { "==": [1, 2] }
actions:
  - notify: { user: 1, message: never }
---
id: slow
trigger: { manual: {} }
actions:
  - http: { url: "${hookUrl}", method: POST, body: { n: "{{ params.n }}" }, timeout_ms: 120000 }
`;

/** An HTTP receiver that holds every request until released. */
async function holdingServer(): Promise<{ url: string; readonly arrived: boolean; release(): void; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  let arrived = false;
  let released = false;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (released) return void res.end('{}');
      held.push(res);
      arrived = true;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get arrived() {
      return arrived;
    },
    release() {
      released = true;
      for (const res of held.splice(0)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Let pending I/O and promise callbacks run until `done`, a bounded number of turns (no wall-clock wait). */
async function turnsUntil(what: string, done: () => boolean, turns = 2_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error(`not reached: ${what}`);
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

function setup(hookUrl: string, sources?: readonly SourcePlugin[]) {
  const dir = tempDir('b24-drain-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'rules.yaml', rulesText(hookUrl));
  const timers = new ManualTimers();
  const { logger, records } = memoryLogger();
  const d: Daemon = createDaemon({
    rulesPaths: [join(dir, 'rules')],
    statePath: join(dir, 'state.db'),
    config: CONFIG,
    logger,
    listen: null,
    watch: false,
    clock: new ManualClock(Date.UTC(2026, 0, 5, 9)),
    timers,
    ...(sources ? { sources } : {}),
    http: globalThis.fetch as never,
  });
  let n = 0;
  const submit = (ruleId: string) => d.store.inbox.add([{ source: 'manual', key: `${ruleId}:${++n}`, event: null, ruleId, payload: { params: { n } }, receivedAt: 0 }]);
  /** The timer stop() arms for its deadline: the one pending now that was not before. */
  const armedSince = (before: Set<number>) => [...timers.pending.entries()].filter(([id]) => !before.has(id));
  return { d, timers, records, submit, armedSince };
}

const runLines = (records: Array<Record<string, unknown>>, rule: string) => records.filter((r) => r.rule === rule && typeof r.run === 'number' && typeof r.outcome === 'string' && r.component === undefined);

describe('daemon stop: the drain', () => {
  it('leaves a margin under the 10 s promise: drain budget plus closing the server', () => {
    expect(DAEMON_DEFAULTS.drainTimeoutMs).toBe(6_000);
    expect(DAEMON_DEFAULTS.drainTimeoutMs + STATUS_SERVER_DEFAULTS.closeGraceMs).toBeLessThanOrEqual(SIGNAL_DEFAULTS.hardExitMs - 2_000);
  });

  it('regression: runs finished by a tick abandoned at the deadline are logged and counted once, by this process', async () => {
    const hook = await holdingServer();
    cleanup.push(() => hook.close());
    const { d, timers, records, submit, armedSince } = setup(hook.url);
    await d.start();
    cleanup.push(() => d.store.close());
    for (let i = 0; i < 3; i++) submit('quick');
    submit('slow');
    // The tick is in flight: the quick runs are final (skipped), the slow run's request is held.
    await turnsUntil("the slow run's request", () => (timers.runAll(), hook.arrived));
    expect(d.store.runs.list({ ruleId: 'quick' }).map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(runLines(records, 'quick')).toEqual([]);

    const before = new Set(timers.pending.keys());
    const stopping = d.stop();
    await turnsUntil('stop() arms its deadline', () => armedSince(before).length > 0);
    const [[id, deadline]] = armedSince(before) as [[number, { fn: () => void; ms: number }]];
    expect(deadline.ms).toBe(DAEMON_DEFAULTS.drainTimeoutMs);
    timers.pending.delete(id);
    deadline.fn();
    expect(await stopping).toEqual({ abandoned: true });

    expect(runLines(records, 'quick').map((r) => [r.msg, r.outcome])).toEqual([
      ['rule quick skipped', 'skipped'],
      ['rule quick skipped', 'skipped'],
      ['rule quick skipped', 'skipped'],
    ]);
    expect(d.metrics.ruleRuns.get({ rule: 'quick', outcome: 'skipped' })).toBe(3);
    expect(records.some((r) => r.level === 40 && String(r.msg).includes('abandoning'))).toBe(true);

    // The abandoned tick ends later in this process: its remaining run is logged, none twice.
    const ended = d.nextTick();
    hook.release();
    await ended;
    expect(runLines(records, 'quick')).toHaveLength(3);
    expect(runLines(records, 'slow').map((r) => r.outcome)).toEqual(['done']);
  });

  it('a tick that finishes within the deadline: every run it finished is logged once, and the state file is closed', async () => {
    const hook = await holdingServer();
    cleanup.push(() => hook.close());
    const { d, timers, records, submit } = setup(hook.url);
    await d.start();
    const store = d.store;
    for (let i = 0; i < 2; i++) submit('quick');
    submit('slow');
    await turnsUntil("the slow run's request", () => (timers.runAll(), hook.arrived));
    const stopping = d.stop();
    hook.release();
    expect(await stopping).toEqual({ abandoned: false });
    expect(runLines(records, 'quick')).toHaveLength(2);
    expect(runLines(records, 'slow').map((r) => r.outcome)).toEqual(['done']);
    expect(d.metrics.ruleRuns.get({ rule: 'slow', outcome: 'done' })).toBe(1);
    expect(records.some((r) => r.msg === 'daemon stopped')).toBe(true);
    expect(() => store.inbox.depth()).toThrow();
  });

  it('the deadline covers stopping the pulling sources: one that never stops does not hold up the exit', async () => {
    const hook = await holdingServer();
    cleanup.push(() => hook.close());
    let detachCalled = false;
    const stuck: SourcePlugin = {
      kind: 'stuck',
      triggers: ['manual'],
      applies: () => true,
      async attach() {
        return {
          kind: 'stuck',
          detach: () => {
            detachCalled = true;
            return new Promise<void>(() => undefined);
          },
        };
      },
    };
    const { d, timers, records, armedSince } = setup(hook.url, [...DAEMON_SOURCES, stuck]);
    await d.start();
    cleanup.push(() => d.store.close());
    const before = new Set(timers.pending.keys());
    const stopping = d.stop();
    await turnsUntil('stop() arms its deadline while a source is still stopping', () => detachCalled && armedSince(before).length > 0);
    const [[id, deadline]] = armedSince(before) as [[number, { fn: () => void; ms: number }]];
    expect(deadline.ms).toBe(DAEMON_DEFAULTS.drainTimeoutMs);
    timers.pending.delete(id);
    deadline.fn();
    expect(await stopping).toEqual({ abandoned: true });
    expect(records.some((r) => r.level === 40 && String(r.msg).startsWith('stopping the sources did not finish in time'))).toBe(true);
  });
});
