/**
 * Lists: reading every row of a 5,000-row list (crm.lead.list) three ways, on
 * one emulated portal (reads change nothing, so the variants share it):
 *
 * - `fast`: client.listAll, the official fast scan, one page per request:
 *   `start=-1` (no COUNT), `order {ID: ASC}`, `filter {>ID: last}`.
 * - `fast-batched`: client.listAllBatched, the same keyset chained 50 pages
 *   (~2,500 rows) per `batch` request through `$result[...]` references.
 * - `paged`: plain `start`/`next` offset paging, one page per request (what a
 *   naive loop over `next` does).
 *
 * And the emulator at scale, side by side: `scan-10k` and `scan-100k` read
 * every row of 10,000 and 100,000 deals (crm.deal.list) with
 * `listAllBatched`, each from an emulator in a process of its own
 * (bench/lists-emulator.ts, forked from dist/), so the emulator's CPU time and
 * memory are its own. Target: the 100k scan at most 10× the 10k scan's wall
 * time (issue 12). `--quick` scans 1,000 and 10,000.
 *
 * Every variant must return all rows, each once, or the run fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type B24Client } from '../engine/client/index.js';
import { PACKAGE_ROOT } from '../engine/paths.js';
import type { ReadyMessage, ScanReport } from './lists-emulator.js';
import { alternate, checkTarget, elapsedMs, ratio, round } from './measure.js';
import { startBenchPortal } from './portal.js';
import type { BenchOptions, BenchResult, Sample, TargetCheck, VariantResult } from './types.js';

/** Sizes of the full and the quick run. */
export const LISTS_DEFAULTS = {
  /** @default 5000 */
  rows: 5000,
  /** @default 5 */
  repetitions: 5,
  /** @default 5000 */
  quickRows: 5000,
  /** @default 1 */
  quickRepetitions: 1,
  /** Rows read by each variant's untimed warm-up. @default 200 */
  warmupRows: 200,
  /** @default 'crm.lead.list' */
  method: 'crm.lead.list',
  /** Deals of the two scale variants. @default [10000, 100000] */
  scanRows: [10_000, 100_000],
  /** @default [1000, 10000] */
  quickScanRows: [1_000, 10_000],
  /** Target: the larger scan's wall time at most this many times the smaller one's. @default 10 */
  scanTarget: 10,
} as const;

const MB = 1024 * 1024;

/** The scale variants' emulator entry: built JS (dist/bench/lists-emulator.js), also when this file runs from source. */
function scanEmulatorPath(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js') ? join(dirname(here), 'lists-emulator.js') : join(PACKAGE_ROOT, 'dist', 'bench', 'lists-emulator.js');
  if (!existsSync(path)) throw new Error(`lists: ${path} is missing; build first (npm run build)`);
  return path;
}

function nextMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown): void => {
      cleanup();
      resolve(msg as T);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`lists: the scan emulator exited (code ${String(code)}) before ${what}`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Offset pages (`start` = 0, 50, ...) a scale sample reads in another order than ID, after its scan. */
const OFFSET_PAGES = 20;

/** Ask the scan emulator to start measuring (it clears its call log and notes its CPU time). */
async function startMeasuring(child: ChildProcess): Promise<void> {
  const answer = nextMessage<unknown>(child, 'starting to measure');
  child.send({ op: 'start' });
  await answer;
}

/** Ask the scan emulator for what it measured since it started. */
function stopMeasuring(child: ChildProcess): Promise<ScanReport> {
  const answer = nextMessage<ScanReport>(child, 'its report');
  child.send({ op: 'stop' });
  return answer;
}

/**
 * One scale sample: a fresh emulator process (dist/bench/lists-emulator.js: build first) seeded with `n` deals,
 * read whole with listAllBatched (throws unless every deal came once), then 20 offset pages of `order {OPPORTUNITY: DESC}`.
 */
export async function runListScan(n: number): Promise<Sample> {
  const child = fork(scanEmulatorPath(), [String(n)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let client: B24Client | undefined;
  try {
    const ready = await nextMessage<ReadyMessage>(child, 'seeding');
    const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(ready.webhookUrl);
    if (!m) throw new Error(`lists: unexpected webhook URL shape from the scan emulator`);
    client = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { rateLimit: false });
    await startMeasuring(child);
    let count = 0;
    const seen = new Set<string>();
    const t = performance.now();
    for await (const row of client.listAllBatched<Row>('crm.deal.list')) {
      seen.add(String(row.ID));
      count++;
    }
    const wallMs = elapsedMs(t);
    const r = await stopMeasuring(child);
    if (count !== n || seen.size !== n) throw new Error(`lists/scan: read ${count} rows (${seen.size} distinct), expected ${n}`);
    // Offset pages in another order than ID: the first page sorts the matches, the next ones should be slices.
    await startMeasuring(child);
    const t2 = performance.now();
    for (let page = 0; page < OFFSET_PAGES; page++) {
      const env = await client.call<Row[]>('crm.deal.list', { order: { OPPORTUNITY: 'DESC' }, select: ['ID'], start: page * 50 });
      if (env.total !== n || env.result.length !== Math.min(50, n - page * 50)) throw new Error(`lists/offset: page ${page} has ${env.result.length} rows of ${String(env.total)}, expected ${n} in all`);
    }
    const offsetWallMs = elapsedMs(t2);
    const o = await stopMeasuring(child);
    return {
      httpRequests: r.httpRequests,
      listCommands: r.listCommands,
      rows: count,
      wallMs,
      emuCpuMs: r.cpuMs,
      emuSeededRssMB: ready.seededRssBytes / MB,
      emuPeakRssMB: r.peakRssBytes / MB,
      emuScanPeakGrowthMB: Math.max(0, r.peakRssBytes - ready.seedPeakRssBytes) / MB,
      offsetWallMs,
      emuOffsetCpuMs: o.cpuMs,
    };
  } finally {
    await client?.close();
    if (child.exitCode === null && child.signalCode === null && child.connected) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ op: 'exit' });
      await exited;
    }
  }
}

