/**
 * Shadow mode (issue 16) against the emulator over HTTP: a `mode: shadow` rule
 * runs beside its live twin; its calls are journaled in the ledger (state
 * `shadow`) and never reach the portal (the emulator's record of calls is the
 * proof); it changes nothing a live rule reads (round-robin turns, dedupe
 * keys, snapshots); a crash and a restart never send one; turned live, the
 * rule acts from the next event on and nothing of its shadow runs is replayed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { B24ClientApi, BatchCommand } from '../../engine/client/types.js';
import type { EffectRecord } from '../../engine/store/index.js';
import { drain, harness, leadEvent, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A routing rule: a round-robin turn, an update, a comment, a notification. */
const ROUTE = (id: string, extra = '') => `
id: ${id}
${extra}
trigger: { event: ONCRMLEADADD }
actions:
  - round_robin: { users: [3, 5, 9], key: sales, as: owner }
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { ASSIGNED_BY_ID: "{{ owner }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Routed to {{ owner }}" }
  - notify: { user: "{{ owner }}", message: "Lead {{ lead.ID }} is yours" }
`;

const TWINS = `${ROUTE('route-live')}---${ROUTE('route-shadow', 'mode: shadow')}`;

function newLeads(h: Harness, n: number, fields: Record<string, unknown> = {}): string[] {
  return h.emu.store.seed('lead', Array.from({ length: n }, (_, i) => ({ TITLE: `Shadow lead ${i}`, STATUS_ID: 'NEW', ASSIGNED_BY_ID: 1, SOURCE_ID: 'WEB', ...fields })));
}

const ofRule = (h: Harness, ruleId: string): EffectRecord[] =>
  h.store.runs
    .list({ ruleId, limit: 1000 })
    .reverse()
    .flatMap((r) => h!.store.effects.forRun(r.id));

/** A person's change on the portal (no event: the test adds it). */
function put(h: Harness, id: string, fields: Record<string, unknown>): void {
  h.emu.store.put('lead', id, { ...h.emu.store.get('lead', id)!, ...fields });
}

/** A call as the portal would get it, without what names the rule (effect keys). */
const call = (e: EffectRecord) => ({ method: e.method, params: e.params });

/** Every write the emulator answered, batch sub-commands included. */
const writesAtPortal = (h: Harness) => h.emu.calls.records.filter((r) => !/\.(get|list)$/.test(r.method) && r.method !== 'batch' && !r.method.startsWith('user.'));

