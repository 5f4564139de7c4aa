/** The engine's durable state store (SQLite): inbox, runs and traces, effect ledger, snapshots, dedupe, positions, schedules, DLQ, timers. */
import { DlqTable } from './dlq-table.js';
import { EffectsTable } from './effects-table.js';
import { StateNotFoundError, StateStoreError } from './errors.js';
import { InboxTable } from './inbox-table.js';
import { DedupeTable, PositionsTable, SchedulesTable, SnapshotsTable } from './kv-tables.js';
import { FINAL_RUN_STATUSES } from './records.js';
import { RunsTable } from './runs-table.js';
import { openDatabase } from './sqlite.js';
import { TimersTable } from './timers-table.js';
import { DEFAULT_RETENTION, DEFAULTS as STATE_STORE_DEFAULTS, openStateStore } from './state-store.js';

export type { RetentionPolicy, StateStore, StateStoreOptions } from './state-store.js';
export type { InboxListFilter } from './inbox-table.js';
export type { RunStatus, RunRecord, RunSummary, ActiveRunRef, NewRun, RunPatch, RunFilter, RuleRunCounts, EffectState, EffectRecord, EffectFailure, NewEffect, RecoveryMode, Snapshot, DlqEntry } from './records.js';
export type { SourceKind, InboxItemInput, InboxItem, InboxStatus, Inbox } from './types.js';
export type { NewTimer, TimerFilter, TimerKind, TimerRecord, TimerState } from './timers-table.js';
export {
  openStateStore,
  STATE_STORE_DEFAULTS,
  DEFAULT_RETENTION,
  InboxTable,
  RunsTable,
  EffectsTable,
  SnapshotsTable,
  DedupeTable,
  PositionsTable,
  SchedulesTable,
  DlqTable,
  TimersTable,
  StateStoreError,
  StateNotFoundError,
  FINAL_RUN_STATUSES,
  openDatabase,
};
