/** `{{ }}` templates: parsing, filters, compilation. Syntax in docs/rule-format.md. */
import { compileTemplate, compileValue, type CompiledTemplate, type CompiledValue } from './compile.js';
import { TemplateError } from './errors.js';
import { FILTER_NAMES, FILTERS, type FilterDef } from './filters.js';
import { hasTemplate, parseTemplate, type FilterCall, type TemplateExpr, type TemplatePart } from './parse.js';
import { resolvePath } from './resolve.js';

export type { CompiledTemplate, CompiledValue, FilterCall, FilterDef, TemplateExpr, TemplatePart };
export { compileTemplate, compileValue, FILTER_NAMES, FILTERS, hasTemplate, parseTemplate, resolvePath, TemplateError };
