/** The engine's public exports: the state store, the pipeline, actions, the executor and the facts loader. */
export * from './store/index.js';
export * from './pipeline/index.js';
export { ACTIONS, actionKind, ActionConfigError, ORIGINATOR_ID, originIdOf } from './actions/index.js';
export type { ActionKind, ActionOutcome, PlanContext, PlannedCall, HttpRequestPlan, LookupSpec } from './actions/index.js';
export { effectKey, runIdentity, executeEffects, MAX_BATCH, packBatches, recoverInDoubt } from './executor/index.js';
export { ENTITIES, entityOfEvent, eventRecordId } from './facts/entities.js';
export { TickReader } from './facts/reader.js';
export { loadFacts, RecordCache } from './facts/loader.js';
