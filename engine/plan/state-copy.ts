/**
 * A private copy of the daemon's state file for a dry-run, so the plan sees
 * what the daemon knows (dedupe keys used, record snapshots for `changed:`,
 * round-robin positions) while nothing the planning does can touch the real
 * file. The copy is taken through SQLite (VACUUM INTO), so committed WAL
 * content is included and a running daemon is not disturbed.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { B24RulesError } from '../errors.js';
import { openDatabase, openStateStore, type StateStore } from '../store/index.js';

export interface StateCopy {
  store: StateStore;
  /** Close the copy and delete it. */
  dispose(): void;
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
