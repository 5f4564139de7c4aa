/**
 * The loader of declared reads: for all runs of a tick at once, the record an
 * event names plus every `load:` of the matched rules, in rounds (a load that
 * uses another load's value waits for the next round), each round one set of
 * batch requests. Records by ID go as list commands of 50 IDs (by-id.ts):
 * 300 events needing 300 leads and their contacts = 2 requests.
 */
import type { Params } from '../client/index.js';
import type { CompiledRule, EntityName, Facts, LoadSpec } from '../rules/index.js';
import { readById, recordKey } from './by-id.js';
import { ENTITIES } from './entities.js';
import type { ReadResult } from './read-result.js';
import { readKey, type ReadRequest, type TickReader } from './reader.js';

export interface RecordRefLike {
  entity: EntityName;
  id: string;
  entityTypeId?: number;
}

/** What the loader needs of a run, and where it puts the results. */
export interface LoadTarget {
  rule: CompiledRule;
  /** The trigger's record (event rules): loaded under the entity's name. */
  record?: RecordRefLike;
  facts: Facts;
  /** Names templates may read but that are not stored with the facts (`now`, `env`). */
  volatile?: Facts;
  /** Names loaded, for the trace. */
  loaded: string[];
  /** Set when a read failed (not a "not found": those load as null). */
  error?: string;
  /** The read failed as a whole (portal unreachable, rate limited...): try again later, not the rule's fault. */
  transient?: boolean;
}

/** Records loaded this tick by (entity, type, id): the base of update diffs. */
export class RecordCache {
  readonly #map = new Map<string, Record<string, unknown>>();

  static key(entity: string, id: string, entityTypeId?: number): string {
    return `${entity}:${entityTypeId ?? ''}:${id}`;
  }

  get(entity: string, id: string, entityTypeId?: number): Record<string, unknown> | undefined {
    return this.#map.get(RecordCache.key(entity, id, entityTypeId));
  }

  set(entity: string, id: string, record: Record<string, unknown>, entityTypeId?: number): void {
    this.#map.set(RecordCache.key(entity, id, entityTypeId), record);
  }

  /** Apply an update the engine made, so later runs in the tick diff against the new values. */
  merge(entity: string, id: string, fields: Record<string, unknown>, entityTypeId?: number): void {
    const cur = this.get(entity, id, entityTypeId);
    if (cur) Object.assign(cur, fields);
  }
}

type Step = { name: string; refs: string[]; build(facts: Facts): Built };
type Built =
  | { kind: 'null' }
  | { kind: 'record'; ref: RecordRefLike }
  | { kind: 'read'; req: ReadRequest; unwrap: (r: unknown) => unknown; cache?: RecordRefLike }
  | { kind: 'list'; method: string; options: { filter?: Params; select?: string[]; params?: Params; limit: number } };

function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return result;
  if (result && typeof result === 'object') {
    for (const k of ['items', 'tasks', 'result']) {
      const v = (result as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
  }
  return [];
}

function asParams(v: unknown): Params {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Params) : {};
}

function stepOf(spec: LoadSpec): Step {
  switch (spec.kind) {
    case 'record':
      return {
        name: spec.name,
        refs: spec.id.refs,
        build: (facts) => {
          const id = spec.id.render(facts);
          if (id === undefined || id === null || String(id).trim() === '' || String(id) === '0') return { kind: 'null' };
          const ref: RecordRefLike = { entity: spec.entity, id: String(id) };
          if (spec.entityTypeId !== undefined) ref.entityTypeId = spec.entityTypeId;
          // A load naming `select` keeps its `get` (user.get never took one).
          const select = spec.select && spec.entity !== 'user' ? spec.select : undefined;
          if (!select && readById(spec.entity)) return { kind: 'record', ref };
          const g = ENTITIES[spec.entity].get(ref.id, spec.entityTypeId);
          if (select) g.params = { ...g.params, select };
          return { kind: 'read', req: { method: g.method, params: g.params }, unwrap: g.unwrap, cache: select ? undefined : ref };
        },
      };
    case 'list':
      return {
        name: spec.name,
        refs: [...(spec.params?.refs ?? []), ...(spec.filter?.refs ?? [])],
        build: (facts) => {
          const method = spec.method ?? (spec.entity ? ENTITIES[spec.entity].list : undefined);
          if (!method) return { kind: 'null' };
          const filter = asParams(spec.filter?.render(facts));
          const params = asParams(spec.params?.render(facts));
          if (spec.limit > 50) return { kind: 'list', method, options: { filter, params, ...(spec.select ? { select: spec.select } : {}), limit: spec.limit } };
          const p: Params = { ...params, ...(spec.filter ? { filter } : {}), ...(spec.select ? { select: spec.select } : {}) };
          return { kind: 'read', req: { method, params: p }, unwrap: (r) => rowsOf(r).slice(0, spec.limit) };
        },
      };
    case 'method':
      return {
        name: spec.name,
        refs: spec.params.refs,
        build: (facts) => ({ kind: 'read', req: { method: spec.method, params: asParams(spec.params.render(facts)) }, unwrap: (r) => r }),
      };
  }
}

function recordStep(ref: RecordRefLike): Step {
  return { name: ref.entity, refs: [], build: () => recordRead(ref) };
}