describe('a shadow rule beside its live twin', () => {
  it('journals the calls its twin sends, in state shadow, and none of them reaches the portal', async () => {
    h = await harness(TWINS);
    const ids = newLeads(h, 4);
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    await drain(h.engine, h.clock);

    const live = ofRule(h, 'route-live');
    const shadow = ofRule(h, 'route-shadow');
    expect(live.map((e) => e.state)).toEqual(Array(12).fill('done'));
    expect(shadow.map((e) => e.state)).toEqual(Array(12).fill('shadow'));
    // The planned calls are the sent ones: same methods, same params, same order.
    expect(shadow.map(call)).toEqual(live.map(call));
    for (const e of shadow) {
      expect(e.sentAt).toBeNull();
      expect(e.attempts).toBe(0);
      expect(e.effectKey.startsWith('route-shadow:')).toBe(true);
    }
    // The portal got the live calls once each, and nothing more: the shadow twin's never left.
    const writes = writesAtPortal(h);
    expect(writes.map((w) => w.method).sort()).toEqual([...Array(4).fill('crm.lead.update'), ...Array(4).fill('crm.timeline.comment.add'), ...Array(4).fill('im.notify.system.add')].sort());
    for (const id of ids) expect(h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === id)).toHaveLength(1);
    // The runs say which is which; the items are done as usual.
    const runs = h.store.runs.summaries({ limit: 100 });
    expect(runs.filter((r) => r.ruleId === 'route-shadow').every((r) => r.mode === 'shadow' && r.status === 'done')).toBe(true);
    expect(runs.filter((r) => r.ruleId === 'route-live').every((r) => r.mode === 'live' && r.status === 'done')).toBe(true);
    expect(h.store.runs.summaries({ mode: 'shadow', limit: 100 }).map((r) => r.ruleId)).toEqual(Array(4).fill('route-shadow'));
    expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0, failed: 0, done: 12, shadow: 12 });
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 4, running: 0, pending: 0 });
    const trace = h.store.runs.list({ ruleId: 'route-shadow', limit: 1 })[0]!.trace;
    expect(trace.mode).toMatch(/^shadow/);
    expect((trace.effects as Array<{ state: string }>).map((e) => e.state)).toEqual(['shadow', 'shadow', 'shadow']);
  });

  it('keeps its round-robin turns and dedupe keys apart: turned live, the rule starts from its own first turn and its keys are unused', async () => {
    const shadowRule = ROUTE('router', 'mode: shadow\ndedupe: "route:{{ lead.ID }}"');
    h = await harness(shadowRule);
    const ids = newLeads(h, 2);
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    await drain(h.engine, h.clock);
    // Two turns taken in shadow, under the rule's shadow space only.
    expect(h.store.positions.position('router', 'sales')).toBe(0);
    expect(h.store.positions.position('shadow:router', 'sales')).toBe(2);
    expect(h.store.dedupe.has('router', `route:${ids[0]}`)).toBe(false);
    expect(h.store.dedupe.has('shadow:router', `route:${ids[0]}`)).toBe(true);
    expect(writesAtPortal(h)).toEqual([]);

    // The one-line switch: `mode: shadow` removed. The next event of the same lead acts (its dedupe key was a shadow one), from the first turn.
    h.engine.setRules(rules(ROUTE('router', 'dedupe: "route:{{ lead.ID }}"')));
    h.emu.calls.clear();
    h.store.inbox.add([leadEvent(ids[0]!)]);
    await drain(h.engine, h.clock);
    const updates = h.emu.calls.of('crm.lead.update', { batch: true });
    expect(updates.map((u) => [String(u.params.id), String((u.params.fields as Record<string, unknown>).ASSIGNED_BY_ID)])).toEqual([[ids[0], '3']]);
    expect(h.store.positions.position('router', 'sales')).toBe(1);
    // Nothing of the shadow runs was replayed: the other lead got nothing, and their journal is as it was.
    expect(writesAtPortal(h).filter((w) => JSON.stringify(w.params).includes(`"${ids[1]}"`))).toEqual([]);
    const all = h.store.runs.summaries({ ruleId: 'router', limit: 10 });
    expect(all.map((r) => r.mode)).toEqual(['live', 'shadow', 'shadow']);
    expect(h.store.effects.countByState()).toMatchObject({ shadow: 6, done: 3 });
  });

  it('a result a later action reads (as) is a placeholder in the journal; nothing is created', async () => {
    h = await harness(`
id: upsell-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - create: { entity: deal, as: deal_id, fields: { TITLE: "Upsell for {{ lead.TITLE }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Opened deal {{ deal_id }}" }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    // One tick: the run's second round (the comment, which reads the create's result) is planned in the same commit.
    await h.engine.tick();
    const [create, comment] = ofRule(h, 'upsell-shadow');
    expect(create!.method).toBe('crm.deal.add');
    expect(create!.state).toBe('shadow');
    expect(create!.result).toBe(`shadow:${create!.effectKey}`);
    // Planned in the same tick, once the placeholder was there.
    expect(comment!.state).toBe('shadow');
    expect((comment!.params.fields as { COMMENT: string }).COMMENT).toBe(`Opened deal shadow:${create!.effectKey}`);
    expect(h.emu.store.all('deal').filter((d) => String(d.TITLE).startsWith('Upsell'))).toEqual([]);
    expect(writesAtPortal(h)).toEqual([]);
    expect(h.store.runs.summaries({ ruleId: 'upsell-shadow' })[0]!.status).toBe('done');
  });

  it('a shadow run with results used across three rounds is planned to its end in one tick', async () => {
    h = await harness(`
id: chain-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - create: { entity: deal, as: first, fields: { TITLE: "First for {{ lead.ID }}" } }
  - create: { entity: deal, as: second, fields: { TITLE: "After {{ first }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Opened {{ second }}" }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    await h.engine.tick();
    const calls = ofRule(h, 'chain-shadow');
    expect(calls.map((e) => e.method)).toEqual(['crm.deal.add', 'crm.deal.add', 'crm.timeline.comment.add']);
    expect((calls[2]!.params.fields as { COMMENT: string }).COMMENT).toBe(`Opened shadow:${calls[1]!.effectKey}`);
    expect(h.store.runs.summaries({ ruleId: 'chain-shadow' })[0]!.status).toBe('done');
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1 });
  });

  it('a shadow member of a group never decides for the live ones: it acts on its own condition, and the live member after it still acts', async () => {
    h = await harness(`
id: route-first-shadow
mode: shadow
group: route
priority: 1
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "First team" }
---
id: route-second
group: route
priority: 2
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Second team" }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect(ofRule(h, 'route-first-shadow').map((e) => e.state)).toEqual(['shadow']);
    expect(ofRule(h, 'route-second').map((e) => e.state)).toEqual(['done']);
    expect(h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === id).map((c) => c.COMMENT)).toEqual(['Second team']);
  });

  it('a shadow run that fails ends failed without dead-lettering its item', async () => {
    h = await harness(`${ROUTE('route-live')}---
id: broken-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.NO_SUCH_FIELD }}", text: "never" }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    const broken = h.store.runs.summaries({ ruleId: 'broken-shadow' })[0]!;
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/id is empty/);
    expect(h.store.dlq.count()).toBe(0);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
    expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(1);
  });

  it('a delay in a shadow rule: the timer runs, the calls after it are journaled, none is sent', async () => {
    h = await harness(`
id: nudge-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "New lead" }
  - delay: 2h
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Two hours later" }
`);
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    const run = h.store.runs.summaries({ ruleId: 'nudge-shadow' })[0]!;
    expect(run.status).toBe('delayed');
    expect(h.store.timers.countByState()).toMatchObject({ pending: 1 });
    h.clock.advance(2 * 3600_000 + 1000);
    await drain(h.engine, h.clock);
    expect(h.store.runs.get(run.id)!.status).toBe('done');
    expect(ofRule(h, 'nudge-shadow').map((e) => [e.state, (e.params.fields as { COMMENT: string }).COMMENT])).toEqual([
      ['shadow', 'New lead'],
      ['shadow', 'Two hours later'],
    ]);
    expect(writesAtPortal(h)).toEqual([]);
  });
});

