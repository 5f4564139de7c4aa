/** Errors of the state store. */
import { B24RulesError, type B24RulesErrorOptions } from '../errors.js';

/**
 * The state file cannot be opened or prepared (STATE_STORE), or a newer b24-rules wrote it (STATE_FILE_TOO_NEW),
 * or (PostgreSQL) another engine holds the portal's state exclusively (STATE_PORTAL_BUSY).
 */
export class StateStoreError extends B24RulesError {
  constructor(message: string, options: B24RulesErrorOptions & { code?: 'STATE_STORE' | 'STATE_FILE_TOO_NEW' | 'STATE_PORTAL_BUSY' } = {}) {
    const { code = 'STATE_STORE', ...rest } = options;
    super(code, message, rest);
  }
}

/** A DLQ entry, run or item named by the caller does not exist. */
export class StateNotFoundError extends B24RulesError {
  constructor(what: string, id: number | string) {
    super('STATE_NOT_FOUND', `${what} ${id} does not exist in the state store`, { kind: 'user' });
  }
}
