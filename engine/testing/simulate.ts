/**
 * Rule tests with `steps:` (issue 18): the engine in run mode on a fixture
 * portal, with a clock the test moves. Steps add events, make changes on the
 * portal as a person would, and let time pass (`advance: 2h`): timers due in
 * between fire at their due time, in order, each followed by ticks until the
 * engine is quiet, as the daemon would. What a step fired is the calls the
 * engine's ledger recorded during it. The portal is the fixture emulator, so
 * the calls are carried out there and a later step sees their effect; nothing
 * reaches a real portal.
 */
import { createClient, methodKind, type B24ClientApi } from '../client/index.js';
import type { FixturePortal, StartFixturePortal } from '../plan/index.js';
import { createEngine, type Engine } from '../pipeline/index.js';
import type { CompiledRule } from '../rules/index.js';
import { openStateStore, type InboxItemInput, type StateStore } from '../store/index.js';
import type { ExpectedCall, FixtureData } from './types.js';

/** What a simulation starts from (a case's fixtures, clock, env and remembered state). */
export interface SimulationInput {
  rules: CompiledRule[];
  at: number;
  fixtures: FixtureData;
  env: Record<string, string>;
  snapshots?: Record<string, Record<string, Record<string, unknown>>>;
  dedupe?: Record<string, string[]>;
}

/** A pending timer as a test sees it. */
export interface SimulatedTimer {
  rule: string;
  kind: string;
  /** ISO 8601, UTC. */
  fires_at: string;
}

/** A run the engine journaled, as `rules test --coverage` counts it. */
export interface JournaledRun {
  rule: string;
  status: string;
  reason: string | null;
  cursor: number;
}

/** A running simulation: the portal, the engine and the clock of one case. */
export interface Simulation {
  now(): number;
  /** Let time pass up to `at`: every timer due by then fires at its due time. */
  advanceTo(at: number): Promise<void>;
  /** Calls made on the portal as a person would (not by the engine): `crm.lead.update` and the like. */
  portal(calls: Array<{ method: string; params?: Record<string, unknown> }>): Promise<void>;
  /** Events arrive; the engine works until it is quiet. */
  events(items: InboxItemInput[]): Promise<void>;
  /** The write calls the engine made since the last take, in ledger order. */
  takeCalls(): ExpectedCall[];
  /** Timers still pending, earliest first. */
  timers(): SimulatedTimer[];
  /** Every run the engine journaled so far, how it stands (`rules test --coverage`). */
  runs?(): JournaledRun[];
  close(): Promise<void>;
}

/** Ticks per quiet-down: a tick's rounds, retries and held runs settle well within it. */
const MAX_TICKS = 50;

/** Start a simulation on a fixture portal started by `startPortal` (the CLI's in-process emulator). */
export async function startSimulation(input: SimulationInput, startPortal: StartFixturePortal): Promise<Simulation> {
  let clock = input.at;
  const now = () => clock;
  let portal: FixturePortal | undefined;
  let client: (B24ClientApi & { close(): Promise<void> }) | undefined;
  let store: StateStore | undefined;
  try {
    portal = await startPortal(input.fixtures, { at: input.at, ratePlan: 'standard', now });
    client = createClient(portal.config, { rateLimit: false, retries: 0, clock: { now, sleep: async () => undefined } }) as B24ClientApi & { close(): Promise<void> };
    store = openStateStore(':memory:', { now });
    for (const [entity, byId] of Object.entries(input.snapshots ?? {})) {
      for (const [id, fields] of Object.entries(byId)) store.snapshots.put(entity, id, { ID: id, ...fields });
    }
    for (const [ruleId, keys] of Object.entries(input.dedupe ?? {})) for (const k of keys) store.dedupe.put(ruleId, k);
  } catch (err) {
    store?.close();
    await client?.close();
    await portal?.close();
    throw err;
  }
  const s = store;
  const c = client;
  const p = portal;
  const engine: Engine = createEngine({ store: s, client: c, rules: input.rules, clock: now, mode: 'run', options: { env: input.env } });
  let seen = 0;
  let step = 0;

  async function quiet(): Promise<void> {
    for (let i = 0; i < MAX_TICKS; i++) {
      const r = await engine.tick();
      const moved = r.items + r.runsCreated + r.calls + r.finished.done + r.finished.skipped + r.finished.failed + r.finished.dead + (r.timersFired ?? 0);
      if (moved === 0) return;
    }
  }

  return {
    now,
    async advanceTo(at) {
      for (;;) {
        const next = s.timers.nextDue();
        if (next === null || next > at) break;
        clock = Math.max(clock, next);
        await quiet();
      }
      clock = Math.max(clock, at);
      await quiet();
    },
    async portal(calls) {
      for (const call of calls) await c.call(call.method, call.params ?? {});
    },
    async events(items) {
      step += 1;
      s.inbox.add(items.map((i) => ({ ...i, key: `step${step}:${i.key}`, receivedAt: clock })));
      await quiet();
    },
    takeCalls() {
      const out: ExpectedCall[] = [];
      for (let id = seen + 1; ; id++) {
        const e = s.effects.byId(id);
        if (!e) break;
        seen = id;
        const kind = e.method === 'http' ? 'write' : methodKind(e.method);
        if (kind !== 'write') continue;
        const run = s.runs.get(e.runId);
        out.push({ method: e.method, params: e.params, ...(run ? { rule: run.ruleId } : {}), ...(e.state === 'shadow' ? { shadow: true } : {}) });
      }
      return out;
    },
    timers() {
      return s.timers
        .list({ state: 'pending', limit: 1000 })
        .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
        .map((t) => ({ rule: t.ruleId, kind: t.kind, fires_at: new Date(t.dueAt).toISOString() }));
    },
    runs() {
      return s.runs.summaries({ limit: 1_000_000 }).map((r) => ({ rule: r.ruleId, status: r.status, reason: r.reason, cursor: r.cursor }));
    },
    async close() {
      s.close();
      await c.close();
      await p.close();
    },
  };
}