describe('snapshots and a shadow rule', () => {
  const STAGE = (id: string, extra = '') => `
id: ${id}
${extra}
trigger: { event: ONCRMLEADUPDATE, changed: { STATUS_ID: { to: IN_PROCESS } } }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "In process (from {{ changes.STATUS_ID.from }})" }
`;

  it('a shadow rule alone writes no live snapshot: its own tells changes apart, and a live rule added later sees the record for the first time', async () => {
    h = await harness(STAGE('stage-shadow', 'mode: shadow'));
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    expect(h.store.snapshots.get('lead', id!)).toBeUndefined();
    expect(h.store.snapshots.get('shadow:stage-shadow:lead', id!)?.fields.STATUS_ID).toBe('NEW');
    // A real change: the shadow rule sees it against its own snapshot (from NEW), not as a first sight.
    put(h, id!, { STATUS_ID: 'IN_PROCESS' });
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    expect(ofRule(h, 'stage-shadow').map((e) => (e.params.fields as { COMMENT: string }).COMMENT)).toEqual(['In process (from NEW)']);
    expect(h.store.snapshots.get('lead', id!)).toBeUndefined();

    // A live rule now: the engine never saw the lead live, so its first event is a first sight.
    h.engine.setRules(rules(STAGE('stage-live')));
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    const live = ofRule(h, 'stage-live');
    expect(live.map((e) => [e.state, (e.params.fields as { COMMENT: string }).COMMENT])).toEqual([['done', 'In process (from )']]);
  });

  it('regression: a DLQ retry of the item gives the live rule its own change set, not the shadow rule’s (the shadow rule first in the file)', async () => {
    // The live rule's condition cannot be evaluated while the lead's pattern is broken ("(" is no regular expression).
    const LIVE = `
id: stage-live
trigger: { event: ONCRMLEADUPDATE, changed: { STATUS_ID: { to: IN_PROCESS } } }
condition: { matches: [{ var: lead.TITLE }, { var: lead.SOURCE_DESCRIPTION }] }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "In process (from {{ changes.STATUS_ID.from }})" }
on_error: { retries: 0, then: dead_letter }
`;
    h = await harness(STAGE('stage-shadow', 'mode: shadow'));
    const [id] = newLeads(h, 1, { SOURCE_DESCRIPTION: '(' });
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    // The shadow rule has seen the lead NEW; the live rule, added now, never saw it: its first event is a first sight.
    h.engine.setRules(rules(`${STAGE('stage-shadow', 'mode: shadow')}---${LIVE}`));
    put(h, id!, { STATUS_ID: 'IN_PROCESS' });
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    expect(h.store.dlq.count()).toBe(1);
    expect(ofRule(h, 'stage-shadow').map((e) => (e.params.fields as { COMMENT: string }).COMMENT)).toEqual(['In process (from NEW)']);

    // Fixed, and retried: the live rule's change set is the first sight it stored, not the shadow rule's "from NEW".
    put(h, id!, { SOURCE_DESCRIPTION: 'Shadow' });
    h.store.dlq.retry(h.store.dlq.list()[0]!.id);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ dead: 0 });
    expect(ofRule(h, 'stage-live').filter((e) => e.state === 'done').map((e) => (e.params.fields as { COMMENT: string }).COMMENT)).toEqual(['In process (from )']);
  });

  it.each(['shadow first', 'live first'])('beside a live twin (%s in the file) both see the same change, and the echo of the twin’s own write is no change to either', async (order) => {
    // No changed: here, so a run acts on any real change: the echo of the live twin's update must not be one for the shadow twin either.
    const WORK = (id: string, extra = '') => `
id: ${id}
${extra}
trigger: { event: ONCRMLEADUPDATE }
condition: { "==": [{ var: lead.STATUS_ID }, IN_PROCESS] }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Working on it" }
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { COMMENTS: "seen in process" } }
`;
    const twins = [WORK('work-shadow', 'mode: shadow'), WORK('work-live')];
    h = await harness((order === 'shadow first' ? twins : twins.reverse()).join('---'));
    const [id] = newLeads(h, 1);
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    put(h, id!, { STATUS_ID: 'IN_PROCESS' });
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    // The live twin's update comes back as an event: the live snapshot has its field, so neither rule sees a change.
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    expect(ofRule(h, 'work-live').map((e) => e.method)).toEqual(['crm.timeline.comment.add', 'crm.lead.update']);
    expect(ofRule(h, 'work-shadow').map(call)).toEqual(ofRule(h, 'work-live').map(call));
    const unchanged = h.store.runs
      .summaries({ limit: 20 })
      .filter((r) => r.status === 'skipped' && /^record unchanged/.test(r.reason ?? ''))
      .map((r) => r.ruleId)
      .sort();
    expect(unchanged).toEqual(['work-live', 'work-shadow']);
    expect(h.store.snapshots.get('lead', id!)?.fields.COMMENTS).toBe('seen in process');
  });

  it.each(['one tick', 'two ticks'])('a shadow rule compares with the live snapshot when it is the newer (%s): no change a live rule already saw', async (ticks) => {
    h = await harness(`
id: greet-live
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello" }
---${STAGE('stage-shadow', 'mode: shadow')}`);
    const [id] = newLeads(h, 1, { STATUS_ID: 'IN_PROCESS' });
    h.store.inbox.add([leadEvent(id!)]);
    if (ticks === 'two ticks') await drain(h.engine, h.clock);
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    // The live rule saw the lead in process already: were the shadow rule live, it would see no change either.
    expect(h.store.runs.summaries({ ruleId: 'stage-shadow' }).map((r) => [r.status, r.reason])).toEqual([['skipped', 'changed: STATUS_ID did not change']]);
    expect(ofRule(h, 'stage-shadow')).toEqual([]);
  });

  it('another shadow rule’s sightings do not change what a shadow twin sees: each keeps its own snapshots', async () => {
    const TWIN = (id: string, extra = '') => `
id: ${id}
${extra}
trigger: { event: ONCRMLEADUPDATE, changed: { STATUS_ID: { to: IN_PROCESS } } }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "In process" }
`;
    h = await harness(`
id: greet-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello" }
---${TWIN('progress-shadow', 'mode: shadow')}---${TWIN('progress-live')}`);
    const [id] = newLeads(h, 1, { STATUS_ID: 'IN_PROCESS' });
    // Only a shadow rule hears the lead's creation: no live snapshot, and none of the twin's.
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect(h.store.snapshots.get('shadow:greet-shadow:lead', id!)).toBeDefined();
    expect(h.store.snapshots.get('shadow:progress-shadow:lead', id!)).toBeUndefined();
    // The first update the twins hear is a first sight to both (STATUS_ID counts as changed to IN_PROCESS): both act.
    h.store.inbox.add([leadEvent(id!, 'ONCRMLEADUPDATE')]);
    await drain(h.engine, h.clock);
    expect(ofRule(h, 'progress-live').map((e) => e.state)).toEqual(['done']);
    expect(ofRule(h, 'progress-shadow').map(call)).toEqual(ofRule(h, 'progress-live').map(call));
  });
});

