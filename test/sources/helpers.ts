/** Shared fixtures for the source and daemon tests: a real SQLite inbox, a manual clock and timers, rule factories. */
import pino from 'pino';
import { Writable } from 'node:stream';
import { openStateStore, type StateStore } from '../../engine/store/index.js';
import type { CompiledRule, Template, TriggerSpec } from '../../engine/rules/types.js';
import type { Clock, Timers } from '../../engine/clock.js';
import type { ScheduleBook, SourceContext } from '../../engine/sources/types.js';
import { createDaemonMetrics } from '../../engine/status/daemon-metrics.js';

/** A clock that moves only when told to: `advance`, or a `sleep`, which moves it by the wait and records it. */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t: number) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    if (ms > 0) this.t += ms;
  };
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Timers that never fire by themselves: the test runs them. */
export class ManualTimers implements Timers {
  pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.pending.delete(h as number);
  };
  /** Run every pending timer once (not those they arm). */
  runAll(): void {
    const now = [...this.pending.entries()];
    this.pending.clear();
    for (const [, t] of now) t.fn();
  }
}

export interface TestStore {
  state: StateStore;
  inbox: StateStore['inbox'];
  /** What the pipeline does when every run of an item is final. */
  finish(id: number, status: 'done' | 'dead'): void;
  book: ScheduleBook;
}

/** The real state store, in memory. */
export function openTestStore(now: () => number): TestStore {
  const state = openStateStore(':memory:', { now });
  return {
    state,
    inbox: state.inbox,
    finish: (id, status) => state.inbox.finish(id, status),
    book: state.schedules,
  };
}

/** A logger writing parsed records into an array. */
export function memoryLogger(): { logger: pino.Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

export function makeContext(store: TestStore, clock: ManualClock, timers?: Timers): SourceContext & { notified: number; metrics: ReturnType<typeof createDaemonMetrics> } {
  const ctx = {
    inbox: store.inbox,
    logger: memoryLogger().logger,
    clock,
    metrics: createDaemonMetrics(),
    notified: 0,
    notify: () => {
      ctx.notified++;
    },
    ...(timers ? { timers } : {}),
  };
  return ctx;
}

export function constTemplate(value: unknown, source = String(value)): Template {
  return { source, render: () => value, refs: [] };
}

/** A compiled rule with only what the sources read. */
export function rule(id: string, trigger: TriggerSpec, extra: Partial<CompiledRule> = {}): CompiledRule {
  return {
    id,
    description: '',
    enabled: true,
    hash: 'h',
    location: { file: 'test.yaml', line: 1, col: 1 },
    trigger,
    load: [],
    let: [],
    actions: [],
    concurrency: { mode: 'serial' },
    onError: { retries: 3, then: 'dead_letter' },
    env: [],
    ...extra,
  };
}
