/** Errors of the pipeline. */
import { B24RulesError } from '../errors.js';

/** A foreach query matched more rows than `max_records` allows: the run is refused (a rule problem). */
export class ForeachLimitError extends B24RulesError {
  constructor(
    readonly ruleId: string,
    readonly limit: number,
  ) {
    super('FOREACH_LIMIT', `rule ${ruleId}: the foreach query matches more than max_records (${limit}) rows; narrow the filter or raise max_records`, { kind: 'user' });
  }
}
