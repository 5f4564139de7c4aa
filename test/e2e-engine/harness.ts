/** Test harness: the emulator in-process over real HTTP, the real REST client, a real state file, rules compiled from YAML. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../engine/client/index.js';
import type { B24ClientApi } from '../../engine/client/types.js';
import { createEngine, type Engine } from '../../engine/pipeline/index.js';
import type { CreateEngineOptions, FetchLike } from '../../engine/pipeline/types.js';
import { loadRuleSource } from '../../engine/rules/index.js';
import type { CompiledRule } from '../../engine/rules/types.js';
import type { StateStore } from '../../engine/store/index.js';
import type { InboxItemInput } from '../../engine/store/types.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import { engineTestState } from '../helpers/stores.js';

/** A settable clock shared by the emulator, the client, the store and the engine. */
export class TestClock {
  constructor(public t = Date.parse('2026-03-02T10:00:00Z')) {}
  readonly now = (): number => this.t;
  readonly sleep = async (ms: number): Promise<void> => {
    this.t += Math.max(0, ms);
  };
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Compile rule YAML; fails the test on any error diagnostic. */
export function rules(yaml: string): CompiledRule[] {
  const res = loadRuleSource(yaml, 'test-rules.yaml');
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`rule errors:\n${errors.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`).join('\n')}`);
  return res.rules;
}

export function clientFor(emu: Emulator, clock: TestClock): B24ClientApi & { close?: () => Promise<void> } {
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl);
  if (!m) throw new Error(`unexpected webhook URL shape ${emu.webhookUrl}`);
  return createClient({ baseUrl: m[1]!, plan: 'enterprise', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! } }, { rateLimit: false, clock, retries: 0 });
}

export interface Harness {
  clock: TestClock;
  emu: Emulator;
  client: B24ClientApi & { close?: () => Promise<void> };
  store: StateStore;
  path: string;
  dir: string;
  engine: Engine;
  /** A new store + engine on the same state file (what a restarted process sees). */
  reopen(overrides?: Partial<CreateEngineOptions>): Engine;
  close(): Promise<void>;
}

export async function harness(ruleYaml: string, opts: { emulator?: EmulatorOptions; engine?: Partial<CreateEngineOptions>; http?: FetchLike; startAt?: number } = {}): Promise<Harness> {
  const clock = new TestClock(opts.startAt);
  const emu = await startEmulator({ now: clock.now, limits: { burst: 100_000, drainPerSec: 100_000, operatingBudgetSec: 1e9 }, ...opts.emulator });
  const client = clientFor(emu, clock);
  const dir = mkdtempSync(join(tmpdir(), 'b24-engine-'));
  const path = join(dir, 'state.db');
  const compiled = rules(ruleYaml);
  // A SQLite file, or a portal's schema on PostgreSQL with B24_TEST_STORE=postgres.
  const state = await engineTestState(path);
  const h: Harness = {
    clock,
    emu,
    client,
    dir,
    path,
    store: state.open(clock.now),
    engine: undefined as unknown as Engine,
    reopen(overrides = {}) {
      h.store.close();
      h.store = state.open(clock.now);
      h.engine = createEngine({ store: h.store, client: overrides.client ?? client, rules: compiled, clock: clock.now, ...(opts.http ? { http: opts.http } : {}), ...overrides });
      return h.engine;
    },
    async close() {
      h.store.close();
      await client.close?.();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  h.engine = createEngine({ store: h.store, client, rules: compiled, clock: clock.now, ...(opts.http ? { http: opts.http } : {}), ...opts.engine });
  return h;
}

let seq = 0;
/** An event item as the offline source stores it. */
export function dealEvent(id: number | string, event = 'ONCRMDEALUPDATE', key?: string): InboxItemInput {
  const k = key ?? `p1:${++seq}`;
  return { source: 'offline', key: k, event, ruleId: null, payload: { event, data: { FIELDS: { ID: String(id) } }, ts: '2026-03-02T10:00:00+00:00' }, processId: 'p1', messageId: k, receivedAt: 0 };
}

export function leadEvent(id: number | string, event = 'ONCRMLEADADD'): InboxItemInput {
  const k = `lead:${++seq}`;
  return { source: 'outgoing', key: k, event, ruleId: null, payload: { event, data: { FIELDS: { ID: String(id) } } }, receivedAt: 0 };
}

/** Tick until the inbox is empty (or `max` ticks), advancing the clock past any backoff. */
export async function drain(engine: Engine, clock: TestClock, max = 20): Promise<number> {
  let ticks = 0;
  for (; ticks < max; ticks++) {
    const r = await engine.tick();
    if (r.depth === 0) return ticks + 1;
    clock.advance(60_000);
  }
  return ticks;
}
