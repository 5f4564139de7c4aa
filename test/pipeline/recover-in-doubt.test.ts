/**
 * Recovery of calls in doubt (engine/pipeline/0-recover.ts), decision by
 * decision, on a real state file and the emulator over HTTP: each recovery
 * mode, each shape a found create hands to later actions, a lookup the portal
 * refuses, an older look-alike that must not count, and a portal that does not
 * answer the lookups. Found by mutation testing (Stryker): the crash-recovery
 * tests check that nothing is done twice, not what a found create returns nor
 * what happens to the lookups beside a failed one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LookupSpec } from '../../engine/actions/index.js';
import { silentLogger } from '../../engine/logger.js';
import { findCreated, recoverInDoubt } from '../../engine/pipeline/0-recover.js';
import type { EffectRecord, RecoveryMode } from '../../engine/store/index.js';
import { harness, type Harness } from '../e2e-engine/harness.js';

const MARGIN = 600_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A run to hang effects on, as the pipeline would have stored it. */
function runOf(h: Harness): number {
  h.store.inbox.add([{ source: 'manual', key: 'm:1', event: null, ruleId: 'r', payload: {}, receivedAt: 0 }]);
  const item = h.store.inbox.list({})[0]!;
  return h.store.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: 'm:1', recordKey: '' });
}

let seq = 0;
/** An effect handed to the portal without its answer being recorded: state `sent`. */
function sentEffect(h: Harness, runId: number, recovery: RecoveryMode, method: string, lookup?: LookupSpec): number {
  seq++;
  const { effect } = h.store.effects.record({ effectKey: `r:k:${seq}`, runId, seq, actionIndex: seq, kind: 'create', method, params: {}, recovery, meta: lookup ? { lookup } : null });
  h.store.effects.markSent([effect.id]);
  return effect.id;
}

async function recover(h: Harness): Promise<{ resolved: number; done: Array<[number, unknown]> }> {
  const done: Array<[number, unknown]> = [];
  // No settle: a create not found is sent again at once (the wait for a late first send: test/e2e-engine/in-doubt-settle.test.ts).
  const { resolved } = await recoverInDoubt({ store: h.store, client: h.client, logger: silentLogger, now: h.clock.now, lookupMarginMs: MARGIN, inDoubtSettleMs: 0, lookedUp: new Map(), onDone: (e: EffectRecord, r: unknown) => done.push([e.id, r]) });
  return { resolved, done };
}

const effect = (h: Harness, id: number): EffectRecord => h.store.effects.byId(id)!;

