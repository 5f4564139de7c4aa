/** Errors raised while planning an action. */
import { B24RulesError } from '../errors.js';

/** The rendered options of an action are unusable (missing id, unknown entity...): a rule problem, not retried. */
export class ActionConfigError extends B24RulesError {
  constructor(
    readonly action: string,
    message: string,
  ) {
    super('ACTION_CONFIG', `${action}: ${message}`, { kind: 'user' });
  }
}
