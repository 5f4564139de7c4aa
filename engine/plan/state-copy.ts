/**
 * A private copy of the daemon's state for a dry-run, so the plan sees
 * what the daemon knows (dedupe keys used, record snapshots for `changed:`,
 * round-robin positions) while nothing the planning does can touch the real
 * state. A state file is copied through SQLite (VACUUM INTO), so committed WAL
 * content is included and a running daemon is not disturbed. A portal's state
 * in PostgreSQL (a worker deployment) is copied into a temporary SQLite file
 * from one read-only snapshot (copyPortalState): the workers serving it are
 * not disturbed either, and nothing is written to the database.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { B24RulesError } from '../errors.js';
import { findPortalAt } from '../portals/index.js';
import { copyPortalState, openDatabase, openStateStore, type StateStore } from '../store/index.js';

export interface StateCopy {
  store: StateStore;
  /** Close the copy and delete it. */
  dispose(): void;
}

/** A copy of one portal's state in PostgreSQL. */
export interface PgStateCopy extends StateCopy {
  /** The portal's member_id (it may have been named by its domain). */
  memberId: string;
  /** False when the portal has no state yet (never served): the copy is empty. */
  found: boolean;
}

/**
 * Copy the state of `portal` (its member_id or domain, in the control plane of the database at `url`)
 * into a private SQLite file. PORTAL_NOT_FOUND for an unknown portal; the database is only read.
 */
export async function openPgStateCopy(url: string, portal: string, now: () => number): Promise<PgStateCopy> {
  const { memberId } = await findPortalAt(url, portal);
  const dir = mkdtempSync(join(tmpdir(), 'rules-dry-run-state-'));
  const copy = join(dir, 'state.db');
  let found: boolean;
  try {
    // Created owner-only and migrated to this version's schema, then filled row by row.
    openStateStore(copy, { now, synchronous: 'NORMAL' }).close();
    const db = openDatabase(copy);
    try {
      ({ found } = await copyPortalState(url, memberId, db));
    } finally {
      db.close();
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const store = openStateStore(copy, { now, synchronous: 'NORMAL' });
  return {
    store,
    memberId,
    found,
    dispose() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function openStateCopy(path: string, now: () => number): StateCopy {
  const full = resolve(path);
  if (!existsSync(full)) throw new B24RulesError('STATE_FILE_MISSING', `no state file at ${full}: pass the daemon's state file (default .rules/state.db) to --state, or leave --state out`, { kind: 'user' });
  const dir = mkdtempSync(join(tmpdir(), 'rules-dry-run-state-'));
  const copy = join(dir, 'state.db');
  try {
    const db = openDatabase(full, { readonly: true, fileMustExist: true });
    try {
      db.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`);
    } finally {
      db.close();
    }
    chmodSync(copy, 0o600);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new B24RulesError('STATE_FILE_UNREADABLE', `cannot read the state file ${full}: ${(err as Error).message}`, { kind: 'user', cause: err });
  }
  const store = openStateStore(copy, { now, synchronous: 'NORMAL' });
  return {
    store,
    dispose() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