/** The read of one whole record: by ID in a list where the entity allows it, else its `get`. */
function recordRead(ref: RecordRefLike): Built {
  if (readById(ref.entity)) return { kind: 'record', ref };
  const g = ENTITIES[ref.entity].get(ref.id, ref.entityTypeId);
  return { kind: 'read', req: { method: g.method, params: g.params }, unwrap: g.unwrap, cache: ref };
}

/** The method a failed read names in its error. */
function methodOf(built: Extract<Built, { kind: 'record' | 'read' }>): string {
  return built.kind === 'read' ? built.req.method : ENTITIES[built.ref.entity].byIds!.command([built.ref.id], built.ref.entityTypeId, []).method;
}

/**
 * Load the trigger record and every declared read of each target into its facts.
 * A read answered "not found" (or with an empty id) loads as null; any other
 * failure sets `target.error` and the target's remaining loads are skipped.
 */
export async function loadFacts(targets: LoadTarget[], reader: TickReader, records: RecordCache): Promise<void> {
  const pending = new Map<LoadTarget, Step[]>();
  for (const t of targets) {
    const steps: Step[] = [];
    if (t.record) steps.push(recordStep(t.record));
    for (const spec of t.rule.load) steps.push(stepOf(spec));
    if (steps.length) pending.set(t, steps);
  }
  while (pending.size > 0) {
    const round: Array<{ t: LoadTarget; step: Step; built: Built }> = [];
    for (const [t, steps] of pending) {
      const waiting = new Set(steps.map((s) => s.name));
      const ready = steps.filter((s) => !s.refs.some((r) => waiting.has(r) && r !== s.name));
      // A cycle cannot be resolved: load what remains with what is known.
      const take = ready.length ? ready : steps;
      for (const step of take) {
        try {
          round.push({ t, step, built: step.build(t.volatile ? { ...t.facts, ...t.volatile } : t.facts) });
        } catch (err) {
          t.error = `load ${step.name}: ${(err as Error).message}`;
        }
      }
      const left = steps.filter((s) => !take.includes(s));
      if (left.length && !t.error) pending.set(t, left);
      else pending.delete(t);
    }
    const reads = round.flatMap((r) => (r.built.kind === 'read' && !r.t.error ? [r.built.req] : []));
    const refs = round.flatMap((r) => (r.built.kind === 'record' && !r.t.error ? [r.built.ref] : []));
    let results: { reads: Map<string, ReadResult>; records: Map<string, ReadResult> };
    try {
      results = reads.length || refs.length ? await reader.read(reads, refs) : { reads: new Map(), records: new Map() };
    } catch (err) {
      for (const r of round) {
        r.t.error ??= `load ${r.step.name}: ${(err as Error).message}`;
        r.t.transient = isTransient(err);
      }
      for (const r of round) pending.delete(r.t);
      continue;
    }
    for (const { t, step, built } of round) {
      if (t.error) {
        pending.delete(t);
        continue;
      }
      if (built.kind === 'null') {
        t.facts[step.name] = null;
      } else if (built.kind === 'list') {
        try {
          t.facts[step.name] = await reader.list(built.method, built.options);
        } catch (err) {
          t.error = `load ${step.name}: ${(err as Error).message}`;
          t.transient = isTransient(err);
          pending.delete(t);
          continue;
        }
      } else {
        const res = built.kind === 'record' ? results.records.get(recordKey(built.ref)) : results.reads.get(readKey(built.req));
        if (!res || !res.ok) {
          if (res && res.notFound) t.facts[step.name] = null;
          else {
            t.error = `load ${step.name} (${methodOf(built)}): ${res ? res.error : 'no answer'}`;
            pending.delete(t);
            continue;
          }
        } else {
          const value = built.kind === 'record' ? res.result : built.unwrap(res.result);
          const cache = built.kind === 'record' ? built.ref : built.cache;
          t.facts[step.name] = value ?? null;
          if (cache && value && typeof value === 'object') records.set(cache.entity, cache.id, value as Record<string, unknown>, cache.entityTypeId);
        }
      }
      t.loaded.push(step.name);
    }
  }
}

/** Extra reads of records an update will diff against, not loaded yet. */
export async function loadRecords(refs: RecordRefLike[], reader: TickReader, records: RecordCache): Promise<void> {
  const todo = refs.filter((r) => !records.get(r.entity, r.id, r.entityTypeId));
  if (todo.length === 0) return;
  const built = todo.map(recordRead);
  const res = await reader.read(
    built.flatMap((b) => (b.kind === 'read' ? [b.req] : [])),
    built.flatMap((b) => (b.kind === 'record' ? [b.ref] : [])),
  );
  for (const b of built) {
    if (b.kind === 'record') {
      const x = res.records.get(recordKey(b.ref));
      if (x?.ok && x.result) records.set(b.ref.entity, b.ref.id, x.result as Record<string, unknown>, b.ref.entityTypeId);
    } else if (b.kind === 'read' && b.cache) {
      const x = res.reads.get(readKey(b.req));
      const rec = x && x.ok ? b.unwrap(x.result) : null;
      if (rec && typeof rec === 'object') records.set(b.cache.entity, b.cache.id, rec as Record<string, unknown>, b.cache.entityTypeId);
    }
  }
}

/** Operational failures (network, rate limits, 5xx) pass; anything else is the rule's or the data's problem. */
export function isTransient(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { kind?: unknown }).kind === 'operational';
}

export { rowsOf };
