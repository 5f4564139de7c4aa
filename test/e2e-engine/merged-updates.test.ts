import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { B24ClientApi, BatchCommand } from '../../engine/client/types.js';
import { formatTrace } from '../../engine/daemon/index.js';
import type { EffectRecord } from '../../engine/store/index.js';
import { PortalError } from '../../emulator/index.js';
import { drain, harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Two rules on every new lead, both updating it; both set COMMENTS, the second (later in rule order) to another value. */
const TWO_RULES = `
id: assign-lead
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { ASSIGNED_BY_ID: 9, COMMENTS: "assigned" } }
  - notify: { user: 9, message: "Lead {{ lead.ID }} is yours" }
---
id: score-lead
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { UF_CRM_LEAD_SCORE: 40, COMMENTS: "scored" } }
`;

function newLeads(h: Harness, n: number): string[] {
  return h.emu.store.seed(
    'lead',
    Array.from({ length: n }, (_, i) => ({ TITLE: `Merge lead ${i}`, STATUS_ID: 'NEW', ASSIGNED_BY_ID: 1, SOURCE_ID: 'WEB', OPPORTUNITY: 1_200_000, COMPANY_TITLE: 'Acme' })),
  );
}

const updateEffects = (h: Harness): EffectRecord[] => h.store.effects.inState('done').filter((e) => e.method === 'crm.lead.update');
const runOf = (h: Harness, rule: string) => h.store.runs.list({ ruleId: rule })[0]!;

/** A client that, for the first write batch, does `mode` (the shapes of test/e2e-engine/crash-recovery.test.ts). */
function firstWriteBatch(real: B24ClientApi, mode: (cmds: Record<string, BatchCommand>, send: () => Promise<Awaited<ReturnType<B24ClientApi['batch']>>>) => ReturnType<B24ClientApi['batch']>): B24ClientApi {
  let done = false;
  return {
    call: real.call.bind(real),
    listAll: real.listAll.bind(real),
    async batch(cmds, options) {
      const writes = Object.values(cmds).some((x) => !/\.(get|list)$/.test(x.method));
      if (!writes || done) return real.batch(cmds, options);
      done = true;
      return mode(cmds as Record<string, BatchCommand>, () => real.batch(cmds, options));
    },
  };
}

describe('updates of one record by several runs of a tick', () => {
  it('scenarios 03 and 09 on new leads: one crm.lead.update per lead carrying both fields, both effects done', async () => {
    const yaml = ['03-route-leads.yaml', '09-lead-scoring.yaml'].map((f) => readFileSync(join('rules', f), 'utf8')).join('\n---\n');
    h = await harness(yaml);
    const ids = newLeads(h, 3);
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    await drain(h.engine, h.clock);

    const updates = h.emu.calls.of('crm.lead.update', { batch: true });
    expect(updates.map((u) => String(u.params.id)).sort()).toEqual([...ids].sort());
    for (const u of updates) expect(Object.keys(u.params.fields as object).sort()).toEqual(['ASSIGNED_BY_ID', 'UF_CRM_LEAD_SCORE']);
    for (const id of ids) {
      const lead = h.emu.store.get('lead', id)!;
      expect([12, 15]).toContain(Number(lead.ASSIGNED_BY_ID));
      // WEB 20 + amount 30 + company 10 (HAS_PHONE follows the PHONE field, empty here).
      expect(Number(lead.UF_CRM_LEAD_SCORE)).toBe(60);
    }
    // The ledger stays per effect: six updates done, each with the portal's answer and a note of the other rule.
    const done = updateEffects(h);
    expect(done).toHaveLength(6);
    for (const e of done) {
      expect(e.result).toBe(true);
      expect((e.meta?.merge as { with: Array<{ rule: string }> }).with.map((w) => w.rule)).toEqual([e.effectKey.startsWith('lead-score-new') ? 'route-leads-key-accounts' : 'lead-score-new']);
    }
    expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0, failed: 0 });
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 3, dead: 0 });
  });

  it('a field both rules set gets the later rule’s value, and the overridden run’s trace says which rule overrode which field', async () => {
    h = await harness(TWO_RULES);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    h.emu.calls.clear();
    await h.engine.tick();

    const updates = h.emu.calls.of('crm.lead.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]!.params.fields).toEqual({ ASSIGNED_BY_ID: '9', COMMENTS: 'scored', UF_CRM_LEAD_SCORE: '40' });
    // One batch request carried the merged update and the notification.
    expect(h.emu.calls.of('batch')).toHaveLength(2);
    const lead = h.emu.store.get('lead', id!)!;
    expect(lead).toMatchObject({ COMMENTS: 'scored' });
    expect(Number(lead.ASSIGNED_BY_ID)).toBe(9);
    expect(Number(lead.UF_CRM_LEAD_SCORE)).toBe(40);

    const assign = runOf(h, 'assign-lead');
    const score = runOf(h, 'score-lead');
    expect([assign.status, score.status]).toEqual(['done', 'done']);
    const [lost] = h.store.effects.forRun(assign.id).filter((e) => e.method === 'crm.lead.update');
    expect(lost!.meta?.merge).toEqual({ command: `e${lost!.id}`, with: [{ run: score.id, rule: 'score-lead' }], overridden: [{ field: 'COMMENTS', run: score.id, rule: 'score-lead' }] });
    const [won] = h.store.effects.forRun(score.id);
    expect(won!.meta?.merge).toEqual({ command: `e${lost!.id}`, with: [{ run: assign.id, rule: 'assign-lead' }] });
    // `rules trace` prints the ledger rows with the note.
    const text = formatTrace(h.store.runs.get(assign.id)!, h.store.effects.forRun(assign.id));
    expect(text).toContain(`merged: one command with score-lead (run ${score.id}); overridden: COMMENTS by score-lead (run ${score.id})`);
    expect(formatTrace(h.store.runs.get(score.id)!, h.store.effects.forRun(score.id))).not.toContain('overridden');
  });

  it('a merged command the portal refuses costs no run a retry: each member goes alone in the next round; only its own refusal counts', async () => {
    h = await harness(`
id: bad-source
on_error: { retries: 0 }
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_ID: NO_SUCH_SOURCE } }
---
id: assign
on_error: { retries: 0 }
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { ASSIGNED_BY_ID: 9 } }
`);
    // A portal that refuses an unknown source (the emulator keeps any value): the refusal is its answer over HTTP.
    const real = h.emu.registry.get('crm.lead.update')!;
    h.emu.registry.register('crm.lead.update', {
      ...real,
      handler: (params, ctx) => {
        if ((params.fields as Record<string, unknown> | undefined)?.SOURCE_ID === 'NO_SUCH_SOURCE') throw new PortalError(400, 'ERROR_CORE', 'Unknown source NO_SUCH_SOURCE');
        return real.handler(params, ctx);
      },
    });
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    h.emu.calls.clear();
    await drain(h.engine, h.clock);

    // One merged command, then each update alone (a call sent before is never merged again), in rule order.
    expect(h.emu.calls.of('crm.lead.update').map((u) => u.params.fields)).toEqual([{ SOURCE_ID: 'NO_SUCH_SOURCE', ASSIGNED_BY_ID: '9' }, { SOURCE_ID: 'NO_SUCH_SOURCE' }, { ASSIGNED_BY_ID: '9' }]);
    expect(Number(h.emu.store.get('lead', id!)!.ASSIGNED_BY_ID)).toBe(9);
    expect([runOf(h, 'bad-source').status, runOf(h, 'assign').status]).toEqual(['dead', 'done']);
    expect(h.store.dlq.list().map((d) => [d.ruleId, d.error])).toEqual([['bad-source', expect.stringContaining('Unknown source NO_SUCH_SOURCE')]]);
    const [assigned] = h.store.effects.forRun(runOf(h, 'assign').id);
    expect(assigned).toMatchObject({ state: 'done', attempts: 2, result: true });
    // The row describes its last send: alone.
    expect(assigned!.meta?.merge).toBeUndefined();
  });

  it('a merged command refused because the record is gone: each member goes alone at once and both end done when it is back', async () => {
    h = await harness(TWO_RULES);
    const [id] = newLeads(h, 1);
    // Someone deletes the lead just before the write and restores it right after.
    const flaky = firstWriteBatch(h.client, async (_cmds, send) => {
      const row = h!.emu.store.get('lead', id!)!;
      h!.emu.store.delete('lead', id!);
      try {
        return await send();
      } finally {
        h!.emu.store.put('lead', id!, row);
      }
    });
    h.reopen({ client: flaky });
    h.store.inbox.add([leadEvent(id!)]);
    await h.engine.tick();
    // No retry spent, no failure: the next round of the same tick sent each alone.
    expect(h.store.effects.inState('failed')).toEqual([]);
    expect([runOf(h, 'assign-lead').status, runOf(h, 'score-lead').status]).toEqual(['done', 'done']);
    expect(updateEffects(h).map((e) => e.attempts)).toEqual([2, 2]);
    // The merged command, then each update alone (a call sent before is not merged again), in rule order.
    const updates = h.emu.calls.of('crm.lead.update').map((u) => u.params.fields);
    expect(updates).toEqual([{ ASSIGNED_BY_ID: '9', COMMENTS: 'scored', UF_CRM_LEAD_SCORE: '40' }, { ASSIGNED_BY_ID: '9', COMMENTS: 'assigned' }, { UF_CRM_LEAD_SCORE: '40', COMMENTS: 'scored' }]);
    expect(h.emu.store.get('lead', id!)).toMatchObject({ COMMENTS: 'scored' });
    // Each row describes its last send: alone.
    expect(updateEffects(h).map((e) => e.meta?.merge)).toEqual([undefined, undefined]);
  });

  it('a merged command that keeps failing dead-letters both runs', async () => {
    h = await harness(TWO_RULES.replace(/actions:/g, 'on_error: { retries: 1 }\nactions:'));
    const [id] = newLeads(h, 1);
    const gone = firstWriteBatch(h.client, async (_cmds, send) => {
      h!.emu.store.delete('lead', id!);
      return send();
    });
    h.reopen({ client: gone });
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect([runOf(h, 'assign-lead').status, runOf(h, 'score-lead').status]).toEqual(['dead', 'dead']);
    expect(h.store.dlq.list().map((d) => d.ruleId).sort()).toEqual(['assign-lead', 'score-lead']);
    expect(h.store.dlq.list().every((d) => /Not found/.test(d.error))).toBe(true);
  });

  for (const mode of ['answer lost after the portal ran it', 'died before it left'] as const) {
    it(`a merged command in doubt after a crash (${mode}) recovers to the same end state`, async () => {
      h = await harness(TWO_RULES);
      const [id] = newLeads(h, 1);
      const crashing = firstWriteBatch(h.client, async (_cmds, send) => {
        if (mode === 'answer lost after the portal ran it') await send();
        throw new Error('simulated crash: the process died before the answer was recorded');
      });
      h.reopen({ client: crashing });
      h.store.inbox.add([leadEvent(id!)]);
      await h.engine.tick();
      // Both updates were marked sent before the one command went; neither has an answer.
      expect(h.store.effects.inState('sent').filter((e) => e.method === 'crm.lead.update')).toHaveLength(2);
      expect(h.emu.calls.of('crm.lead.update')).toHaveLength(mode === 'died before it left' ? 0 : 1);

      // A new process on the same file: updates are re-sent (fixed values), each alone, in the runs' order.
      await drain(h.reopen(), h.clock);
      const lead = h.emu.store.get('lead', id!)!;
      expect(lead).toMatchObject({ COMMENTS: 'scored' });
      expect(Number(lead.ASSIGNED_BY_ID)).toBe(9);
      expect(Number(lead.UF_CRM_LEAD_SCORE)).toBe(40);
      expect(h.emu.calls.of('crm.lead.update').slice(-2).map((u) => u.params.fields)).toEqual([{ ASSIGNED_BY_ID: '9', COMMENTS: 'assigned' }, { UF_CRM_LEAD_SCORE: '40', COMMENTS: 'scored' }]);
      expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0, failed: 0 });
      expect([runOf(h, 'assign-lead').status, runOf(h, 'score-lead').status]).toEqual(['done', 'done']);
    });
  }

  it('updates that are not safe to merge go as they are: other params, a multi-value field set by both', async () => {
    h = await harness(`
id: phone-a
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { PHONE: [{ VALUE: "+100", VALUE_TYPE: WORK }] } }
---
id: phone-b
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { PHONE: [{ VALUE: "+200", VALUE_TYPE: WORK }] } }
---
id: sonet
trigger: { event: ONCRMLEADADD }
actions:
  - call: { method: crm.lead.update, params: { id: "{{ lead.ID }}", fields: { COMMENTS: "with an event" }, params: { REGISTER_SONET_EVENT: "Y" } } }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    h.emu.calls.clear();
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.lead.update')).toHaveLength(3);
    // Each PHONE write adds a number on the portal: both are there, as with two calls.
    expect(((h.emu.store.get('lead', id!)!.PHONE ?? []) as Array<{ VALUE: string }>).map((p) => p.VALUE)).toEqual(expect.arrayContaining(['+100', '+200']));
    expect(h.store.effects.inState('done').some((e) => e.meta?.merge)).toBe(false);
  });
});
