/** The engine's durable state store (SQLite). */
export { openStateStore, DEFAULTS as STATE_STORE_DEFAULTS } from './state-store.js';
export type { StateStore, StateStoreOptions } from './state-store.js';
export { InboxTable } from './inbox-table.js';
export type { InboxListFilter } from './inbox-table.js';
export { RunsTable } from './runs-table.js';
export { EffectsTable } from './effects-table.js';
export { SnapshotsTable, DedupeTable, PositionsTable, SchedulesTable } from './kv-tables.js';
export { DlqTable } from './dlq-table.js';
export { StateStoreError, StateNotFoundError } from './errors.js';
export { FINAL_RUN_STATUSES } from './records.js';
export type { RunStatus, RunRecord, NewRun, RunPatch, RunFilter, EffectState, EffectRecord, NewEffect, RecoveryMode, Snapshot, DlqEntry } from './records.js';
export type { SourceKind, InboxItemInput, InboxItem, InboxStatus, Inbox } from './types.js';
