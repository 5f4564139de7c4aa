/**
 * A run: one rule acting on one trigger (and, for `foreach`, one row), as every
 * stage sees it. The run row (engine/store RunRecord) holds its durable part;
 * `decodeRun` and `encodeFacts` are the one codec between the two, so no stage
 * pulls the row apart or spreads bookkeeping back into it.
 *
 * A run lives in memory for the tick that matched or decoded it (the tick's
 * `live` map): stages pass the object on, and a row is decoded only on a new
 * tick or after a restart. A run matched this tick has no row until it is
 * settled (`id: null`).
 */
import type { CompiledRule, EntityName, Facts } from '../rules/index.js';
import type { InboxItemInput, NewRun, RunRecord } from '../store/index.js';
import type { Changes } from './changes.js';

/** The record a run is about; `load: false` when its data came with the trigger (a foreach row). */
export interface RunRecordRef {
  entity: EntityName;
  id: string;
  entityTypeId?: number;
  load?: boolean;
}

/** The trigger of a run: an inbox item (dry-run items get negative ids). */
export type RunItem = InboxItemInput & { id: number; attempts?: number };

export interface Run {
  /** Row id; null while the run lives only in memory (dry-run). */
  id: number | null;
  rule: CompiledRule;
  item: RunItem;
  triggerKey: string;
  recordKey: string;
  record?: RunRecordRef;
  /** The change set the run was evaluated with (field-change triggers). */
  changes?: Changes;
  /** Trigger data, loaded records, `let` values, picks; never `now` or `env` (added fresh at each use). */
  facts: Facts;
  /** Index of the next action to plan. */
  cursor: number;
  attempts: number;
  concurrencyKey: string | null;
  dedupeKey: string | null;
  /** The journal entry being built (redacted values only). */
  trace: Record<string, unknown>;
}

/** Where the run's own bookkeeping sits in the facts column: not a valid template name, so no rule can read it. */
const META = '$run';

interface Meta {
  record?: RunRecordRef;
  changes?: Changes;
}

/** The facts column of a run's row. */
export function encodeFacts(run: Run): Record<string, unknown> {
  const meta: Meta = {};
  if (run.record) meta.record = run.record;
  if (run.changes) meta.changes = run.changes;
  return { ...run.facts, [META]: meta };
}

function decodeFacts(column: Record<string, unknown> | null): { facts: Facts; meta: Meta } {
  const { [META]: meta, ...facts } = column ?? {};
  return { facts, meta: (meta as Meta | undefined) ?? {} };
}

/** The start of every run's journal entry: what triggered it, and which rule. */
export function baseTrace(item: RunItem, rule: CompiledRule): Record<string, unknown> {
  return { trigger: { source: item.source, key: item.key, event: item.event, ruleId: item.ruleId }, rule: { id: rule.id, hash: rule.hash, file: rule.location.file } };
}

/**
 * The run a row holds, with its rule and trigger. The trace is written when the
 * run finishes or its tick ends: an active row without one was cut off by a
 * restart, and goes on with a note saying so (its calls are in the ledger).
 */
export function decodeRun(row: RunRecord, rule: CompiledRule, item: RunItem): Run {
  const { facts, meta } = decodeFacts(row.facts);
  let trace = row.trace;
  if (Object.keys(trace).length === 0) {
    trace = baseTrace(item, rule);
    if (row.status !== 'new') trace.resumed = 'the engine restarted during this run: its trace up to then was not kept (its calls are in the ledger)';
  }
  const run: Run = {
    id: row.id,
    rule,
    item,
    triggerKey: row.triggerKey,
    recordKey: row.recordKey,
    facts,
    cursor: row.cursor,
    attempts: row.attempts,
    concurrencyKey: row.concurrencyKey,
    dedupeKey: row.dedupeKey,
    trace,
  };
  if (meta.record) run.record = meta.record;
  if (meta.changes) run.changes = meta.changes;
  return run;
}

/** The change set stored with a run's facts column, if it was evaluated. */
export function storedChanges(facts: Record<string, unknown> | null): Changes | undefined {
  return decodeFacts(facts).meta.changes;
}

/** The row of a run that is stored now (it was matched this tick): its bookkeeping and facts, the trace left for its finish. */
export function newRunRow(run: Run, row: Omit<NewRun, 'itemId' | 'ruleId' | 'ruleHash' | 'triggerKey' | 'recordKey'> = {}): NewRun {
  return {
    itemId: run.item.id,
    ruleId: run.rule.id,
    ruleHash: run.rule.hash,
    triggerKey: run.triggerKey,
    recordKey: run.recordKey,
    concurrencyKey: run.concurrencyKey,
    dedupeKey: run.dedupeKey,
    attempts: run.attempts,
    ...row,
  };
}

/** A foreach row as the loaded record of its own entity (for update diffs). */
export function rowRecord(run: Run): { entity: EntityName; id: string; record: Record<string, unknown> } | undefined {
  const ref = run.record;
  const fe = run.rule.foreach;
  if (!ref || ref.load !== false || !fe) return undefined;
  const row = run.facts[fe.as];
  return row && typeof row === 'object' ? { entity: ref.entity, id: ref.id, record: row as Record<string, unknown> } : undefined;
}
