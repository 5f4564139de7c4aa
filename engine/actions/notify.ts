/** `notify: { user, message }` → im.notify.system.add. */
import { ActionConfigError } from './errors.js';
import { stringOpt, userIdOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const users = Array.isArray(config.user) ? config.user : [config.user ?? config.users];
  const message = stringOpt('notify', config, 'message') as string;
  if (message.trim() === '') throw new ActionConfigError('notify', 'message is empty');
  return {
    kind: 'calls',
    calls: users.map((u) => ({
      method: 'im.notify.system.add',
      params: { USER_ID: userIdOpt('notify', u, 'user'), MESSAGE: message },
      // Notifications cannot be looked up: in doubt after a crash, one is not sent again (at most once).
      recovery: 'at-most-once' as const,
    })),
  };
}

export const notifyAction: ActionKind = { kind: 'notify', plan };
