/** Rule loading: files → validated, compiled rules plus diagnostics (docs/rule-format.md). */
export { loadRules, loadRuleSource, listRuleFiles, type LoadOptions } from './load-rules.js';
export { compileRule, ruleHash, canonicalJson, actionKind, isWriteAction, checkCron, type CompileContext } from './compile-rule.js';
export { defaultCatalog, indexCatalog, isReadMethod, type CatalogIndex, type CatalogMethod, type MethodCatalog } from './catalog.js';
export { formatDiagnostics, formatSummary, DIAGNOSTICS_FORMAT_VERSION, DIAGNOSTICS_FORMATS, type DiagnosticsFormat } from './format-diagnostics.js';
export { ruleValidator, schemaValidator, validateRuleDocument, ruleSchemas, RULE_SCHEMA } from './schema.js';
export { eventEntity } from './event-entity.js';
export { DEFAULTS as LOADER_DEFAULTS } from './limits.js';
export type * from './types.js';
