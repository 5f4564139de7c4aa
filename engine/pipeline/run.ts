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
import type { InboxItemInput, NewRun, RunMode, RunRecord } from '../store/index.js';
import { diffRecord, type Changes } from './changes.js';

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
  /** The change set was the record's first sight (no snapshot): every field, from nothing. Stored as this mark, not as the fields. */
  firstSight?: boolean;
  /**
   * The run stopped at a `delay:` and waits on (or was woken by) this timer: when it starts
   * again its record and loads are read again, the trigger is not checked again, and the
   * condition only with `recheck` (engine/pipeline/timers.ts).
   */
  resume?: { timerId: number; recheck: boolean };
  /** The run acted as its group's winner (groups.ts): the group's name, kept with the run for good. */
  won?: string;
  /** Trigger data, loaded records, `let` values, picks; never `now` or `env` (added fresh at each use). */
  facts: Facts;
  /** Index of the next action to plan. */
  cursor: number;
  attempts: number;
  concurrencyKey: string | null;
  dedupeKey: string | null;
  /** The journal entry being built (redacted values only). */
  trace: Record<string, unknown>;
  /** A shadow run (engine/pipeline/shadow.ts): its rule was `mode: shadow` when it was matched; it keeps that mode. */
  shadow?: true;
}

/** Where the run's own bookkeeping sits in the facts column: not a valid template name, so no rule can read it. */
const META = '$run';

interface Meta {
  record?: RunRecordRef;
  changes?: Changes;
  firstSight?: true;
  resume?: { timerId: number; recheck: boolean };
  won?: string;
}

/** The change set as templates see it (`changes.FIELD.from/to`). */
export function changesFacts(changes: Changes): Record<string, { from: unknown; to: unknown }> {
  return Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, { from: v.from ?? null, to: v.to }]));
}

/**
 * The facts column of a run's row. `whole`: everything a later round plans from
 * (loaded records, `let` values, picks), the change set with it; otherwise only the
 * change set a DLQ retry of the item reuses, for a run past its last action, where a
 * first sight's (every field again) is a mark the retry rebuilds from the record it
 * reads again. A whole row keeps the first sight's change set itself: its copy of
 * the record is the tick's cached one, which the engine's own updates change.
 */
export function encodeFacts(run: Run, whole = true): Record<string, unknown> {
  const meta: Meta = {};
  if (run.firstSight) meta.firstSight = true;
  if (run.changes && (whole || !run.firstSight)) meta.changes = run.changes;
  if (run.won) meta.won = run.won;
  if (!whole) return { [META]: meta };
  if (run.record) meta.record = run.record;
  if (run.resume) meta.resume = run.resume;
  if (!run.firstSight || !('changes' in run.facts)) return { ...run.facts, [META]: meta };
  const { changes: _rebuilt, ...facts } = run.facts;
  return { ...facts, [META]: meta };
}

function decodeFacts(column: Record<string, unknown> | null): { facts: Facts; meta: Meta } {
  const { [META]: meta, ...facts } = column ?? {};
  return { facts, meta: (meta as Meta | undefined) ?? {} };
}

/** The start of every run's journal entry: what triggered it, and which rule. */
export function baseTrace(item: RunItem, rule: CompiledRule, shadow = false): Record<string, unknown> {
  return {
    trigger: { source: item.source, key: item.key, event: item.event, ruleId: item.ruleId },
    rule: { id: rule.id, hash: rule.hash, file: rule.location.file },
    ...(shadow ? { mode: 'shadow: its calls are journaled, never sent' } : {}),
  };
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
    trace = baseTrace(item, rule, row.mode === 'shadow');
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
  if (row.mode === 'shadow') run.shadow = true;
  if (meta.record) run.record = meta.record;
  if (meta.changes) run.changes = meta.changes;
  if (meta.resume) run.resume = meta.resume;
  if (meta.won) run.won = meta.won;
  if (meta.firstSight) {
    run.firstSight = true;
    // A row stored before first sights kept their change set has only the mark: rebuilt from its record.
    const rec = run.record ? facts[run.record.entity] : undefined;
    if (!run.changes && rec && typeof rec === 'object') run.changes = diffRecord(undefined, rec as Record<string, unknown>);
    if (run.changes) facts.changes = changesFacts(run.changes);
  }
  return run;
}

/** The change set stored with a run's facts column, if it was evaluated: `first-sight` when it was every field of a record seen for the first time. */
export function storedChanges(facts: Record<string, unknown> | null): Changes | 'first-sight' | undefined {
  const { meta } = decodeFacts(facts);
  return meta.firstSight ? 'first-sight' : meta.changes;
}

/**
 * The change set an earlier run of the same item stored, for a retry of the item (its record's snapshot has
 * moved on since). A live run takes only a live run's: a shadow run's was computed against its own snapshot,
 * which may differ. A shadow run takes a live run's, or its own rule's.
 */
export function earlierChanges(priors: ReadonlyArray<{ id: number; ruleId: string; mode: RunMode; facts: Record<string, unknown> | null }>, run: Pick<Run, 'id' | 'shadow'> & { rule: { id: string } }): Changes | 'first-sight' | undefined {
  for (const prior of priors) {
    if (prior.id === run.id) continue;
    if (prior.mode === 'shadow' && (!run.shadow || prior.ruleId !== run.rule.id)) continue;
    const changes = storedChanges(prior.facts);
    if (changes) return changes;
  }
  return undefined;
}

/** The group a stored run won (its facts column's mark), if it did. */
export function wonGroupOf(facts: Record<string, unknown> | null): string | undefined {
  return decodeFacts(facts).meta.won;
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
    ...(run.shadow ? { mode: 'shadow' as const } : {}),
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
