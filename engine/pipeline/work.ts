/** A run while the pipeline works on it (in memory; the run row holds its durable part). */
import type { CompiledRule, Facts } from '../rules/types.js';
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
