/**
 * Regression: two rules on the first event of a record both say in their trace
 * that there was no snapshot yet. The second used to take the snapshot the
 * first had just stored for the one its change was computed against, and put
 * the whole record in its trace as "changes".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULES = `
id: first-rule
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "one" }
---
id: second-rule
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "two" }
`;

describe('the trace of the first event of a record', () => {
  it('says "no snapshot yet" for every rule on it, and a later real change lists only what changed', async () => {
    h = await harness(RULES);
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const first = h.store.runs.list({ limit: 10 }).filter((r) => r.status === 'done');
    expect(first.map((r) => r.ruleId).sort()).toEqual(['first-rule', 'second-rule']);
    for (const r of first) expect(r.trace.changes).toEqual({ note: 'no snapshot yet: every field counts as changed' });

    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, TITLE: 'Renamed' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const second = h.store.runs.list({ limit: 10 }).filter((r) => r.status === 'done' && !first.some((f) => f.id === r.id));
    expect(second).toHaveLength(2);
    for (const r of second) expect(Object.keys(r.trace.changes as object)).toEqual(['TITLE']);
  });
});
