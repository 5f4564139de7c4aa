/**
 * The engine's durable state: one SQLite file (better-sqlite3, WAL) holding the
 * inbox, runs and their traces, the effect ledger, snapshots, dedupe keys,
 * round-robin positions, schedule bookkeeping and the dead-letter queue.
 *
 * Durability: `synchronous = FULL`. In WAL mode NORMAL survives a process crash
 * but may lose the last commits on power loss; an outgoing-webhook source answers
 * HTTP 200 right after `inbox.add` commits, so that commit must be on disk.
 *
 * Privacy: the file, its `-wal` and its `-shm` are owner-only (0600) from the
 * first open. The ledger keeps request params (http headers may carry API
 * keys) and the inbox keeps payloads (people's e-mails and phones); the WAL
 * holds them too until a checkpoint.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, type SqlDatabase } from './sqlite.js';
import { DlqTable } from './dlq-table.js';
import { EffectsTable } from './effects-table.js';
import { StateStoreError } from './errors.js';
import { InboxTable } from './inbox-table.js';
import { DedupeTable, PositionsTable, SchedulesTable, SnapshotsTable } from './kv-tables.js';
import { RunsTable } from './runs-table.js';
import { MIGRATIONS } from './schema.js';
import { TimersTable } from './timers-table.js';

export interface StateStoreOptions {
  /** The clock (ms since epoch) for every timestamp the store writes. @default Date.now */
  now?: () => number;
  /** `FULL` (default) or `NORMAL`; see the module comment. @default 'FULL' */
  synchronous?: 'FULL' | 'NORMAL';
  /** Wait this long for a lock held by another process before failing. @default 5000 */
  busyTimeoutMs?: number;
}

/** How long finished work is kept, by the outcome of its runs (ms): a routine skip goes long before a failure. */
export interface RetentionPolicy {
  done: number;
  skipped: number;
  failed: number;
  dead: number;
}

const DAY_MS = 86_400_000;

/** @default skipped 1 day, done 7 days, failed and dead 30 days */
export const DEFAULT_RETENTION: RetentionPolicy = { skipped: DAY_MS, done: 7 * DAY_MS, failed: 30 * DAY_MS, dead: 30 * DAY_MS };

/** @default values of StateStoreOptions */
export const DEFAULTS = {
  synchronous: 'FULL',
  busyTimeoutMs: 5000,
} as const;

export interface StateStore {
  /** The file path, or `:memory:`; on PostgreSQL, the database URL without its password, `#` and the portal's schema. */
  readonly path: string;
  readonly inbox: InboxTable;
  readonly runs: RunsTable;
  readonly effects: EffectsTable;
  readonly snapshots: SnapshotsTable;
  readonly dedupe: DedupeTable;
  readonly positions: PositionsTable;
  readonly schedules: SchedulesTable;
  readonly dlq: DlqTable;
  /** Timers: delays, for: durations (issue 18). */
  readonly timers: TimersTable;
  /** The store's clock. */
  now(): number;
  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  /**
   * Retention: delete items finished and acknowledged before `before` (ms), with
   * their runs and ledger rows. DLQ entries and their items are kept, and so are
   * items with a run waiting on a timer (`delayed`: it outlives its item's
   * acknowledgement). Timers that fired or were cancelled before `before` go too;
   * pending ones stay. Returns the number of items deleted.
   */
  prune(before: number): number;
  /**
   * Retention by outcome: what `prune` deletes, and only once every run of the item is older than
   * its outcome's age in `policy` (a failed run's trace outlives thousands of skips). `now` defaults
   * to the store's clock. Returns the number of items deleted.
   */
  pruneByOutcome(policy: RetentionPolicy, now?: number): number;
  /** Schema version (number of applied migrations). */
  readonly schemaVersion: number;
  close(): void;
}