describe('a rule switched from live to shadow and back', () => {
  it('its shadow runs respect the dedupe keys it used live and keep their own apart', async () => {
    const RULE = (extra = '') => `
id: welcome
${extra}
dedupe: "welcome:{{ lead.ID }}"
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome" }
`;
    h = await harness(RULE());
    const [a, b] = newLeads(h, 2);
    h.store.inbox.add([leadEvent(a!)]);
    await drain(h.engine, h.clock);
    h.engine.setRules(rules(RULE('mode: shadow')));
    h.store.inbox.add([leadEvent(a!), leadEvent(b!)]);
    await drain(h.engine, h.clock);
    const shadowRuns = h.store.runs.summaries({ ruleId: 'welcome', mode: 'shadow' });
    // Lead a: the key its live run used stops the shadow run, as it would stop a live one. Lead b: journaled.
    expect(shadowRuns.map((r) => [r.recordKey, r.status, r.reason])).toEqual([
      [`lead:${b}`, 'done', null],
      [`lead:${a}`, 'skipped', `dedupe: key "welcome:${a}" was used by an earlier run`],
    ]);
    expect(h.store.dedupe.has('welcome', `welcome:${b}`)).toBe(false);
    // Its own key stops the next shadow run of lead b.
    h.store.inbox.add([leadEvent(b!)]);
    await drain(h.engine, h.clock);
    expect(h.store.runs.summaries({ ruleId: 'welcome', mode: 'shadow', limit: 1 }).map((r) => r.reason)).toEqual([`dedupe: key "welcome:${b}" was used by an earlier run`]);
    h.engine.setRules(rules(RULE()));
    h.emu.calls.clear();
    h.store.inbox.add([leadEvent(b!)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.timeline.comment.add', { batch: true }).map((c) => String((c.params.fields as { ENTITY_ID: unknown }).ENTITY_ID))).toEqual([b]);
  });
});

/** A client that passes reads through and, for the first write batch, sends it and loses the answer (a crash after the send). */
function losingClient(real: B24ClientApi): B24ClientApi & { lost: number } {
  const c = {
    lost: 0,
    call: real.call.bind(real),
    listAll: real.listAll.bind(real),
    async batch(cmds: Record<string, BatchCommand> | BatchCommand[], options?: { halt?: boolean }) {
      const writes = Object.values(cmds).some((x) => !/\.(get|list)$/.test(x.method));
      if (!writes || c.lost > 0) return real.batch(cmds, options);
      c.lost += 1;
      await real.batch(cmds, options);
      throw new Error('simulated crash: the process died before the answer was recorded');
    },
  };
  return c;
}

describe('a crash and a restart', () => {
  it('recover the live twin’s calls in doubt and never send, look up or touch a shadow call', async () => {
    h = await harness(TWINS);
    const ids = newLeads(h, 3);
    const losing = losingClient(h.client);
    const first = h.reopen({ client: losing });
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    await first.tick();
    expect(losing.lost).toBe(1);
    expect(h.store.effects.countByState()).toMatchObject({ sent: 9, shadow: 9 });
    const before = ofRule(h, 'route-shadow');

    // A new process on the same file.
    const second = h.reopen();
    h.emu.calls.clear();
    await drain(second, h.clock);
    expect(h.store.effects.countByState()).toMatchObject({ sent: 0, pending: 0, shadow: 9 });
    expect(ofRule(h, 'route-shadow')).toEqual(before);
    // Recovery re-sent the updates and looked up the comments (found); no request carried a shadow call.
    const writes = writesAtPortal(h);
    expect(writes.every((w) => w.method === 'crm.lead.update')).toBe(true);
    expect(h.emu.store.all('timeline_comment')).toHaveLength(3);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 3 });
  });
});

