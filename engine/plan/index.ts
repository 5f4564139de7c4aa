/** Plans: what `rules dry-run` computes, prints and saves, and what `rules apply --plan` carries out. */
export { dryRun, type DryRunRequest, type DryRunResult, type PortalSource } from './dry-run.js';
export type { FixturePortal, FixturePortalOptions, PortalCall, StartFixturePortal } from './fixture-portal.js';
export { toPlanDocument, type PlanContext } from './from-engine.js';
export { renderPlan, PLAN_FORMATS } from './render.js';
export { renderText } from './render-text.js';
export { renderJson } from './render-json.js';
export { renderMarkdown } from './render-markdown.js';
export { renderGithub, stepSummary, escapeData, escapeProperty } from './render-github.js';
export { estimate, isRatePlan, RATE_LIMITS } from './estimate.js';
export { applyPlan, readPlanFile, staleReads, type ApplyPlanResult, type AppliedCall } from './apply-plan.js';
export { recordReads, entityOfMethod, rowsOfResult, dateModifyOf, fingerprint, type ReadRecorder } from './read-recorder.js';
export { parseEvents, readEventsFile, eventItems, scheduleItem, scheduleItemsAt, scheduleTickAt, formItem, manualItem, parseAt, type EventInput } from './inputs.js';
export { openStateCopy, type StateCopy } from './state-copy.js';
export { applyPlanCommand, notApplicable } from './apply-plan.js';
export { canonicalJson, sortKeys } from '../canonical-json.js';
export { hashValue, compareIds } from './canonical.js';
export { InputFileError, PlanStaleError } from './errors.js';
export * from './types.js';
