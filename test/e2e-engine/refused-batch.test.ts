/**
 * Regression (issue 13, item 7): a write batch the portal refuses as a whole
 * with 503 QUERY_LIMIT_EXCEEDED did not run, so its calls are not in doubt:
 * they are sent again once the bucket has drained, without spending lookups
 * (crm.timeline.comment.list, tasks.task.list ...) exactly when the budget is
 * scarce, and each effect happens once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: refused-followup
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Follow-up for {{ deal.TITLE }}" }
  - task:
      title: "Call back {{ deal.ID }}"
      responsible: 2
      bind: { entity: deal, id: "{{ deal.ID }}" }
`;

describe('a write batch refused with QUERY_LIMIT_EXCEEDED', () => {
  it('is sent again after the wait, not looked up as in doubt, and each call happens once', async () => {
    // Burst 1: the tick's read batch takes the only slot, so the write batch is refused whole (503).
    h = await harness(RULE, { emulator: { limits: { burst: 1, drainPerSec: 0.01, operatingBudgetSec: 1e9 } } });
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    const first = await h.engine.tick();
    expect(h.emu.calls.of('crm.timeline.comment.add', { batch: true })).toHaveLength(0);
    expect(first.finished.done).toBe(0);
    expect(h.store.effects.countByState().sent).toBe(0);

    for (let i = 0; i < 6 && h.store.inbox.depth() > 0; i++) {
      h.clock.advance(300_000); // the bucket drains (one slot per 100 s)
      await h.engine.tick();
    }
    expect(h.store.inbox.depth()).toBe(0);
    expect(h.emu.calls.of('crm.timeline.comment.list')).toHaveLength(0);
    expect(h.emu.calls.of('tasks.task.list')).toHaveLength(0);
    const comments = h.emu.store.all('timeline_comment').filter((c) => /^Follow-up for/.test(String(c.COMMENT)));
    expect(comments.map((c) => String(c.ENTITY_ID)).sort()).toEqual(['1', '2']);
    const tasks = h.emu.store.all('task').filter((t) => ['Call back 1', 'Call back 2'].includes(String(t.title)));
    expect(tasks.map((t) => String(t.title)).sort()).toEqual(['Call back 1', 'Call back 2']);
    expect(h.store.dlq.count()).toBe(0);
  });
});
