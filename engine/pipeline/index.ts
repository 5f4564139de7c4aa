/** The pipeline: createEngine() and its tick/planItems, with the types the daemon and dry-run use. */
import { createEngine, DEFAULTS, type Engine } from './engine.js';
import { changedMatches, diffRecord, isRealChange, DERIVED_FIELDS, VOLATILE_FIELDS, type Changes } from './changes.js';
import { ForeachLimitError } from './errors.js';
import { eventRecord, matchRules, triggerFacts, triggerKeyOf, type RecordRef } from './trigger.js';

export { createEngine, DEFAULTS as ENGINE_DEFAULTS, changedMatches, diffRecord, isRealChange, DERIVED_FIELDS, VOLATILE_FIELDS, ForeachLimitError, eventRecord, matchRules, triggerFacts, triggerKeyOf };
export type { Engine, Changes, RecordRef };
export type { CreateEngineOptions, EngineTuning, EngineStats, FetchLike, Plan, PlanCallOut, PlanFiringOut, TickReport } from './types.js';