/** Open (creating if needed) the state file and bring its schema up to date. */
export function openStateStore(path: string, options: StateStoreOptions = {}): StateStore {
  const now = options.now ?? Date.now;
  let db: SqlDatabase;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      if (!createOwnerOnly(path)) tightenCompanions(path);
    }
    db = openDatabase(path);
  } catch (err) {
    throw new StateStoreError(`cannot open the state file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? DEFAULTS.synchronous}`);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    migrate(db, path);
  } catch (err) {
    db.close();
    if (err instanceof StateStoreError) throw err;
    throw new StateStoreError(`cannot prepare the state file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return assembleStateStore(db, { path, now, schemaVersion: MIGRATIONS.length, close: () => db.close() });
}

/**
 * The StateStore over an open, migrated database: a SQLite file here, a portal's schema in PostgreSQL
 * (engine/store/pg). The same table classes and the same retention run on both.
 */
export function assembleStateStore(db: SqlDatabase, options: { path: string; now: () => number; schemaVersion: number; close: () => void }): StateStore {
  const { now } = options;
  const inbox = new InboxTable(db, now);
  const runs = new RunsTable(db, now);
  return {
    path: options.path,
    inbox,
    runs,
    effects: new EffectsTable(db, now),
    snapshots: new SnapshotsTable(db, now),
    dedupe: new DedupeTable(db, now),
    positions: new PositionsTable(db, now),
    schedules: new SchedulesTable(db, now),
    dlq: new DlqTable(db, now, inbox, runs),
    timers: new TimersTable(db, now),
    now,
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    prune: (before) => prune(db, before),
    pruneByOutcome: (policy, at) => {
      const t = at ?? now();
      return prune(db, t - Math.min(policy.done, policy.skipped, policy.failed, policy.dead), {
        done: t - policy.done,
        skipped: t - policy.skipped,
        failed: t - policy.failed,
        dead: t - policy.dead,
      });
    },
    schemaVersion: options.schemaVersion,
    close: () => {
      if (db.open) options.close();
    },
  };
}

/**
 * Create `path` empty and 0600 unless it exists (false then). SQLite takes an
 * empty file for a new database and creates the `-wal` and `-shm` with the
 * main file's permissions, so all three are owner-only from the first write.
 * Chmod'ing the main file after SQLite's first write came too late: the
 * companions were already created with the umask's 0644.
 */
function createOwnerOnly(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    // The mode given to open() is narrowed by the umask; set it exactly.
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * An existing `-wal` or `-shm` looser than the main file (left by an earlier
 * version) is narrowed to it. Best effort: a reader who does not own the files
 * (`rules runs` as another user) cannot, and still opens the state.
 */
function tightenCompanions(path: string): void {
  const mode = statSync(path).mode & 0o777;
  for (const companion of [`${path}-wal`, `${path}-shm`]) {
    try {
      const current = statSync(companion).mode & 0o777;
      if ((current & ~mode) !== 0) chmodSync(companion, current & mode);
    } catch {
      // Missing (no WAL yet) or not ours to change.
    }
  }
}

function migrate(db: SqlDatabase, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StateStoreError(
      `the state file ${path} has schema version ${version}, newer than this b24-rules (${MIGRATIONS.length}); upgrade b24-rules or point it at another state file`,
      { code: 'STATE_FILE_TOO_NEW' },
    );
  }
  if (version === MIGRATIONS.length) return;
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

/** `cutoffs`: an item is kept while one of its runs finished at or after its outcome's cutoff. */
function prune(db: SqlDatabase, before: number, cutoffs?: RetentionPolicy): number {
  return db.transaction(() => {
    // A run on a timer outlives its finished item: delayed, or woken (it keeps its fired timer until it is final).
    const live = `SELECT r.id FROM runs r WHERE r.status NOT IN ('done','skipped','failed','dead') AND (r.status = 'delayed' OR EXISTS (SELECT 1 FROM timers WHERE run_id = r.id))`;
    const byOutcome = cutoffs
      ? // Typed: PostgreSQL reads an untyped parameter in a CASE as text (bigint >= text has no operator).
        ` AND id NOT IN (SELECT item_id FROM runs WHERE finished_at >= CASE status WHEN 'done' THEN CAST(? AS BIGINT) WHEN 'skipped' THEN CAST(? AS BIGINT) WHEN 'failed' THEN CAST(? AS BIGINT) WHEN 'dead' THEN CAST(? AS BIGINT) END)`
      : '';
    const args = cutoffs ? [before, cutoffs.done, cutoffs.skipped, cutoffs.failed, cutoffs.dead] : [before];
    const cond = `SELECT id FROM inbox WHERE status IN ('done','dead') AND acknowledged_at IS NOT NULL AND finished_at < ? AND id NOT IN (SELECT item_id FROM dlq)
                    AND id NOT IN (SELECT item_id FROM runs WHERE id IN (${live}))${byOutcome}`;
    db.prepare(`DELETE FROM effects WHERE run_id IN (SELECT id FROM runs WHERE item_id IN (${cond}))`).run(...args);
    db.prepare(`DELETE FROM runs WHERE item_id IN (${cond})`).run(...args);
    db.prepare(`DELETE FROM timers WHERE state IN ('fired','cancelled') AND COALESCE(fired_at, cancelled_at) < ? AND (run_id IS NULL OR run_id NOT IN (${live}))`).run(before);
    return db.prepare(`DELETE FROM inbox WHERE id IN (${cond})`).run(...args).changes;
  })();
}
