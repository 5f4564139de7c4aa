/** Where the daemon keeps its state, and opening it for the read-side commands (`runs`, `trace`, `dlq`). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { B24RulesError } from '../errors.js';
import { openStateStore, type StateStore } from '../store/index.js';

/** Default state file, relative to the working directory. */
export const DEFAULT_STATE_PATH = '.rules/state.db';

export class StateFileMissingError extends B24RulesError {
  constructor(readonly path: string) {
    super('STATE_FILE_MISSING', `no state file at ${path}: start the daemon (rules run) first, or pass --state PATH`, { kind: 'user' });
  }
}

/** Open a state file that must already exist (read-side commands never create one). */
export function openExistingState(path: string = DEFAULT_STATE_PATH): StateStore {
  const full = resolve(path);
  if (!existsSync(full)) throw new StateFileMissingError(full);
  return openStateStore(full);
}
