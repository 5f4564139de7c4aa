/**
 * `rollout:` (issue 16) against the emulator over HTTP. Done when: a 10 %
 * rollout over 1,000 leads acts on 100 ± 30 of them, the same ones on a second
 * pass with fresh state; raising it to 20 % keeps them. A run outside is a
 * skipped run with the reason, in the journal and in a dry-run; `where:` picks
 * records by their fields.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/pipeline/index.js';
import { openStateStore } from '../../engine/store/index.js';
import { drain, harness, leadEvent, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CANARY = (percent: number) => `
id: canary-comments
rollout: { percent: ${percent} }
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "canary" }
`;

/** The leads the portal got a comment or an update for, since the emulator's record was last cleared. */
const updated = (h: Harness) =>
  new Set([
    ...h.emu.calls.of('crm.timeline.comment.add', { batch: true }).map((c) => String((c.params.fields as { ENTITY_ID: unknown }).ENTITY_ID)),
    ...h.emu.calls.of('crm.lead.update', { batch: true }).map((c) => String(c.params.id)),
  ]);

describe('a 10 % rollout', () => {
  it('over 1,000 leads acts on 100 ± 30 of them, the same ones on a second pass with fresh state, and 20 % keeps them', { timeout: 120_000 }, async () => {
    h = await harness(CANARY(10));
    const ids = h.emu.store.seed('lead', Array.from({ length: 1000 }, (_, i) => ({ TITLE: `Lead ${i}`, STATUS_ID: 'NEW', SOURCE_ID: 'WEB' })));
    const events = () => ids.map((id) => leadEvent(id));
    h.store.inbox.add(events());
    h.emu.calls.clear();
    await drain(h.engine, h.clock);
    const first = updated(h);
    expect(first.size).toBeGreaterThanOrEqual(70);
    expect(first.size).toBeLessThanOrEqual(130);
    const runs = h.store.runs.summaries({ ruleId: 'canary-comments', limit: 2000 });
    expect(runs.filter((r) => r.status === 'done')).toHaveLength(first.size);
    const outside = runs.filter((r) => r.status === 'skipped');
    expect(outside).toHaveLength(1000 - first.size);
    const out = outside[0]!;
    expect(out.reason).toBe(`rollout: lead ${out.recordKey.slice('lead:'.length)} is outside the 10 % share`);
    expect(first.has(out.recordKey.slice('lead:'.length))).toBe(false);

    // Fresh state: a new state file, the same rule, the same leads.
    const again = async (percent: number) => {
      const store = openStateStore(':memory:', { now: h!.clock.now });
      try {
        const engine = createEngine({ store, client: h!.client, rules: rules(CANARY(percent)), clock: h!.clock.now });
        store.inbox.add(events());
        h!.emu.calls.clear();
        await drain(engine, h!.clock);
        return updated(h!);
      } finally {
        store.close();
      }
    };
    expect([...(await again(10))].sort()).toEqual([...first].sort());
    const twenty = await again(20);
    expect(twenty.size).toBeGreaterThan(first.size);
    for (const id of first) expect(twenty.has(id)).toBe(true);
  });
});

describe('a rollout with where:', () => {
  it('acts on the records it selects; the others are skipped with the reason, and a dry-run says so', async () => {
    h = await harness(`
id: partners-first
rollout: { where: { "==": [{ var: lead.SOURCE_ID }, PARTNER] } }
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { COMMENTS: "partner canary" } }
`);
    const [partner, web] = h.emu.store.seed('lead', [
      { TITLE: 'Partner lead', STATUS_ID: 'NEW', SOURCE_ID: 'PARTNER' },
      { TITLE: 'Web lead', STATUS_ID: 'NEW', SOURCE_ID: 'WEB' },
    ]);
    const plan = await h.engine.planItems([leadEvent(web!)]);
    expect(plan.firings.map((f) => f.skipped)).toEqual([`rollout: lead ${web} is outside the rollout (where: lead.SOURCE_ID ("WEB") == "PARTNER" is false)`]);
    h.store.inbox.add([leadEvent(partner!), leadEvent(web!)]);
    h.emu.calls.clear();
    await drain(h.engine, h.clock);
    expect([...updated(h)]).toEqual([partner]);
    const skipped = h.store.runs.summaries({ ruleId: 'partners-first', status: 'skipped' });
    expect(skipped.map((r) => r.reason)).toEqual([`rollout: lead ${web} is outside the rollout (where: lead.SOURCE_ID ("WEB") == "PARTNER" is false)`]);
  });
});
