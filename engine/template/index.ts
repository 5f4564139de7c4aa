/** `{{ }}` templates: parsing, filters, compilation. Syntax in docs/rule-format.md. */
export { compileTemplate, compileValue, type CompiledTemplate, type CompiledValue } from './compile.js';
export { TemplateError } from './errors.js';
export { FILTERS, FILTER_NAMES, type FilterDef } from './filters.js';
export { hasTemplate, parseTemplate, type FilterCall, type TemplateExpr, type TemplatePart } from './parse.js';
export { resolvePath } from './resolve.js';
export { closest, editDistance } from './suggest.js';
