import { describe, expect, it } from 'vitest';
import { actionKind, type PlanContext } from '../../engine/actions/index.js';
import { isIdempotentCall } from '../../engine/client/index.js';

const ctx: PlanContext = { ruleId: 'r', effectKey: 'r:abc:0.0', record: () => undefined };
const recovery = (method: string, params: Record<string, unknown> = {}) => {
  const out = actionKind('call').plan({ method, params }, ctx) as { calls: Array<{ recovery: string }> };
  return out.calls[0]?.recovery;
};

describe('call: recovery comes from the client\'s one classifier', () => {
  it.each([
    ['user.current', {}, 'resend'],
    ['app.info', {}, 'resend'],
    ['crm.contact.fields', {}, 'resend'],
    ['tasks.task.complete', { taskId: 1 }, 'resend'],
    ['booking.v1.booking.client.unset', { bookingId: 14 }, 'resend'],
    ['event.offline.clear', { process_id: 'p' }, 'resend'],
    ['tasks.api.scrum.sprint.complete', { id: 1 }, 'none'],
    ['event.offline.get', {}, 'none'],
    ['event.offline.get', { clear: 0 }, 'resend'],
    ['crm.quote.contact.add', {}, 'none'],
    ['no.such.method', {}, 'none'],
  ] as const)('%s %j: %s', (method, params, expected) => {
    expect(recovery(method, params)).toBe(expected);
    expect(isIdempotentCall(method, params)).toBe(expected === 'resend');
  });
});
