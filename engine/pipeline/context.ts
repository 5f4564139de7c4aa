/**
 * What the stages of one tick share: the store, the client, the tick's reader
 * and record cache, the clock, the tuning and the report. Built fresh per tick
 * (and per dry-run), so nothing read in one tick leaks into the next.
 */
import type { B24ClientApi } from '../client/index.js';
import { RecordCache, snapshotEntity, TickReader } from '../facts/index.js';
import type { Logger } from '../logger.js';
import type { CompiledRule, Facts } from '../rules/index.js';
import type { EffectRecord, StateStore } from '../store/index.js';
import type { EvalContext } from './3-evaluate.js';
import type { Backoff } from './retry-policy.js';
import { earlierChanges, type Run } from './run.js';
import { shadowSnapshotEntity } from './shadow.js';
import type { EngineStats, EngineTuning, FetchLike, TickReport } from './types.js';

/** @default values of EngineTuning */
export const DEFAULTS: Required<Omit<EngineTuning, 'env'>> = {
  maxItemsPerTick: 300,
  maxRunsPerTick: 1000,
  maxStagesPerTick: 8,
  backoffBaseMs: 2000,
  backoffMaxMs: 600_000,
  httpConcurrency: 4,
  lookupMarginMs: 600_000,
  // A request the portal received runs to its end even if its sender died; the longest one can be in
  // flight is the client's request timeout (engine/client/options.ts headersTimeoutMs, 60 s).
  inDoubtSettleMs: 60_000,
  workflowLimitBackoffMs: 60_000,
};

/** What lives as long as the engine. */
export interface EngineDeps {
  store: StateStore;
  client: B24ClientApi;
  now: () => number;
  logger: Logger;
  http: FetchLike | undefined;
  tuning: Required<Omit<EngineTuning, 'env'>> & Backoff;
  stats: EngineStats;
  env: Record<string, string | undefined>;
  /** When each create in doubt still waiting to settle was last looked up (effect id → ms). */
  lookedUp: Map<number, number>;
}

/** What lives for one tick (or one dry-run). */
export interface Tick extends EngineDeps {
  rules: ReadonlyMap<string, CompiledRule>;
  reader: TickReader;
  records: RecordCache;
  report: TickReport;
  /** Runs stored and not final, as the tick's stages left them: planned from memory, not decoded again from their rows. */
  live: Map<number, Run>;
  /** Snapshots this tick wrote (`entity:id` → fields), as stored: the engine's own updates merge into them without reading them back. */
  snapshots: Map<string, Record<string, unknown>>;
  /** The order this tick wrote snapshots in (`entity:id` → n, the latest highest), live ones and shadow runs' alike: which of the two is newer. */
  snapshotOrder: WriteOrder;
}

/** The order in which keys were written (the latest highest). */
export class WriteOrder {
  #n = 0;
  readonly #at = new Map<string, number>();

  touch(key: string): void {
    this.#at.set(key, ++this.#n);
  }

  get(key: string): number | undefined {
    return this.#at.get(key);
  }
}

export function newReport(): TickReport {
  return { items: 0, runsCreated: 0, held: 0, finished: { done: 0, skipped: 0, failed: 0, dead: 0 }, itemsFinished: 0, calls: 0, batches: 0, httpRequests: 0, recovered: 0, depth: 0 };
}

export function newTick(deps: EngineDeps, rules: ReadonlyMap<string, CompiledRule>): Tick {
  return { ...deps, rules, reader: new TickReader(deps.client), records: new RecordCache(), report: newReport(), live: new Map(), snapshots: new Map(), snapshotOrder: new WriteOrder() };
}

/** `now` and the `env` names a rule declares: added fresh at each use, never stored with a run. */
export function volatileFacts(t: Pick<EngineDeps, 'now' | 'env'>, rule: CompiledRule): Facts {
  const env: Record<string, string> = {};
  for (const name of rule.env) {
    const v = t.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { now: isoOf(t.now()), env };
}

// The stages ask for `now` many times a millisecond: format it once per value.
let lastMs = Number.NaN;
let lastIso = '';
function isoOf(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * The daemon's `onDone`: a done update's fields merge into the record's snapshot and the
 * tick's record cache, so the engine's own change is not a change when the record comes
 * back. A snapshot this tick wrote is merged in memory, not read back and parsed.
 */
export function mergeDone(t: Tick): (effect: EffectRecord) => void {
  return (e) => {
    const snap = e.meta?.snapshot as { entity: string; id: string; fields: Record<string, unknown>; entityTypeId?: number } | undefined;
    if (!snap) return;
    const entity = snapshotEntity(snap.entity, snap.entityTypeId);
    const key = `${entity}:${snap.id}`;
    const known = t.snapshots.get(key);
    if (known) {
      const merged = { ...known, ...snap.fields };
      t.snapshots.set(key, merged);
      t.store.snapshots.put(entity, snap.id, merged);
    } else {
      t.store.snapshots.merge(entity, snap.id, snap.fields);
    }
    t.snapshotOrder.touch(key);
    t.records.merge(snap.entity, snap.id, snap.fields, snap.entityTypeId);
  };
}

/**
 * The evaluation context. `durable`: the snapshots evaluation takes are kept for
 * the store (written by `flush`, in the commit that stores the runs they decided)
 * and an item retried from the DLQ reuses the change set of its first run (the
 * daemon); otherwise snapshots live only as long as the context (dry-run).
 */
export function evalContext(t: Tick, durable: boolean): EvalContext & { flush(): void } {
  const { store } = t;
  const snapshots = durable ? t.snapshots : new Map<string, Record<string, unknown>>();
  const order = durable ? t.snapshotOrder : new WriteOrder();
  const taken: Array<{ entity: string; id: string; record: Record<string, unknown> }> = [];
  const previous = (entity: string, id: string) => snapshots.get(`${entity}:${id}`) ?? store.snapshots.get(entity, id)?.fields;
  const ctx: EvalContext & { flush(): void } = {
    previous,
    // A shadow run's own snapshot (of records only shadow rules heard) counts when it is newer than the live one.
    previousShadow: (ruleId, entity, id) => {
      const shadow = shadowSnapshotEntity(ruleId, entity);
      const live = order.get(`${entity}:${id}`);
      const own = order.get(`${shadow}:${id}`);
      if (live !== undefined || own !== undefined) return (own ?? 0) > (live ?? 0) ? previous(shadow, id) : previous(entity, id);
      const a = store.snapshots.get(entity, id);
      const b = store.snapshots.get(shadow, id);
      return b && (!a || b.updatedAt > a.updatedAt) ? b.fields : a?.fields;
    },
    remember: (entity, id, record) => {
      snapshots.set(`${entity}:${id}`, record);
      order.touch(`${entity}:${id}`);
      if (durable) taken.push({ entity, id, record });
    },
    dedupeUsed: (ruleId, key) => store.dedupe.has(ruleId, key),
    volatile: (run) => volatileFacts(t, run.rule),
    changeCache: new Map(),
    flush: () => {
      for (const s of taken.splice(0)) store.snapshots.put(s.entity, s.id, s.record);
    },
  };
  if (durable) {
    ctx.earlierChanges = (run: Run) => earlierChanges(store.runs.factsOfItem(run.item.id), run);
  }
  return ctx;
}
