/**
 * The engine's public surface for programs that embed it: open a state store,
 * create the engine over a client and compiled rules, tick it. Everything
 * else is reached through its own folder's index.ts.
 */
export { openStateStore, type StateStore, type StateStoreOptions } from './store/index.js';
export { createEngine, ENGINE_DEFAULTS, type CreateEngineOptions, type Engine, type EngineTuning, type EngineStats, type FetchLike, type Plan, type TickReport } from './pipeline/index.js';
