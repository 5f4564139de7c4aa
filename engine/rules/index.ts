/** Rule loading: files → validated, compiled rules plus diagnostics (docs/rule-format.md). */
import { canonicalJson } from '../canonical-json.js';
import { actionKind, isWriteAction } from './action-kind.js';
import { defaultCatalog, indexCatalog, isReadMethod, type CatalogIndex, type CatalogMethod, type MethodCatalog } from './catalog.js';
import { compileRule } from './compile-rule.js';
import { checkCron } from './cron.js';
import { eventEntity } from './event-entity.js';
import { DIAGNOSTICS_FORMAT_VERSION, DIAGNOSTICS_FORMATS, formatDiagnostics, formatSummary, type DiagnosticsFormat } from './format-diagnostics.js';
import { DEFAULTS as LOADER_DEFAULTS } from './limits.js';
import { listRuleFiles, loadRuleSource, loadRules, type LoadOptions } from './load-rules.js';
import { ruleHash } from './rule-hash.js';
import { parseSource, type SourceDocument } from './source.js';
import { validationStepSummary } from './step-summary.js';
import { checkWriteConflicts, WRITE_CONFLICT, type ConflictDiagnostic, type WriteConflictOptions } from './write-conflicts.js';
import type { CompileContext } from './rule-checker.js';
import { CALENDAR_FILES, isCalendarFile } from './calendars.js';
import { RULE_SCHEMA, ruleSchemas, ruleValidator, schemaValidator, validateRuleDocument } from './schema.js';
import type * as Types from './types.js';

export type ActionSpec = Types.ActionSpec;
export type CompiledRule = Types.CompiledRule;
export type Condition = Types.Condition;
export type DelaySpec = Types.DelaySpec;
export type WaitSpec = Types.WaitSpec;
export type Diagnostic = Types.Diagnostic;
export type EntityName = Types.EntityName;
export type Expression = Types.Expression;
export type Facts = Types.Facts;
export type FieldChange = Types.FieldChange;
export type ForeachSpec = Types.ForeachSpec;
export type LoadResult = Types.LoadResult;
export type LoadSpec = Types.LoadSpec;
export type NameUse = Types.NameUse;
export type SourceLocation = Types.SourceLocation;
export type Template = Types.Template;
export type TemplatedValue = Types.TemplatedValue;
export type TriggerSpec = Types.TriggerSpec;

export type { CatalogIndex, CatalogMethod, CompileContext, ConflictDiagnostic, SourceDocument, DiagnosticsFormat, LoadOptions, MethodCatalog, WriteConflictOptions };
export {
  actionKind,
  CALENDAR_FILES,
  isCalendarFile,
  canonicalJson,
  checkCron,
  checkWriteConflicts,
  compileRule,
  defaultCatalog,
  DIAGNOSTICS_FORMAT_VERSION,
  DIAGNOSTICS_FORMATS,
  eventEntity,
  formatDiagnostics,
  formatSummary,
  indexCatalog,
  isReadMethod,
  isWriteAction,
  listRuleFiles,
  LOADER_DEFAULTS,
  loadRules,
  loadRuleSource,
  parseSource,
  RULE_SCHEMA,
  ruleHash,
  ruleSchemas,
  ruleValidator,
  schemaValidator,
  validateRuleDocument,
  validationStepSummary,
  WRITE_CONFLICT,
};
