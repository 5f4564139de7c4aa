/** Errors of the state store. */
import { B24RulesError, type B24RulesErrorOptions } from '../errors.js';

/** The state file cannot be opened, is newer than this version, or is corrupt. */
export class StateStoreError extends B24RulesError {
  constructor(message: string, options: B24RulesErrorOptions = {}) {
    super('STATE_STORE', message, { kind: 'operational', ...options });
  }
}

/** A DLQ entry, run or item named by the caller does not exist. */
export class StateNotFoundError extends B24RulesError {
  constructor(what: string, id: number | string) {
    super('STATE_NOT_FOUND', `${what} ${id} does not exist in the state store`, { kind: 'user' });
  }
}
