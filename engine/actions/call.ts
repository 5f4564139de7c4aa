/** `call: { method, params }`: any REST method (validated against the catalog by the rule loader). */
import { isIdempotentCall } from '../client/index.js';
import { ActionConfigError } from './errors.js';
import { objectOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const method = config.method;
  if (typeof method === 'string' && method.toLowerCase() === 'batch') throw new ActionConfigError('call', 'batch cannot be called from a rule: the engine batches calls itself');
  if (typeof method !== 'string' || !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/i.test(method)) throw new ActionConfigError('call', `method must be a REST method name, got ${JSON.stringify(method)}`);
  const params = objectOpt('call', config, 'params', false) ?? {};
  // Reads and fixed-value writes are re-sent when in doubt; any other write cannot be checked and is never sent twice (docs/engine.md).
  const recovery = isIdempotentCall(method, params) ? 'resend' : 'none';
  return { kind: 'calls', calls: [{ method, params, recovery }] };
}

export const callAction: ActionKind = { kind: 'call', plan };