function scanName(n: number): string {
  return n % 1000 === 0 ? `scan-${n / 1000}k` : `scan-${n}`;
}

/** The target for the scale variants: the larger scan's wall time at most `target`× the smaller one's. */
function scanTarget(variants: readonly VariantResult[], rows: readonly [number, number], target: number): TargetCheck {
  const [small, large] = rows.map((n) => n.toLocaleString('en-US'));
  const wall = ratio(variants, 'wallMs', scanName(rows[1]), scanName(rows[0])).value;
  const cpu = ratio(variants, 'emuCpuMs', scanName(rows[1]), scanName(rows[0])).value;
  return checkTarget(`wall time of the ${large}-deal scan / the ${small}-deal scan (listAllBatched)`, wall, '×', target, false, `emulator CPU ${round(cpu)}×`);
}

type Row = Record<string, unknown>;

/** Plain offset paging: follow `next` one request at a time. */
async function* plainPaged(client: B24Client, method: string, limit = Infinity): AsyncGenerator<Row> {
  let start: number | undefined = 0;
  let yielded = 0;
  while (start !== undefined && yielded < limit) {
    const env: { result: Row[]; next?: number } = await client.call<Row[]>(method, { order: { ID: 'ASC' }, start });
    yield* env.result;
    yielded += env.result.length;
    start = env.next;
  }
}

