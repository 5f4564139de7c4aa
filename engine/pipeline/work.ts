/** A run while the pipeline works on it (in memory; the run row holds its durable part). */
import { isEntityName } from '../facts/entities.js';
import type { RecordRefLike } from '../facts/loader.js';
import type { CompiledRule, EntityName, Facts } from '../rules/types.js';
import type { InboxItemInput } from '../store/types.js';
import type { RecordRef } from './trigger.js';

/** Run-internal bookkeeping kept in the persisted facts under this key (not a valid template name). */
export const RUN_META = '$run';

export interface RunMeta {
  /** The record the run is about; `load: false` when its data came with the trigger (a foreach row). */
  record?: RecordRef & { load?: boolean };
  /** Change set computed when the run was evaluated. */
  changes?: Record<string, { from: unknown; to: unknown }>;
}

export interface RunWork {
  runId: number | null;
  rule: CompiledRule;
  item: InboxItemInput & { id: number; attempts?: number };
  triggerKey: string;
  recordKey: string;
  meta: RunMeta;
  /** Facts without `now` and `env` (those are added fresh at each use). */
  facts: Facts;
  cursor: number;
  attempts: number;
  concurrencyKey: string | null;
  dedupeKey: string | null;
  trace: Record<string, unknown>;
}

/** Records the run's update actions will diff against, when their entity and id render with `facts` now. */
export function updateTargets(w: RunWork, facts: Facts): RecordRefLike[] {
  const out: RecordRefLike[] = [];
  for (const a of w.rule.actions) {
    if (a.kind !== 'update') continue;
    try {
      const cfg = a.config.render(facts) as Record<string, unknown>;
      const id = cfg?.id;
      if (!isEntityName(cfg?.entity) || (typeof id !== 'string' && typeof id !== 'number') || String(id) === '') continue;
      const own = w.meta.record;
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

/** A foreach row as the loaded record of its own entity (for update diffs). */
export function rowRecord(w: RunWork): { entity: EntityName; id: string; record: Record<string, unknown> } | undefined {
  const ref = w.meta.record;
  const fe = w.rule.foreach;
  if (!ref || ref.load !== false || !fe) return undefined;
  const row = w.facts[fe.as];
  return row && typeof row === 'object' ? { entity: ref.entity, id: ref.id, record: row as Record<string, unknown> } : undefined;
}
