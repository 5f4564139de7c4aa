/** Errors of json-logic expressions: at compile time (user errors) and at evaluation (missing clock = engine bug). */
import { B24RulesError, type ErrorKind } from '../errors.js';

export type LogicErrorCode =
  | 'LOGIC_UNKNOWN_OPERATOR'
  | 'LOGIC_ARGUMENTS'
  | 'LOGIC_INVALID'
  | 'REGEX_UNSAFE'
  | 'REGEX_INVALID'
  | 'LOGIC_NO_CLOCK'
  | 'LOGIC_NO_EVALUATOR';

/** A json-logic problem; `path` is where in the expression (keys and array indexes). */
export class LogicError extends B24RulesError {
  declare readonly code: LogicErrorCode;
  readonly path: Array<string | number>;
  readonly hint?: string;

  constructor(code: LogicErrorCode, message: string, options: { path?: Array<string | number>; hint?: string; kind?: ErrorKind } = {}) {
    super(code, message, { kind: options.kind });
    this.path = options.path ?? [];
    if (options.hint !== undefined) this.hint = options.hint;
  }
}
