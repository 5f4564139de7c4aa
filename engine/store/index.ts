/**
 * The engine's durable state store: inbox, runs and traces, effect ledger, snapshots, dedupe, positions, schedules, DLQ, timers.
 * SQLite (one file, one portal) by default; on PostgreSQL, one schema per portal (engine/store/pg).
 */
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
import { openStateStoreFor } from './open.js';
import { PG_BRIDGE_DEFAULTS, PgBridge, PgStatementError, redactDatabaseUrl } from './pg/bridge.js';
import { dropPortalState, isPostgresUrl, openPgStateStore, portalKey, portalSchema } from './pg/open.js';
import { copyPortalState } from './pg/copy-state.js';

export type { RetentionPolicy, StateStore, StateStoreOptions } from './state-store.js';
export type { InboxListFilter } from './inbox-table.js';
export type { RunStatus, RunMode, RunRecord, RunSummary, ActiveRunRef, NewRun, RunPatch, RunFilter, RuleRunCounts, EffectState, EffectRecord, EffectFailure, NewEffect, RecoveryMode, Snapshot, DlqEntry } from './records.js';
export type { SourceKind, InboxItemInput, InboxItem, InboxStatus, Inbox } from './types.js';
export type { NewTimer, TimerFilter, TimerKind, TimerRecord, TimerState } from './timers-table.js';
export type { OpenStateStoreForOptions } from './open.js';
export type { PgBridgeOptions } from './pg/bridge.js';
export type { PgQueryable, PgStateStoreOptions } from './pg/open.js';
export type { PortalStateCopy } from './pg/copy-state.js';
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
  openStateStoreFor,
  openPgStateStore,
  dropPortalState,
  copyPortalState,
  isPostgresUrl,
  portalKey,
  portalSchema,
  PgBridge,
  PG_BRIDGE_DEFAULTS,
  PgStatementError,
  redactDatabaseUrl,
};
export { addToPortalInbox, type PortalInboxTarget } from './pg/inbox-insert.js';
