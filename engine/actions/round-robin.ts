/** `round_robin: { users, key }`: picks the next user; the position per (rule, key) is stored and survives restarts. No REST call. */
import { ActionConfigError } from './errors.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const users = config.users;
  if (!Array.isArray(users) || users.length === 0) throw new ActionConfigError('round_robin', 'users must be a non-empty list');
  const key = config.key === undefined || config.key === null || config.key === '' ? 'default' : String(config.key);
  return { kind: 'pick', key, users };
}

export const roundRobinAction: ActionKind = { kind: 'round_robin', plan };
