/**
 * Timers through the engine and the emulator over HTTP: the defects a review of issue 18
 * found, one test each (a rule edited while its runs wait, an awaited event already in the
 * inbox when the timeout falls due, `concurrency: skip` and a woken run, a fired for: timer's
 * own item and an unrelated wait). Time moves by the harness clock; nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InboxItemInput } from '../../engine/store/index.js';
import { dealEvent, harness, leadEvent, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const comments = (x: Harness, entity: 'deal' | 'lead', id: number) =>
  x.emu.store
    .all('timeline_comment')
    .filter((c) => String(c.ENTITY_ID) === String(id) && String(c.ENTITY_TYPE).toLowerCase() === entity)
    .map((c) => String(c.COMMENT));

describe('a rule edited while its runs wait', () => {
  it('a delayed run whose rule changed ends skipped with its journal when its timer fires; no action of the new rule runs for it', async () => {
    const before = `
id: followup
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Now" }
  - delay: 2h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }
`;
    h = await harness(before);
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const [run] = h.store.runs.list({ ruleId: 'followup' });
    expect(run!.status).toBe('delayed');
    const oldHash = run!.ruleHash;
    const edited = rules(before.replace('  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }', '  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Inserted" }\n  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Later" }'));
    expect(edited[0]!.hash).not.toBe(oldHash);
    h.reopen({ rules: edited });
    h.clock.advance(2 * HOUR);
    const r = await h.engine.tick();
    expect(r.timersFired).toBe(1);
    expect(comments(h, 'deal', 1)).toEqual(['Now']);
    const ended = h.store.runs.get(run!.id)!;
    expect(ended.status).toBe('skipped');
    expect(ended.trace.reason).toBe(`rule followup changed while the run waited (was ${oldHash.slice(0, 8)}, now ${edited[0]!.hash.slice(0, 8)}); its remaining actions were not run`);
    // The journal of what it did before the delay is kept.
    expect(ended.trace.effects).toEqual([expect.objectContaining({ method: 'crm.timeline.comment.add', state: 'done' })]);
    h.clock.advance(HOUR);
    await h.engine.tick();
    expect(comments(h, 'deal', 1)).toEqual(['Now']);
  });
});
