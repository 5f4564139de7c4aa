/** The executor: effect keys, batch packing, sending, and recovery of in-doubt effects. */
import { effectKey, runIdentity } from './effect-key.js';
import { executeEffects, type ExecuteReport, type ExecutorDeps } from './executor.js';
import { MAX_BATCH, packBatches } from './packer.js';
import { findCreated, recoverInDoubt, type RecoveryDeps } from './recovery.js';

export { effectKey, runIdentity, executeEffects, MAX_BATCH, packBatches, findCreated, recoverInDoubt };
export type { ExecuteReport, ExecutorDeps, RecoveryDeps };
