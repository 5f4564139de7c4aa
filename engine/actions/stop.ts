/** `stop: { reason }`: ends the run here (with `when:` for a conditional stop). */
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const reason = config.reason;
  return { kind: 'stop', reason: typeof reason === 'string' && reason !== '' ? reason : 'stop action' };
}

export const stopAction: ActionKind = { kind: 'stop', plan };
