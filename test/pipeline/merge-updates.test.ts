import { describe, expect, it } from 'vitest';
import { commandsOf, mergeNote, type SendableEffect } from '../../engine/pipeline/merge-updates.js';

let nextId = 0;
/** A pending ledger row as the executor gets it. */
function effect(runId: number, ruleId: string, method: string, params: Record<string, unknown>, extra: Partial<SendableEffect> = {}): SendableEffect {
  const id = ++nextId;
  return {
    id,
    effectKey: `${ruleId}:k${id}:0.0`,
    runId,
    seq: 0,
    actionIndex: 0,
    kind: 'update',
    method,
    params,
    asName: null,
    recovery: 'resend',
    meta: null,
    state: 'pending',
    final: false,
    result: null,
    error: null,
    errorCode: null,
    attempts: 0,
    createdAt: 0,
    sentAt: null,
    doneAt: null,
    ruleId,
    ...extra,
  };
}

const lead = (runId: number, rule: string, fields: Record<string, unknown>, extra: Partial<SendableEffect> = {}, id: unknown = '7') => effect(runId, rule, 'crm.lead.update', { id, fields }, extra);
const shape = (cs: ReturnType<typeof commandsOf>) => cs.map((c) => ({ method: c.method, fields: c.params.fields, runs: c.effects.map((e) => e.runId) }));

describe('merging updates of one record', () => {
  it('merges in the given order; the later run wins a field; each overridden member is named with the run that overrode it', () => {
    const a = lead(1, 'a', { F: 1, G: 'x' });
    const note = effect(1, 'a', 'im.notify.system.add', { USER_ID: 1, MESSAGE: 'hi' });
    const b = lead(2, 'b', { F: 2, H: true });
    const c = lead(3, 'c', { F: 3 });
    const cs = commandsOf([a, note, b, c]);
    expect(shape(cs)).toEqual([
      { method: 'crm.lead.update', fields: { F: 3, G: 'x', H: true }, runs: [1, 2, 3] },
      { method: 'im.notify.system.add', fields: undefined, runs: [1] },
    ]);
    expect(cs[0]!.key).toBe(`e${a.id}`);
    expect(mergeNote(cs[0]!, a)).toEqual({ command: `e${a.id}`, with: [{ run: 2, rule: 'b' }, { run: 3, rule: 'c' }], overridden: [{ field: 'F', run: 2, rule: 'b' }] });
    expect(mergeNote(cs[0]!, b)?.overridden).toEqual([{ field: 'F', run: 3, rule: 'c' }]);
    expect(mergeNote(cs[0]!, c)?.overridden).toBeUndefined();
    expect(mergeNote(cs[1]!, note)).toBeUndefined();
    // The members keep their own params (the ledger and the trace show what each run asked for).
    expect(a.params.fields).toEqual({ F: 1, G: 'x' });
  });

  it('the same value in two spellings ("5" and 5) is no conflict, and the later spelling goes', () => {
    const cs = commandsOf([lead(1, 'a', { F: '5' }), lead(2, 'b', { F: 5 })]);
    expect(cs[0]!.params.fields).toEqual({ F: 5 });
    expect(cs[0]!.overridden.size).toBe(0);
  });

  it('merges only the same method and record with the same other params (ids compared as text)', () => {
    const cs = commandsOf([
      lead(1, 'a', { F: 1 }, {}, 7),
      lead(2, 'b', { G: 1 }, {}, '7'),
      lead(3, 'c', { H: 1 }, {}, '8'),
      effect(4, 'd', 'crm.deal.update', { id: '7', fields: { I: 1 } }),
      effect(5, 'e', 'crm.lead.update', { id: '7', fields: { J: 1 }, params: { REGISTER_SONET_EVENT: 'Y' } }),
      effect(6, 'f', 'crm.item.update', { entityTypeId: 1036, id: 7, fields: { K: 1 } }),
      effect(7, 'g', 'crm.item.update', { entityTypeId: 1040, id: 7, fields: { L: 1 } }),
    ]);
    expect(shape(cs).map((c) => c.runs)).toEqual([[1, 2], [3], [4], [5], [6], [7]]);
  });

  it('a call sent before, one not re-sent when in doubt, or one whose non-true result a later action reads goes alone and closes the group', () => {
    const cs = commandsOf([
      lead(1, 'a', { F: 1 }),
      lead(2, 'b', { F: 2 }, { attempts: 1 }),
      lead(3, 'c', { F: 3 }),
      lead(4, 'd', { G: 1 }, { recovery: 'none' }),
      lead(5, 'e', { H: 1 }, { asName: 'done' }),
      lead(6, 'f', { I: 1 }),
    ]);
    // Run 5's `as` reads crm.lead.update's `true`, which the merged command answers too.
    expect(shape(cs).map((c) => c.runs)).toEqual([[1], [2], [3], [4], [5, 6]]);
    const items = commandsOf([
      effect(1, 'a', 'crm.item.update', { entityTypeId: 2, id: 3, fields: { title: 'x' } }),
      effect(2, 'b', 'crm.item.update', { entityTypeId: 2, id: 3, fields: { opportunity: 5 } }, { asName: 'item' }),
      effect(3, 'c', 'tasks.task.update', { taskId: 3, fields: { TITLE: 'x' } }),
      effect(4, 'd', 'tasks.task.update', { taskId: 3, fields: { DEADLINE: 'y' } }),
    ]);
    // crm.item.update answers the item: a run reading it would see the other run's fields too.
    expect(shape(items).map((c) => c.runs)).toEqual([[1], [2], [3, 4]]);
  });

  it('does not merge a field two members set as a list or object (multi-value fields add on each call), nor two spellings of one field', () => {
    const phones = commandsOf([lead(1, 'a', { PHONE: [{ VALUE: '+1' }], F: 1 }), lead(2, 'b', { PHONE: [{ VALUE: '+1' }] }), lead(3, 'c', { G: 1 })]);
    // Run 3 joins run 2's command: nothing of run 1's may move past run 2's call.
    expect(shape(phones).map((c) => c.runs)).toEqual([[1], [2, 3]]);
    expect(shape(commandsOf([lead(1, 'a', { PHONE: [{ VALUE: '+1' }] }), lead(2, 'b', { F: 1 })])).map((c) => c.runs)).toEqual([[1, 2]]);
    const spelled = commandsOf([
      effect(1, 'a', 'crm.item.update', { entityTypeId: 2, id: 3, fields: { ASSIGNED_BY_ID: 5 } }),
      effect(2, 'b', 'crm.item.update', { entityTypeId: 2, id: 3, fields: { assignedById: 6 } }),
    ]);
    expect(shape(spelled).map((c) => c.runs)).toEqual([[1], [2]]);
    // One call naming a field twice is left to the portal as it is.
    expect(shape(commandsOf([lead(1, 'a', { ASSIGNED_BY_ID: 5, assigned_by_id: 6 }), lead(2, 'b', { F: 1 })])).map((c) => c.runs)).toEqual([[1], [2]]);
  });

  it('leaves everything that is not an update of fields as it is, in order', () => {
    const es = [
      effect(1, 'a', 'crm.timeline.comment.add', { fields: { ENTITY_ID: 7 } }),
      effect(1, 'a', 'crm.lead.update', { id: 7 }),
      effect(2, 'b', 'crm.lead.update', { id: 7 }),
      effect(3, 'c', 'http', { url: 'https://x', fields: {} }),
    ];
    expect(commandsOf(es).map((c) => c.effects)).toEqual(es.map((e) => [e]));
  });
});
