/**
 * Workers (issue 10): events per second with 1, 2 and 3 worker processes
 * (`rules run --state postgres://... --worker-id wN`) serving an emulator
 * fleet of 20 portals from one PostgreSQL database, and the requests each
 * portal saw against its floor. Each repetition gets a fresh database and a
 * fresh fleet (each portal its own server, bucket at the standard plan's
 * 50/2 s, offline queue); the workers start, share the portals (the fair
 * share settles, every portal's events are bound), and only then are N new
 * leads added on every portal at once: the time from the first add to the
 * last lead's comment with every offline queue empty is the run. The work is
 * checked (every lead commented exactly once, on its portal; no portal served
 * two workers at once) before a figure counts.
 *
 * PostgreSQL: B24_BENCH_DATABASE_URL names a server; otherwise a throwaway
 * one is started from the installed server binaries (bench/throwaway-pg.ts).
 * Without either the benchmark says so and measures nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient, type B24Client } from '../engine/client/index.js';
import { openControlPlane, PortalRegistry } from '../engine/portals/index.js';
import { OFFLINE_DEFAULTS } from '../engine/sources/index.js';
import { startEmulatorFleet, type EmulatorFleet, type FleetPortal } from '../emulator/index.js';
import { childEnv, RULES_CLI } from './drill/index.js';
import { alternate, median, ratio, type VariantSpec } from './measure.js';
import { processCpuMs } from './proc-cpu.js';
import { requestFloor } from './request-tally.js';
import { findPostgresBinaries, POSTGRES_MISSING, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-pg.js';
import type { BenchOptions, BenchResult, Sample } from './types.js';

export const WORKERS_DEFAULTS = {
  /** @default 20 */
  portals: 20,
  /** New leads per portal in the timed part. @default 100 */
  events: 100,
  /** @default 2 */
  repetitions: 2,
  /** @default 10 */
  quickEvents: 10,
  /** @default 1 */
  quickRepetitions: 1,
  /** Worker counts measured. */
  workers: [1, 2, 3],
  /** `--poll-interval-ms` of the workers (the offline queue's idle poll, doubling up to 5x). @default 500 */
  pollIntervalMs: 500,
  /** Longest wait for the workers to share the portals, and for the work (ms). @default 180000 */
  timeoutMs: 180_000,
} as const;

const RULE = `id: lead-seen
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "seen {{ lead.TITLE }}" }
`;

interface Worker {
  id: string;
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  problems: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Spawn a worker at warn level (no line per run) on a port chosen here; resolves once its /healthz answers. */
async function startWorker(id: string, databaseUrl: string, rulesDir: string, fleet: EmulatorFleet): Promise<Worker> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [RULES_CLI, 'run', rulesDir, '--state', databaseUrl, '--worker-id', id, '--listen', `127.0.0.1:${port}`, '--no-watch', '--poll-interval-ms', String(WORKERS_DEFAULTS.pollIntervalMs), '--log-level', 'warn'];
  const child = spawn(process.execPath, args, {
    cwd: rulesDir,
    env: childEnv({ B24_CLIENT_ID: fleet.clientId, B24_CLIENT_SECRET: fleet.clientSecret, B24_OAUTH_URL: fleet.oauthUrl }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const problems: string[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    for (const line of d.toString('utf8').split('\n')) if (line.startsWith('{')) problems.push(line.slice(0, 300));
    problems.splice(0, Math.max(0, problems.length - 20));
  });
  child.stderr?.on('data', (d: Buffer) => problems.push(d.toString('utf8').slice(0, 300)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const w: Worker = { id, child, url, exited, problems };
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`worker ${id} exited (${child.exitCode}) before it started: ${problems.join('; ')}`);
    try {
      return (await fetch(`${url}/healthz`)).status > 0;
    } catch {
      return false;
    }
  }, `worker ${id} to start`, WORKERS_DEFAULTS.timeoutMs);
  return w;
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode !== null) return;
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
  await w.exited;
  clearTimeout(timer);
}