/** Run the lists benchmark. */
export async function runListsBench(options: BenchOptions = {}): Promise<BenchResult> {
  const n = options.quick ? LISTS_DEFAULTS.quickRows : LISTS_DEFAULTS.rows;
  const reps = options.repetitions ?? (options.quick ? LISTS_DEFAULTS.quickRepetitions : LISTS_DEFAULTS.repetitions);
  const method = LISTS_DEFAULTS.method;
  const portal = await startBenchPortal();
  try {
    const ids = portal.emu.store.seed(
      'lead',
      Array.from({ length: n }, (_, i) => ({ TITLE: `List lead ${i}`, STATUS_ID: 'NEW', OPPORTUNITY: i })),
    );
    const total = portal.emu.store.count('lead');
    if (total !== n || ids.length !== n) throw new Error(`lists: expected ${n} leads in the portal, found ${total}`);
    const client = portal.client;

    const specs = [
      { name: 'fast', label: 'listAll: start=-1 + >ID, one page per request', rows: (limit?: number) => client.listAll<Row>(method, limit ? { limit } : {}) },
      { name: 'fast-batched', label: 'listAllBatched: start=-1 + >ID, 50 pages chained per batch request', rows: (limit?: number) => client.listAllBatched<Row>(method, limit ? { limit } : {}) },
      { name: 'paged', label: 'plain start/next offset paging, one page per request', rows: (limit?: number) => plainPaged(client, method, limit) },
    ];
    const run = (variant: string, rows: (limit?: number) => AsyncIterable<Row>) => async (): Promise<Sample> => {
      portal.emu.calls.clear();
      let count = 0;
      const seen = new Set<string>();
      const started = performance.now();
      for await (const row of rows()) {
        seen.add(String(row.ID));
        count++;
      }
      const wallMs = elapsedMs(started);
      if (count !== n || seen.size !== n) throw new Error(`lists/${variant}: read ${count} rows (${seen.size} distinct), expected ${n}`);
      const listCommands = portal.records().filter((r) => r.method === method).length;
      return { httpRequests: portal.emu.calls.httpRequests, listCommands, rows: count, wallMs };
    };
    for (const s of specs) for await (const _ of s.rows(LISTS_DEFAULTS.warmupRows)) void _; // untimed warm-up
    const scanRows = options.quick ? LISTS_DEFAULTS.quickScanRows : LISTS_DEFAULTS.scanRows;
    const [small, large] = scanRows;
    const scans = scanRows.map((rows) => ({
      name: scanName(rows),
      label: `listAllBatched over ${rows.toLocaleString('en-US')} deals (crm.deal.list), the emulator in its own process, seeded afresh per sample`,
      run: () => runListScan(rows),
    }));
    const variants = await alternate([...specs.map((s) => ({ name: s.name, label: s.label, run: run(s.name, s.rows) })), ...scans], reps, options.progress);
    return {
      name: 'lists',
      title: `Reading ${n.toLocaleString('en-US')} rows of ${method}; scanning ${small.toLocaleString('en-US')} and ${large.toLocaleString('en-US')} deals`,
      setup: `${n} leads seeded in one emulator (limits unthrottled, client limiter off); every variant reads all rows with the default select. The scan variants read ${small.toLocaleString('en-US')} and ${large.toLocaleString('en-US')} deals from an emulator process of their own.`,
      repetitions: reps,
      metrics: [
        { key: 'httpRequests', label: 'HTTP requests', unit: '' },
        { key: 'listCommands', label: 'list commands run', unit: '' },
        { key: 'rows', label: 'rows', unit: '' },
        { key: 'wallMs', label: 'wall time', unit: 'ms' },
        { key: 'emuCpuMs', label: 'emulator CPU', unit: 'ms' },
        { key: 'emuSeededRssMB', label: 'emulator RSS seeded', unit: 'MB' },
        { key: 'emuPeakRssMB', label: 'emulator peak RSS', unit: 'MB' },
        { key: 'emuScanPeakGrowthMB', label: 'peak RSS growth in scan', unit: 'MB' },
        { key: 'offsetWallMs', label: '20 offset pages by OPPORTUNITY', unit: 'ms' },
        { key: 'emuOffsetCpuMs', label: 'their emulator CPU', unit: 'ms' },
      ],
      variants,
      ratios: [
        ratio(variants, 'httpRequests', 'fast', 'fast-batched'),
        ratio(variants, 'httpRequests', 'paged', 'fast-batched'),
        ratio(variants, 'httpRequests', 'paged', 'fast'),
        ratio(variants, 'wallMs', 'fast', 'fast-batched'),
        ratio(variants, 'wallMs', 'paged', 'fast-batched'),
        ratio(variants, 'wallMs', 'paged', 'fast'),
        ratio(variants, 'wallMs', scanName(large), scanName(small)),
        ratio(variants, 'emuCpuMs', scanName(large), scanName(small)),
        ratio(variants, 'emuPeakRssMB', scanName(large), scanName(small)),
        ratio(variants, 'emuOffsetCpuMs', scanName(large), scanName(small)),
      ],
      computed: [],
      notes: [
        'HTTP requests are counted by the emulator; a batch is one. "List commands run" counts every crm.lead.list the portal executed, inside batches too: the batched iterator reads the first page alone for its total and sizes its chains by it, plus one page to see rows added during the scan.',
        'The emulator answers offset pages with the same work as keyset pages; on a real portal offset paging also runs a COUNT(*) per page and deep OFFSET scans, which makes `paged` slower there than here.',
        'On loopback a request costs well under a millisecond, so wall times are close; the request count is the figure that carries over to a real portal, where each request costs network latency and a slot of the rate limit (2/s sustained on the standard plan).',
        'The emulator figures are measured for the scan variants only (NaN for the others, whose emulator shares the process with the client). Emulator CPU: the emulator process\'s user + system time during the scan (process.cpuUsage). RSS seeded: its resident set after seeding and a full GC. Peak RSS: its peak resident set over its whole life, seeding included (process.resourceUsage().maxRSS). Peak RSS growth in scan: how far the scan raised that peak above the peak seeding had reached (0 when it stayed below); it includes garbage not yet collected, not only memory the scan keeps. After the scan the same emulator answers 20 offset pages (start 0, 50, ... 950) of crm.deal.list ordered by OPPORTUNITY DESC: their wall time and emulator CPU.',
      ],
      targets: [scanTarget(variants, [small, large], LISTS_DEFAULTS.scanTarget)],
    };
  } finally {
    await portal.close();
  }
}
