/**
 * Stage 2, load: every declared read of the tick's runs at once (the trigger's
 * record and each `load:`), batched by the tick's reader; later, the records
 * the acting runs' updates will diff against. Records by ID go as list
 * commands of 50 IDs (engine/facts/by-id.ts): 300 events that need 300 leads
 * and their contacts cost two requests, not six hundred reads.
 */
import { isEntityName, loadFacts, loadRecords, type LoadTarget, type RecordCache, type RecordRefLike, type TickReader } from '../facts/index.js';
import { redactValue } from '../redact.js';
import type { Facts } from '../rules/index.js';
import type { Run } from './run.js';

export interface Loaded {
  run: Run;
  /** A read failed (a "not found" is not a failure: it loads as null). */
  error?: string;
  /** The portal was unreachable or busy: read again later, without spending the rule's retries. */
  transient?: boolean;
}

/** Load each run's facts in place (templates also see `volatile(run)`: `now`, `env`); the trace records what was loaded. */
export async function load(runs: Run[], reader: TickReader, records: RecordCache, volatile: (run: Run) => Facts): Promise<Loaded[]> {
  const targets = runs.map((run) => {
    const t: LoadTarget = { rule: run.rule, facts: run.facts, volatile: volatile(run), loaded: [] };
    if (run.record && run.record.load !== false) t.record = run.record;
    return t;
  });
  await loadFacts(targets, reader, records);
  // Several rules on one event load the same record object: one redacted copy serves all their traces.
  const copies = new Map<unknown, unknown>();
  const copy = (v: unknown): unknown => {
    if (!v || typeof v !== 'object') return redactValue(v);
    let c = copies.get(v);
    if (c === undefined) copies.set(v, (c = redactValue(v)));
    return c;
  };
  return runs.map((run, i) => {
    const t = targets[i]!;
    run.trace.loaded = Object.fromEntries(t.loaded.map((n) => [n, copy(run.facts[n])]));
    const out: Loaded = { run };
    if (t.error) out.error = t.error;
    if (t.transient) out.transient = true;
    return out;
  });
}

/**
 * Read the records the runs' update actions will diff against (when their entity
 * and id render now). A failure is not fatal: without the record an update
 * sends every field it names, which is correct, only less frugal.
 */
export async function loadUpdateTargets(runs: Array<{ run: Run; facts: Facts }>, reader: TickReader, records: RecordCache): Promise<unknown> {
  const refs = runs.flatMap(({ run, facts }) => updateTargets(run, facts));
  try {
    await loadRecords(refs, reader, records);
    return undefined;
  } catch (err) {
    return err;
  }
}

function updateTargets(run: Run, facts: Facts): RecordRefLike[] {
  const out: RecordRefLike[] = [];
  for (const a of run.rule.actions) {
    if (a.kind !== 'update') continue;
    try {
      const cfg = a.config.render(facts) as Record<string, unknown>;
      const id = cfg?.id;
      if (!isEntityName(cfg?.entity) || (typeof id !== 'string' && typeof id !== 'number') || String(id) === '') continue;
      const own = run.record;
      // A foreach row is the loaded record of its own entity: no extra read.
      if (own && own.load === false && own.entity === cfg.entity && own.id === String(id)) continue;
      const ref: RecordRefLike = { entity: cfg.entity, id: String(id) };
      const et = Number(cfg.entityTypeId);
      if (Number.isFinite(et) && et > 0) ref.entityTypeId = et;
      out.push(ref);
    } catch {
      // Rendered again when planned; errors surface there.
    }
  }
  return out;
}
