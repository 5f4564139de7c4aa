/**
 * The engine path on each state store: the backlog benchmark's workload (N queued ONCRMLEADADD events, each lead
 * with its own contact; load both, update the lead, add a comment) ticked until the inbox is empty, with the state
 * in a SQLite file (synchronous=FULL, the daemon default) and in a portal's schema on PostgreSQL (one connection
 * through the store's synchronous bridge), alternating, on a fresh emulated portal each time. Both are checked to
 * have done the work before their figures count.
 *
 * PostgreSQL: B24_BENCH_DATABASE_URL names a server; otherwise a throwaway one is started from the installed
 * server binaries (bench/throwaway-pg.ts). Without either, only SQLite is measured and a note says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createEngine } from '../engine/pipeline/index.js';
import type { CompiledRule } from '../engine/rules/index.js';
import { openPgStateStore, openStateStore, type StateStore } from '../engine/store/index.js';
import { checkWork, compileRule, events, seed } from './backlog.js';
import { alternate, ratio, type VariantSpec } from './measure.js';
import { tickToEmpty } from './tick-to-empty.js';
import { startBenchPortal } from './portal.js';
import { findPostgresBinaries, POSTGRES_MISSING, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-pg.js';
import type { BenchOptions, BenchResult, Ratio, Sample } from './types.js';

/** Sizes of the full and the quick run. */
export const STORE_PG_DEFAULTS = {
  /** @default 1000 */
  events: 1000,
  /** @default 3 */
  repetitions: 3,
  /** @default 200 */
  quickEvents: 200,
  /** @default 1 */
  quickRepetitions: 1,
  /** Events of the untimed warm-up run of each variant. @default 50 */
  warmupEvents: 50,
} as const;

async function runOn(n: number, rules: CompiledRule[], open: () => StateStore, variant: string): Promise<Sample> {
  const portal = await startBenchPortal();
  const store = open();
  try {
    const leadIds = seed(portal, n);
    store.inbox.add(events(leadIds));
    portal.emu.calls.clear();
    const engine = createEngine({ store, client: portal.client, rules });
    const { wallMs, cpuMs, ticks } = await tickToEmpty(engine);
    checkWork(portal, leadIds, variant);
    return { eventsPerSec: n / (wallMs / 1000), wallMs, cpuMs, httpRequests: portal.emu.calls.httpRequests, ticks };
  } finally {
    store.close();
    await portal.close();
  }
}

function sqliteStore(): () => StateStore {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-bench-'));
    const store = openStateStore(join(dir, 'state.db'), { synchronous: 'FULL' });
    return {
      ...store,
      close: () => {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

/** Run the store benchmark. */
export async function runStorePgBench(options: BenchOptions = {}): Promise<BenchResult> {
  const n = options.quick ? STORE_PG_DEFAULTS.quickEvents : STORE_PG_DEFAULTS.events;
  const reps = options.repetitions ?? (options.quick ? STORE_PG_DEFAULTS.quickRepetitions : STORE_PG_DEFAULTS.repetitions);
  const rules = compileRule();
  const notes: string[] = [];
  let server: ThrowawayPostgres | null = null;
  let url = process.env.B24_BENCH_DATABASE_URL ?? null;
  if (!url) {
    const bin = findPostgresBinaries();
    if (bin) {
      server = await startThrowawayPostgres(bin);
      url = server.url;
      notes.push('PostgreSQL: a throwaway server on this machine (fsync=off, synchronous_commit=off, as the test suite runs it), over TCP on 127.0.0.1.');
    } else {
      notes.push(POSTGRES_MISSING.replace('the PostgreSQL suite is skipped', 'only SQLite is measured'));
    }
  } else {
    notes.push('PostgreSQL: the server of B24_BENCH_DATABASE_URL.');
  }
  try {
    const specs: VariantSpec[] = [{ name: 'sqlite', label: 'state in a SQLite file, synchronous=FULL (the daemon default)', run: () => runOn(n, rules, sqliteStore(), 'sqlite') }];
    const pgUrl = url;
    if (pgUrl) {
      const pgStore = () => openPgStateStore({ url: pgUrl, portal: `bench${randomBytes(6).toString('hex')}` });
      specs.push({ name: 'postgres', label: "state in a portal's schema on PostgreSQL, one connection through the synchronous bridge", run: () => runOn(n, rules, pgStore, 'postgres') });
    }
    // Untimed warm-up: JIT, first sockets, the first file and schema.
    for (const v of specs) await (v.name === 'sqlite' ? runOn(STORE_PG_DEFAULTS.warmupEvents, rules, sqliteStore(), 'sqlite') : v.run(0));
    const variants = await alternate(specs, reps, options.progress);
    const ratios: Ratio[] = pgUrl ? [ratio(variants, 'eventsPerSec', 'postgres', 'sqlite'), ratio(variants, 'cpuMs', 'postgres', 'sqlite')] : [];
    return {
      name: 'store-pg',
      title: `The engine path on SQLite and on PostgreSQL: ${n.toLocaleString('en-US')} ONCRMLEADADD events`,
      setup: `The backlog workload (${n} leads, each with its own contact, in a fresh in-process emulator per repetition, limits unthrottled): inbox → tick() until empty, the same rule and client, only the state store differs.`,
      repetitions: reps,
      metrics: [
        { key: 'eventsPerSec', label: 'events/s', unit: 'ops/s' },
        { key: 'wallMs', label: 'wall time', unit: 'ms' },
        { key: 'cpuMs', label: 'process CPU', unit: 'ms' },
        { key: 'httpRequests', label: 'HTTP requests', unit: '' },
        { key: 'ticks', label: 'ticks', unit: '' },
      ],
      variants,
      ratios,
      computed: [],
      notes: [
        ...notes,
        'On PostgreSQL every statement (about 17 per event here) is a message to the bridge thread and a round trip to the server; reads and COMMIT wait for theirs, writes inside a transaction do not. On a machine where the engine, the bridge thread and the server share two cores, the process CPU per statement sets the rate; with the server on another machine, the network round trip of the statements that wait would.',
        'Process CPU includes the emulator (same process) and, for PostgreSQL, the bridge thread; not the server\'s own CPU.',
        'The HTTP request count must be the same on both stores: the store changes where the state is kept, not what is sent.',
      ],
    };
  } finally {
    server?.stop();
  }
}
