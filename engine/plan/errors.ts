/** Errors of dry-run inputs (events, fixtures, test files) and of carrying out a saved plan. */
import { B24RulesError, type B24RulesErrorOptions } from '../errors.js';

/** A bad input file: the message names the file and line and says what a valid value looks like. */
export class InputFileError extends B24RulesError {
  readonly file: string;
  readonly line?: number;

  constructor(code: 'EVENTS_INVALID' | 'FIXTURES_INVALID' | 'RULE_TEST_INVALID' | 'PLAN_FILE_INVALID', file: string, line: number | undefined, message: string, options: B24RulesErrorOptions = {}) {
    super(code, `${file}${line ? `:${line}` : ''}: ${message}`, { kind: 'user', ...options });
    this.file = file;
    if (line !== undefined) this.line = line;
  }
}

/** `rules apply --plan`: a record the plan was made from changed since. Nothing was sent. */
export class PlanStaleError extends B24RulesError {
  readonly changed: Array<{ entity: string; id: string; reason: string }>;

  constructor(changed: Array<{ entity: string; id: string; reason: string }>) {
    const list = changed.slice(0, 10).map((c) => `${c.entity} ${c.id} (${c.reason})`).join(', ');
    super('PLAN_STALE', `the portal changed since the plan was made: ${list}${changed.length > 10 ? ` and ${changed.length - 10} more` : ''}. Nothing was sent; run dry-run again and review the new plan.`, { kind: 'user' });
    this.changed = changed;
  }
}
