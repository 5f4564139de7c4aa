/** The offline source's own error. */
import { B24RulesError } from '../errors.js';

/**
 * The portal refused to bind the offline events the rules need, for a reason
 * retrying will not fix (no administrator rights, the plan, webhook auth...:
 * OFFLINE_SOURCE_FAILED, with a hint for that reason), or it answered a
 * reservation that could never be cleared (OFFLINE_NO_PROCESS_ID; the source
 * polls again), or its plan lacks a feature offline events need
 * (OFFLINE_FEATURE_MISSING, offline-features.ts).
 */
export class OfflineSourceError extends B24RulesError {
  constructor(message: string, options: { cause?: unknown; code?: 'OFFLINE_SOURCE_FAILED' | 'OFFLINE_NO_PROCESS_ID' | 'OFFLINE_FEATURE_MISSING' } = {}) {
    super(options.code ?? 'OFFLINE_SOURCE_FAILED', message, options.cause === undefined ? {} : { cause: options.cause });
  }
}
