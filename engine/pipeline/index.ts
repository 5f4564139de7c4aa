/** The pipeline: createEngine() and its tick/planItems, with the types the daemon and dry-run use. */
import { createEngine } from './engine.js';
import { changedMatches, diffRecord, isRealChange, DERIVED_FIELDS, VOLATILE_FIELDS, type Changes } from './changes.js';
import { DEFAULTS } from './context.js';
import { effectKey, runIdentity } from './effect-key.js';
import { ForeachLimitError } from './errors.js';
import { eventRecord, matchRules, triggerFacts, triggerKeyOf, type RecordRef } from './trigger.js';
import { TIMER_SOURCE } from './timer-logic.js';
import { cancelTimer } from './timers.js';

export {
  createEngine,
  DEFAULTS as ENGINE_DEFAULTS,
  changedMatches,
  diffRecord,
  isRealChange,
  DERIVED_FIELDS,
  VOLATILE_FIELDS,
  ForeachLimitError,
  eventRecord,
  matchRules,
  triggerFacts,
  triggerKeyOf,
  effectKey,
  runIdentity,
  cancelTimer,
  TIMER_SOURCE,
};
export type { Changes, RecordRef };
export type { CreateEngineOptions, Engine, EngineTuning, EngineStats, FetchLike, Plan, PlanCallOut, PlanFiringOut, PlanTimerOut, TickReport } from './types.js';