describe('a shadow rule whose matching fails', () => {
  it('a foreach over more rows than max_records ends in a failed shadow run; the item is done, not dead-lettered', async () => {
    h = await harness(`
id: bulk-shadow
mode: shadow
trigger: { manual: {} }
foreach:
  entity: deal
  as: deal
  filter: { ">=ID": 1 }
  max_records: 2
dedupe: "bulk-shadow:{{ deal.ID }}"
actions:
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Review" } }
`);
    h.emu.store.seed('deal', Array.from({ length: 5 }, (_, i) => ({ TITLE: `Deal ${i}`, STAGE_ID: 'NEW' })));
    h.store.inbox.add([{ source: 'manual', key: 'bulk-1', event: null, ruleId: 'bulk-shadow', payload: { params: {} }, receivedAt: 0 }]);
    await drain(h.engine, h.clock);
    expect(h.store.dlq.list()).toEqual([]);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
    const runs = h.store.runs.list({ ruleId: 'bulk-shadow' });
    expect(runs.map((r) => ({ status: r.status, mode: r.mode }))).toEqual([{ status: 'failed', mode: 'shadow' }]);
    expect(runs[0]!.error).toMatch(/max_records \(2\)/);
    expect(writesAtPortal(h)).toEqual([]);
  });
});
