import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/pipeline/index.js';
import { dealEvent, harness, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULES = `
id: followup
trigger: { event: ONCRMDEALUPDATE }
condition: { ">": [{ var: deal.OPPORTUNITY }, 10000] }
actions:
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Call", PROBABILITY: "{{ deal.PROBABILITY }}" } }
  - round_robin: { users: [3, 4], as: who }
  - notify: { user: "{{ who }}", message: "Deal {{ deal.ID }}" }
  - http: { url: "http://erp.example/api", body: { id: "{{ deal.ID }}" }, as: erp }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "ERP says {{ erp.body.ok }}" }
`;

describe('planItems (dry-run through the same code path)', () => {
  it('reads what it needs, plans calls with before/after, stops before actions that need a result, and writes nothing', async () => {
    h = await harness(RULES);
    const deals = h.emu.store.all('deal').slice(0, 6);
    h.emu.calls.clear();
    const plan = await h.engine.planItems(deals.map((d) => dealEvent(String(d.ID))));

    expect(plan.firings).toHaveLength(6);
    const acting = plan.firings.filter((f) => f.calls.length > 0);
    const big = deals.filter((d) => Number(d.OPPORTUNITY) > 10000).map((d) => String(d.ID));
    expect(acting.map((f) => f.record?.id).sort()).toEqual(big.sort());
    for (const f of plan.firings.filter((x) => x.calls.length === 0)) {
      expect(f.skipped).toMatch(/condition false/);
      expect(f.condition).toMatchObject({ value: false });
    }
    const first = acting[0]!;
    expect(first.calls.map((c) => c.method)).toEqual(['crm.deal.update', 'im.notify.system.add', 'http']);
    const before = deals.find((d) => String(d.ID) === first.record?.id)?.UF_CRM_NEXT_STEP ?? null;
    expect(first.calls[0]!.changes).toEqual([{ field: 'UF_CRM_NEXT_STEP', before, after: 'Call' }]);
    expect(first.calls[0]!.kind).toBe('write');
    expect(first.stoppedAt).toMatchObject({ action: 4 });
    // Round-robin advances within the plan but not in the store.
    const whos = acting.map((f) => f.calls[1]!.params.USER_ID);
    expect(whos.slice(0, 2)).toEqual([3, 4]);
    expect(h.store.positions.position('followup', 'default')).toBe(0);
    // Writes pack into batches (http is not batched).
    expect(plan.batches.flatMap((b) => b.calls)).toHaveLength(acting.length * 2);
    expect(plan.readRequests).toBe(1);

    // Nothing written: only reads reached the portal, and the state file has no runs or effects.
    expect(h.emu.calls.records.every((c) => /\.(get|list)$|^batch$/.test(c.method))).toBe(true);
    expect(h.store.runs.list()).toHaveLength(0);
    expect(h.store.effects.countByState()).toEqual({ pending: 0, sent: 0, done: 0, failed: 0 });
  });

  it("mode 'plan': tick returns the plan of the ready inbox items and leaves them pending", async () => {
    h = await harness(RULES);
    const engine = createEngine({ store: h.store, client: h.client, rules: rules(RULES), clock: h.clock.now, mode: 'plan' });
    h.store.inbox.add([dealEvent(3)]);
    const report = await engine.tick();
    expect(report.plan?.firings).toHaveLength(1);
    expect(h.store.inbox.countByStatus().pending).toBe(1);
    expect(h.emu.calls.of('crm.deal.update')).toHaveLength(0);
  });
});
