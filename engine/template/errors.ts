/** Errors raised while compiling a `{{ }}` template. */
import { B24RulesError } from '../errors.js';

/** A template that cannot be compiled. `offset` is the position in the source string (0-based). */
export class TemplateError extends B24RulesError {
  readonly offset: number;
  readonly hint?: string;

  constructor(code: 'TEMPLATE_SYNTAX' | 'TEMPLATE_UNKNOWN_FILTER' | 'TEMPLATE_FILTER_ARGUMENT', message: string, offset: number, hint?: string) {
    super(code, message, { kind: 'user' });
    this.offset = offset;
    if (hint !== undefined) this.hint = hint;
  }
}