async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`workers bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A user of portal `p` (its webhook) adding leads. */
function userOf(p: FleetPortal): B24Client {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(p.webhookUrl) as RegExpExecArray;
  return createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { retries: 10, backoffBaseMs: 100 });
}

function commented(p: FleetPortal): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of p.emulator.store.all('timeline_comment')) {
    const text = String(c.COMMENT);
    if (text.startsWith('seen ')) out.set(text.slice(5), (out.get(text.slice(5)) ?? 0) + 1);
  }
  return out;
}

const bound = (p: FleetPortal): boolean => p.emulator.events.hub.bindings.forEvent('ONCRMLEADADD').length > 0;
const queued = (p: FleetPortal): number => p.emulator.events.hub.queue.snapshot().length;

async function withDatabase<T>(serverUrl: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_workers_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    const drop = new pg.Client({ connectionString: serverUrl });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await drop.end();
  }
}

/** One repetition: `count` workers, `events` new leads on each of the fleet's portals. */
async function runOnce(serverUrl: string, count: number, events: number): Promise<Sample> {
  return withDatabase(serverUrl, async (databaseUrl) => {
    const fleet = await startEmulatorFleet({ portals: WORKERS_DEFAULTS.portals });
    const rulesDir = mkdtempSync(join(tmpdir(), 'b24-bench-workers-'));
    writeFileSync(join(rulesDir, 'lead.yaml'), RULE);
    const cp = await openControlPlane(databaseUrl);
    const users = fleet.portals.map(userOf);
    const workers: Worker[] = [];
    try {
      const registry = new PortalRegistry(cp.pool);
      for (const p of fleet.portals) await registry.addOAuth({ memberId: p.memberId, domain: p.url, accessToken: p.app.access_token, refreshToken: p.app.refresh_token });
      const spawned = performance.now();
      workers.push(...(await Promise.all(Array.from({ length: count }, (_, i) => startWorker(`w${i + 1}`, databaseUrl, rulesDir, fleet)))));
      const urls = workers.map((w) => w.url);
      // Settled: every portal served, each worker at its fair share (no hand-over left to happen in the timed part).
      await until(
        async () => {
          const running: number[] = [];
          for (const u of urls) {
            const h = (await (await fetch(`${u}/healthz`)).json()) as { portals?: Array<{ state: string }> };
            running.push((h.portals ?? []).filter((p) => p.state === 'running').length);
          }
          const total = running.reduce((a, b) => a + b, 0);
          return total === fleet.portals.length && Math.max(...running) - Math.min(...running) <= 1 && fleet.portals.every(bound);
        },
        `${count} worker(s) to share ${fleet.portals.length} portals`,
        WORKERS_DEFAULTS.timeoutMs,
      );
      const settleMs = performance.now() - spawned;
      const cpu0 = workers.map((w) => processCpuMs(w.child.pid) ?? 0);
      const started = performance.now();
      await Promise.all(
        fleet.portals.map(async (p, i) => {
          const res = await (users[i] as B24Client).batch(Array.from({ length: events }, (_, k) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `p${p.index}-${k}` } } })));
          if (Object.values(res).some((r) => !r.ok)) throw new Error(`workers bench: adding leads on portal ${p.index} failed`);
        }),
      );
      await until(() => fleet.portals.every((p) => commented(p).size === events && queued(p) === 0), 'every lead commented', WORKERS_DEFAULTS.timeoutMs);
      const wallMs = performance.now() - started;
      const cpuMs = workers.reduce((sum, w, i) => sum + ((processCpuMs(w.child.pid) ?? 0) - (cpu0[i] ?? 0)), 0);
      for (const p of fleet.portals) {
        const c = commented(p);
        for (let k = 0; k < events; k++) if (c.get(`p${p.index}-${k}`) !== 1) throw new Error(`workers bench: lead p${p.index}-${k} has ${c.get(`p${p.index}-${k}`) ?? 0} comments`);
      }
      if (fleet.overlapCount > 0) throw new Error(`workers bench: ${fleet.overlapCount} request(s) of two workers to one portal at once`);
      const spans = fleet.portals.map((p) => fleet.requests(p.index).filter((r) => r.start >= started && r.worker !== 'unknown'));
      const perPortal = spans.map((list) => list.length);
      // The issue's floor from the work alone: the comment batches, the reads, and the gets that fetching the events
      // takes (a page of OFFLINE_DEFAULTS.batchSize each; their clears ride along in the comment batches). The queue
      // requests the workers made (idle polls included) are reported apart: polling is a setting, not the work.
      const floor = requestFloor(events, events, Math.ceil(events / OFFLINE_DEFAULTS.batchSize));
      const queue = spans.map((list) => list.filter((r) => r.method === 'event.offline.get' || r.method === 'event.offline.clear').length);
      const total = events * fleet.portals.length;
      return {
        eventsPerSec: total / (wallMs / 1000),
        wallMs,
        settleMs,
        workerCpuMs: cpuMs,
        cpuMsPerEvent: cpuMs / total,
        requestsPerPortal: median(perPortal),
        requestsPerPortalMax: Math.max(...perPortal),
        floorPerPortal: floor,
        queueRequestsPerPortal: median(queue),
        overFloorMax: Math.max(...perPortal.map((n) => n - floor)),
        overFloorWithoutQueueMax: Math.max(...perPortal.map((n, i) => n - (queue[i] as number) - (floor - Math.ceil(events / OFFLINE_DEFAULTS.batchSize)))),
      };
    } finally {
      await Promise.all(workers.map(stopWorker));
      await Promise.all(users.map((u) => u.close()));
      await cp.close();
      await fleet.close();
      rmSync(rulesDir, { recursive: true, force: true });
    }
  });
}

/** Run the workers benchmark. */
export async function runWorkersBench(options: BenchOptions = {}): Promise<BenchResult> {
  const events = options.quick ? WORKERS_DEFAULTS.quickEvents : WORKERS_DEFAULTS.events;
  const reps = options.repetitions ?? (options.quick ? WORKERS_DEFAULTS.quickRepetitions : WORKERS_DEFAULTS.repetitions);
  const portals = WORKERS_DEFAULTS.portals;
  const notes: string[] = [];
  let server: ThrowawayPostgres | null = null;
  let url = process.env.B24_BENCH_DATABASE_URL ?? null;
  if (!url) {
    const bin = findPostgresBinaries();
    if (bin) {
      server = await startThrowawayPostgres(bin);
      url = server.url;
      notes.push('PostgreSQL: a throwaway server on this machine (fsync=off, synchronous_commit=off, as the test suite runs it), over TCP on 127.0.0.1, sharing the CPUs with the workers and the fleet.');
    } else {
      notes.push(POSTGRES_MISSING.replace('the PostgreSQL suite is skipped', 'the workers benchmark measures nothing'));
    }
  } else {
    notes.push('PostgreSQL: the server of B24_BENCH_DATABASE_URL.');
  }
  const base: Omit<BenchResult, 'variants' | 'ratios' | 'notes'> = {
    name: 'workers',
    title: `Workers: ${portals} portals, ${events} new leads each, served by 1, 2 and 3 worker processes on one PostgreSQL`,
    setup: `A fresh database and emulator fleet per repetition (${portals} portals, each its own server and 50/2 s bucket); the workers (rules run --state postgres:// --worker-id wN, --poll-interval-ms ${WORKERS_DEFAULTS.pollIntervalMs}) share the portals first; then ${events} leads are added on every portal at once and the run lasts until every lead has its comment (offline events, one comment each) and every queue is empty.`,
    repetitions: reps,
    metrics: [
      { key: 'eventsPerSec', label: 'events/s', unit: 'ops/s' },
      { key: 'wallMs', label: 'wall time', unit: 'ms' },
      { key: 'workerCpuMs', label: 'workers CPU', unit: 'ms' },
      { key: 'cpuMsPerEvent', label: 'CPU per event', unit: 'ms' },
      { key: 'requestsPerPortal', label: 'requests/portal (median)', unit: '' },
      { key: 'requestsPerPortalMax', label: 'requests/portal (max)', unit: '' },
      { key: 'floorPerPortal', label: 'floor/portal (the work)', unit: '' },
      { key: 'queueRequestsPerPortal', label: 'queue requests/portal (median)', unit: '' },
      { key: 'overFloorMax', label: 'over the floor (max)', unit: '' },
      { key: 'overFloorWithoutQueueMax', label: 'over the floor, queue apart (max)', unit: '' },
      { key: 'settleMs', label: 'start and share', unit: 'ms' },
    ],
    computed: [],
  };
  try {
    if (!url) return { ...base, variants: [], ratios: [], notes };
    const serverUrl = url;
    const specs: VariantSpec[] = WORKERS_DEFAULTS.workers.map((n) => ({
      name: `${n}-worker${n > 1 ? 's' : ''}`,
      label: `${n} worker process${n > 1 ? 'es' : ''}`,
      run: () => runOnce(serverUrl, n, events),
    }));
    const variants = await alternate(specs, reps, options.progress);
    return {
      ...base,
      variants,
      ratios: [ratio(variants, 'eventsPerSec', '2-workers', '1-worker'), ratio(variants, 'eventsPerSec', '3-workers', '1-worker'), ratio(variants, 'requestsPerPortal', '3-workers', '1-worker')],
      notes: [
        ...notes,
        `The floor per portal is the issue's formula for the work alone: ceil(${events} comments / 50) + ceil(${events} leads read / 2,500) + ceil(${events} events / ${OFFLINE_DEFAULTS.batchSize}) event.offline.get pages (a clear riding along in a comment batch costs none). The queue requests its worker actually made (event.offline.get, and event.offline.clear sent on its own) are reported apart: they include the idle polls of the timed window (every ${WORKERS_DEFAULTS.pollIntervalMs} ms after work, doubling up to 5x), which depend on the poll setting and the run's length, not on the work. "Over the floor" is a portal's requests minus the floor (idle polls included); "queue apart" subtracts the queue requests it made instead of the pages the floor counts: the reads and batches beyond the formula's minimum. The timed part starts once the share has settled (every portal served, the workers' counts within one of each other), so no portal changes hands in it.`,
        'Each worker holds one PostgreSQL connection for all its portals\' state (the store\'s synchronous bridge): a worker\'s engines take turns on it, so more workers add connections as well as processes. On a 2-core machine the workers, the fleet (in the bench process) and PostgreSQL share the same CPUs: the ratios say how much a second and a third process help there, not on separate machines.',
      ],
    };
  } finally {
    server?.stop();
  }
}