describe('recovery of calls in doubt', () => {
  it('without a lookup: re-sends what may be repeated, counts a notification as sent, fails the rest in doubt', async () => {
    h = await harness('id: r\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const run = runOf(h);
    const resend = sentEffect(h, run, 'resend', 'crm.deal.update');
    const once = sentEffect(h, run, 'at-most-once', 'im.notify.system.add');
    const none = sentEffect(h, run, 'none', 'bizproc.workflow.start');
    const noSpec = sentEffect(h, run, 'lookup', 'crm.lead.add');
    const r = await recover(h);
    expect(r.resolved).toBe(4);
    expect(effect(h, resend).state).toBe('pending');
    expect(effect(h, once)).toMatchObject({ state: 'done', result: null });
    expect(r.done).toEqual([[once, null]]);
    expect(effect(h, none)).toMatchObject({ state: 'failed', errorCode: 'EFFECT_IN_DOUBT' });
    expect(effect(h, none).error).toContain('bizproc.workflow.start was sent but its answer was lost');
    expect(effect(h, noSpec)).toMatchObject({ state: 'failed', errorCode: 'EFFECT_IN_DOUBT' });
    expect(effect(h, noSpec).error).toContain('no way to look it up');
    expect(h.emu.calls.of('batch')).toHaveLength(0);
    expect(await recover(h)).toEqual({ resolved: 0, done: [] });
  });

  it('regression: a REST 3.0 call answered 5xx with no lookup is not sent again with its key (the portal keeps no failure under it); one answered nothing is', async () => {
    h = await harness('id: r\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const run = runOf(h);
    const v3 = (recovery: RecoveryMode, method: string, serverError: boolean): number => {
      const id = sentEffect(h!, run, recovery, method);
      h!.store.effects.note(id, null, 'v3', { idempotencyKey: `k-${id}`, ...(serverError ? { serverError: true } : {}) });
      return id;
    };
    const answered5xx = v3('resend', 'tasks.task.chat.message.send', true);
    const once5xx = v3('at-most-once', 'im.notify.system.add', true);
    const lost = v3('resend', 'tasks.task.chat.message.send', false);
    const r = await recover(h);
    expect(r.resolved).toBe(3);
    expect(effect(h, answered5xx)).toMatchObject({ state: 'failed', errorCode: 'EFFECT_IN_DOUBT' });
    expect(effect(h, answered5xx).error).toContain('answered 5xx through REST 3.0');
    expect(effect(h, once5xx)).toMatchObject({ state: 'done', result: null });
    expect(effect(h, lost).state).toBe('pending');
  });

  it('a create found on the portal hands later actions the shape its answer has; one not found is sent again; a refused lookup fails only its own call', async () => {
    h = await harness('id: r\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const lead = (await h.client.call('crm.lead.add', { fields: { TITLE: 'Upsell', ORIGINATOR_ID: 'b24-rules', ORIGIN_ID: 'o-1' } })).result as number;
    const task = (await h.client.call('tasks.task.add', { fields: { TITLE: 'Call back', RESPONSIBLE_ID: 1 } })).result as { task: { id: string } };
    const item = (await h.client.call('crm.item.add', { entityTypeId: 2, fields: { title: 'Deal', originatorId: 'b24-rules', originId: 'o-2' } })).result as { item: { id: number } };
    const run = runOf(h);
    const byOrigin = (originId: string, result: LookupSpec['result']): LookupSpec => ({ method: 'crm.lead.list', params: { filter: { ORIGINATOR_ID: 'b24-rules', ORIGIN_ID: originId }, select: ['ID', 'TITLE'] }, rows: [], result });
    // The refused lookup comes first in the batch: the others must still run (halt: false).
    const refused = sentEffect(h, run, 'lookup', 'crm.lead.add', { method: 'crm.nosuch.list', params: {}, rows: [], result: 'id-number' });
    const ids = {
      refused,
      number: sentEffect(h, run, 'lookup', 'crm.lead.add', byOrigin('o-1', 'id-number')),
      string: sentEffect(h, run, 'lookup', 'bizproc.workflow.start', byOrigin('o-1', 'id-string')),
      object: sentEffect(h, run, 'lookup', 'crm.activity.todo.add', byOrigin('o-1', 'id-object')),
      row: sentEffect(h, run, 'lookup', 'crm.lead.add', byOrigin('o-1', 'row')),
      task: sentEffect(h, run, 'lookup', 'tasks.task.add', { method: 'tasks.task.list', params: { filter: { TITLE: 'Call back' }, select: ['ID', 'TITLE'] }, rows: ['tasks'], match: { title: 'Call back' }, result: 'task' }),
      item: sentEffect(h, run, 'lookup', 'crm.item.add', { method: 'crm.item.list', params: { entityTypeId: 2, filter: { originId: 'o-2' }, select: ['id', 'title'] }, rows: ['items'], result: 'item' }),
      itemId: sentEffect(h, run, 'lookup', 'crm.item.add', { method: 'crm.item.list', params: { entityTypeId: 2, filter: { originId: 'o-2' }, select: ['id'] }, rows: ['items'], result: 'id-number' }),
      missing: sentEffect(h, run, 'lookup', 'crm.lead.add', byOrigin('o-404', 'id-number')),
    };
    const r = await recover(h);
    expect(r.resolved).toBe(9);
    const row = effect(h, ids.row).result as Record<string, unknown>;
    expect(row).toMatchObject({ ID: String(lead), TITLE: 'Upsell' });
    expect(effect(h, ids.number)).toMatchObject({ state: 'done', result: lead });
    expect(effect(h, ids.string)).toMatchObject({ state: 'done', result: String(lead) });
    expect(effect(h, ids.object)).toMatchObject({ state: 'done', result: { id: lead } });
    expect(effect(h, ids.task)).toMatchObject({ state: 'done', result: { task: { id: String(task.task.id), title: 'Call back' } } });
    expect(effect(h, ids.item)).toMatchObject({ state: 'done', result: { item: { id: item.item.id, title: 'Deal' } } });
    expect(effect(h, ids.itemId)).toMatchObject({ state: 'done', result: item.item.id });
    expect(effect(h, ids.missing).state).toBe('pending');
    expect(effect(h, ids.refused)).toMatchObject({ state: 'failed', errorCode: 'EFFECT_IN_DOUBT' });
    // The portal's own description of the refusal, in the ledger.
    expect(effect(h, ids.refused).error).toBe('EFFECT_IN_DOUBT: lookup crm.nosuch.list failed (Method not found!); not sent again');
    // Each found create is handed on (its result merged into the run's names and snapshots).
    expect(r.done.map(([id]) => id).sort((a, b) => a - b)).toEqual([ids.number, ids.string, ids.object, ids.row, ids.task, ids.item, ids.itemId].sort((a, b) => a - b));
    // All lookups went in one batch request.
    expect(h.emu.calls.of('batch')).toHaveLength(1);
  });

  it('a look-alike written before the first send (less the margin) is not ours: the call is sent again', async () => {
    h = await harness('id: r\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const deal = (await h.client.call('crm.deal.add', { fields: { TITLE: 'Deal' } })).result as number;
    await h.client.call('crm.timeline.comment.add', { fields: { ENTITY_ID: deal, ENTITY_TYPE: 'deal', COMMENT: 'Follow-up' } });
    h.clock.advance(MARGIN + 60_000);
    const run = runOf(h);
    const spec: LookupSpec = { method: 'crm.timeline.comment.list', params: { filter: { ENTITY_ID: deal, ENTITY_TYPE: 'deal' }, select: ['ID', 'COMMENT', 'CREATED'] }, rows: [], match: { COMMENT: 'Follow-up' }, createdField: 'CREATED', result: 'id-number' };
    const old = sentEffect(h, run, 'lookup', 'crm.timeline.comment.add', spec);
    expect((await recover(h)).resolved).toBe(1);
    expect(effect(h, old).state).toBe('pending');
    // One written within the margin of the send is taken as ours.
    const fresh = (await h.client.call('crm.timeline.comment.add', { fields: { ENTITY_ID: deal, ENTITY_TYPE: 'deal', COMMENT: 'Follow-up' } })).result as number;
    h.clock.advance(MARGIN - 60_000);
    const recent = sentEffect(h, run, 'lookup', 'crm.timeline.comment.add', spec);
    await recover(h);
    expect(effect(h, recent)).toMatchObject({ state: 'done', result: fresh });
  });

  it('lookups the portal does not answer stay in doubt for the next tick; the rest is resolved', async () => {
    h = await harness('id: r\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const run = runOf(h);
    const resend = sentEffect(h, run, 'resend', 'crm.deal.update');
    const lookup = sentEffect(h, run, 'lookup', 'crm.lead.add', { method: 'crm.lead.list', params: { filter: { ORIGIN_ID: 'x' } }, rows: [], result: 'id-number' });
    h.emu.setFaults({ dropRate: 1, dropWhen: 'before' });
    const r = await recover(h);
    h.emu.setFaults({ dropRate: 0 });
    expect(r.resolved).toBe(1);
    expect(effect(h, resend).state).toBe('pending');
    expect(effect(h, lookup).state).toBe('sent');
    expect((await recover(h)).resolved).toBe(1);
    expect(effect(h, lookup).state).toBe('pending');
  });
});

describe('findCreated', () => {
  const sentAt = Date.parse('2026-03-02T10:00:00Z');
  it('needs every field of the match, skips rows that are not records, and counts a row created exactly at the margin', () => {
    const spec: LookupSpec = { method: 'x.list', params: {}, rows: [], match: { TITLE: 'a', OWNER: '5' }, createdField: 'CREATED', result: 'row' };
    expect(findCreated([{ ID: '1', TITLE: 'a', OWNER: '6', CREATED: '2026-03-02T10:00:00Z' }], spec, sentAt, 60_000)).toBeUndefined();
    expect(findCreated([null, 'x', 7, { ID: '2', TITLE: 'a', OWNER: 5, CREATED: '2026-03-02T09:59:00Z' }], spec, sentAt, 60_000)?.ID).toBe('2');
    expect(findCreated([{ ID: '3', TITLE: 'a', OWNER: '5', CREATED: '2026-03-02T09:58:59Z' }], spec, sentAt, 60_000)).toBeUndefined();
    expect(findCreated(['x', 0, { ID: '4' }], { method: 'x.list', params: {}, rows: [], result: 'row' }, sentAt, 60_000)?.ID).toBe('4');
  });
});
