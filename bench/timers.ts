/**
 * Timers (issue 18): what pending timers cost the daemon's tick. The engine
 * ticks idle (an empty inbox, nothing due) on a real state file (WAL,
 * synchronous FULL) holding 0, 1,000 or 10,000 pending `for:` timers due next
 * month; the tick asks the (state, due_at) index for due rows only, so its
 * cost must not grow with their number. A fourth variant has 10,000 pending of
 * which 100 fall due before each tick and fire (the work a due timer costs,
 * its rule's runs left out: the rule is disabled, so the fired items are
 * matched to nothing and finished). The portal is a stub that counts requests:
 * pending timers must cost none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { B24ClientApi } from '../engine/client/index.js';
import { createEngine, type Engine } from '../engine/pipeline/index.js';
import { loadRuleSource } from '../engine/rules/index.js';
import { openDatabase, openStateStore, type StateStore } from '../engine/store/index.js';
import { alternate, checkTarget, median, ratio, type VariantSpec } from './measure.js';
import type { BenchOptions, BenchResult, Sample } from './types.js';

export const TIMERS_DEFAULTS = {
  /** Pending timers per variant. */
  pending: [0, 1_000, 10_000],
  /** Idle ticks timed per repetition. @default 200 */
  ticks: 200,
  /** @default 5 */
  repetitions: 5,
  /** @default 40 */
  quickTicks: 40,
  /** @default 2 */
  quickRepetitions: 2,
  /** Timers falling due before each tick in the firing variant. @default 100 */
  duePerTick: 100,
  /** The target: an idle tick with 10,000 pending timers costs at most this many times one with none. @default 1.5 */
  flatRatio: 1.5,
} as const;

const RULE = `
id: stale-negotiation
enabled: ENABLED
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: C1:NEGOTIATION } }
  for: 14d
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "14 days in negotiation" }
`;

const START = Date.parse('2026-03-02T10:00:00Z');
const DAY = 86_400_000;

/** A portal that answers nothing and counts what it is asked: pending timers must cost no request. */
function countingPortal(): { client: B24ClientApi; requests: () => number } {
  let requests = 0;
  const client: B24ClientApi = {
    call: async () => {
      requests++;
      return { result: null, time: {} } as never;
    },
    batch: async () => {
      requests++;
      return {};
    },
    listAll: (() => {
      requests++;
      return { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true as const, value: undefined }) }) };
    }) as B24ClientApi['listAll'],
  };
  return { client, requests: () => requests };
}

interface Setup {
  store: StateStore;
  engine: Engine;
  clock: { t: number };
  requests: () => number;
  dir: string;
}

function setup(pending: number, firing: boolean): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'b24-bench-timers-'));
  const clock = { t: START };
  const store = openStateStore(join(dir, 'state.db'), { now: () => clock.t });
  // The firing variant spreads its timers so that duePerTick fall due before each tick; the others are due in a month.
  store.transaction(() => {
    for (let i = 0; i < pending; i++) {
      const dueAt = firing ? START + (Math.floor(i / TIMERS_DEFAULTS.duePerTick) + 1) * 1000 : START + 30 * DAY + i;
      store.timers.create({ kind: 'for', ruleId: 'stale-negotiation', recordKey: `deal:${i + 1}`, dueAt, payload: { event: 'ONCRMDEALUPDATE', entity: 'deal', id: String(i + 1), changes: { STAGE_ID: { from: 'NEW', to: 'C1:NEGOTIATION' } } } });
    }
  });
  const { client, requests } = countingPortal();
  const rules = loadRuleSource(RULE.replace('ENABLED', firing ? 'false' : 'true'), 'bench-timers.yaml').rules;
  const engine = createEngine({ store, client, rules, clock: () => clock.t });
  return { store, engine, clock, requests, dir };
}

/** Time `ticks` ticks; the firing variant moves the clock a second before each, so the next 100 timers fall due. */
async function timeTicks(s: Setup, ticks: number, firing: boolean): Promise<Sample> {
  const each: number[] = [];
  const before = s.requests();
  let fired = 0;
  for (let i = 0; i < ticks; i++) {
    if (firing) s.clock.t += 1000;
    const started = performance.now();
    const r = await s.engine.tick();
    each.push((performance.now() - started) * 1000);
    fired += r.timersFired ?? 0;
  }
  return { usPerTick: median(each), portalRequests: s.requests() - before, pending: s.store.timers.countByState().pending, firedPerTick: fired / ticks };
}

/** The query plan SQLite picks for the tick's question (is any timer due?). */
function duePlan(store: StateStore): string {
  const db = openDatabase(store.path);
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM timers WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`).all(START, 300) as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join('; ');
  } finally {
    db.close();
  }
}

export async function runTimersBench(options: BenchOptions = {}): Promise<BenchResult> {
  const d = TIMERS_DEFAULTS;
  const ticks = options.quick ? d.quickTicks : d.ticks;
  const repetitions = options.repetitions ?? (options.quick ? d.quickRepetitions : d.repetitions);
  const largest = d.pending[d.pending.length - 1]!;
  const firingPending = Math.max(largest, d.duePerTick * ticks * repetitions);
  const setups = new Map<string, { s: Setup; firing: boolean }>();
  for (const n of d.pending) setups.set(`pending-${n}`, { s: setup(n, false), firing: false });
  setups.set('firing', { s: setup(firingPending, true), firing: true });
  const plan = duePlan(setups.get(`pending-${largest}`)!.s.store);
  try {
    const specs: VariantSpec[] = [...setups.entries()].map(([name, { s, firing }]) => ({
      name,
      label: firing ? `${firingPending.toLocaleString('en-US')} pending, ${d.duePerTick} due before each tick` : `${Number(name.split('-')[1]).toLocaleString('en-US')} pending timers, none due`,
      run: () => timeTicks(s, ticks, firing),
    }));
    const variants = await alternate(specs, repetitions, options.progress);
    const flat = ratio(variants, 'usPerTick', `pending-${largest}`, 'pending-0');
    const requests = variants.reduce((n, v) => n + v.samples.reduce((m, x) => m + (x.portalRequests ?? 0), 0), 0);
    return {
      name: 'timers',
      title: 'Timers: the idle tick with 0, 1,000 and 10,000 pending timers',
      setup: `The engine ticks on a real state file (WAL, synchronous FULL) with an empty inbox: ${ticks} ticks per repetition, the median tick per repetition. Pending timers are \`for:\` timers due in a month; the firing variant fires ${d.duePerTick} per tick (its rule disabled, so only the firing is timed). The portal is a stub that counts requests.`,
      repetitions,
      metrics: [
        { key: 'usPerTick', label: 'tick', unit: 'µs' },
        { key: 'portalRequests', label: 'portal requests', unit: '' },
        { key: 'firedPerTick', label: 'fired per tick', unit: '' },
        { key: 'pending', label: 'pending after', unit: '' },
      ],
      variants,
      ratios: [flat, ratio(variants, 'usPerTick', `pending-${d.pending[1]}`, 'pending-0')],
      computed: [],
      notes: [`The tick's due query: ${plan}.`, 'Each variant has its own state file, opened before timing; the variants alternate (A B C D, D C B A, ...).'],
      targets: [
        checkTarget(`idle tick with ${largest.toLocaleString('en-US')} pending timers / with none`, flat.value, '×', d.flatRatio, false, 'flat in their number: the due query reads the (state, due_at) index range of due rows only'),
        checkTarget('portal requests of idle ticks with pending timers', requests - 0, '', 0),
      ],
    };
  } finally {
    for (const { s } of setups.values()) {
      s.store.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}
