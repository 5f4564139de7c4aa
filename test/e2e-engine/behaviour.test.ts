import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const comments = (h: Harness, deal: number) => h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === String(deal));

describe('dedupe', () => {
  it('a run whose dedupe key was used completed before is skipped; another key acts', async () => {
    h = await harness(`
id: once-per-stage
trigger: { event: ONCRMDEALUPDATE }
dedupe: "stage:{{ deal.ID }}:{{ deal.STAGE_ID }}"
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Stage {{ deal.STAGE_ID }}" }
`);
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    // Something else changed on the deal, the stage did not: same key.
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, TITLE: 'Renamed' });
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 1)).toHaveLength(1);
    const skipped = h.store.runs.list({ ruleId: 'once-per-stage' })[0]!;
    expect(skipped.status).toBe('skipped');
    expect(String(skipped.trace.reason)).toMatch(/dedupe/);
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, STAGE_ID: 'EXECUTING' });
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 1).map((c) => c.COMMENT)).toEqual(['Stage PREPARATION', 'Stage EXECUTING']);
  });
});

describe('update', () => {
  it('sends only the fields that differ, nothing when none differ, and its own write does not trigger the rule again', async () => {
    h = await harness(`
id: normalize
trigger: { event: ONCRMDEALUPDATE }
actions:
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { PROBABILITY: 70, UF_CRM_NEXT_STEP: "Qualify", STAGE_ID: "{{ deal.STAGE_ID }}" } }
`);
    // Deal 1: PROBABILITY is already "70", STAGE_ID unchanged: only UF_CRM_NEXT_STEP goes out.
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    const updates = h.emu.calls.of('crm.deal.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]!.params).toMatchObject({ id: '1', fields: { UF_CRM_NEXT_STEP: 'Qualify' } });
    expect(Object.keys((updates[0]!.params as { fields: object }).fields)).toEqual(['UF_CRM_NEXT_STEP']);
    const run = h.store.runs.list({ ruleId: 'normalize' })[0]!;
    expect(JSON.stringify(run.trace.actions)).toContain('"before":{"UF_CRM_NEXT_STEP":"Schedule demo"}');

    // The portal reports the engine's own change back as an event: unchanged record → no run acts, no second update.
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.deal.update')).toHaveLength(1);
    expect(h.store.runs.list({ ruleId: 'normalize' })[0]!.trace.reason).toMatch(/unchanged/);

    // A real change by a user, but the fields already hold the wanted values: the run acts, the update sends nothing.
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, TITLE: 'Renamed by a user' });
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(h.emu.calls.of('crm.deal.update')).toHaveLength(1);
    const last = h.store.runs.list({ ruleId: 'normalize' })[0]!;
    expect(last.status).toBe('done');
    expect(JSON.stringify(last.trace.actions)).toMatch(/nothing sent/);
  });
});

describe('field-change triggers', () => {
  it('fire on a change to the named value compared with the snapshot, once', async () => {
    h = await harness(`
id: won
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: WON } }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Won from {{ changes.STAGE_ID.from }}" }
`);
    h.store.inbox.add([dealEvent(3)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 3)).toHaveLength(0);
    expect(h.store.snapshots.get('deal', 3)?.fields.STAGE_ID).toBe('EXECUTING');

    h.emu.store.put('deal', 3, { ...h.emu.store.get('deal', 3)!, STAGE_ID: 'WON' });
    h.store.inbox.add([dealEvent(3)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 3).map((c) => c.COMMENT)).toEqual(['Won from EXECUTING']);

    // Another change, still WON: not a change of STAGE_ID.
    h.emu.store.put('deal', 3, { ...h.emu.store.get('deal', 3)!, TITLE: 'x' });
    h.store.inbox.add([dealEvent(3)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 3)).toHaveLength(1);
    expect(h.store.runs.list({ ruleId: 'won' })[0]!.trace.reason).toMatch(/STAGE_ID did not change/);
  });
});

describe('concurrency', () => {
  it('serial: a second event for the same deal waits until the first run is finished', async () => {
    h = await harness(`
id: serial
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "event {{ event.data.n }}" }
`);
    const a = dealEvent(5);
    const b = dealEvent(5);
    const c = dealEvent(6);
    a.payload.data = { FIELDS: { ID: '5' }, n: 'a' };
    b.payload.data = { FIELDS: { ID: '5' }, n: 'b' };
    h.store.inbox.add([a, b, c]);
    const first = await h.engine.tick();
    expect(first.held).toBe(1);
    expect(comments(h, 5).map((x) => x.COMMENT)).toEqual(['event a']);
    expect(comments(h, 6)).toHaveLength(1);
    const runs = h.store.runs.list({ ruleId: 'serial' });
    expect(runs.filter((r) => r.status === 'new')).toHaveLength(1);
    await drain(h.engine, h.clock);
    // b ran after a had finished (and saw nothing new in the record: the default for update events).
    const bRun = h.store.runs.list({ ruleId: 'serial' }).find((r) => r.triggerKey.endsWith(b.key))!;
    const aRun = h.store.runs.list({ ruleId: 'serial' }).find((r) => r.triggerKey.endsWith(a.key))!;
    expect(bRun.updatedAt).toBeGreaterThanOrEqual(aRun.finishedAt!);
    expect(h.store.inbox.depth()).toBe(0);
  });

  it('skip: a run for a key with a run in flight is dropped', async () => {
    h = await harness(
      `
id: skipper
trigger: { event: ONCRMDEALUPDATE }
concurrency: { key: "{{ deal.COMPANY_ID }}", mode: skip }
actions:
  - http: { url: "http://127.0.0.1:9/never", as: r }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "x" }
on_error: { retries: 1, then: stop }
`,
      { http: async () => new Response('{}', { status: 503 }) as never },
    );
    // Deals 1 and 2 belong to different companies; 1 and 11 may share one: use two events for deal 1.
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    // The first run is waiting for its retry (in flight): a second one for the same company is skipped.
    expect(h.store.runs.list({ ruleId: 'skipper' })[0]!.status).toBe('waiting');
    h.emu.store.put('deal', 1, { ...h.emu.store.get('deal', 1)!, TITLE: 'changed' });
    h.store.inbox.add([dealEvent(1)]);
    await h.engine.tick();
    const latest = h.store.runs.list({ ruleId: 'skipper' })[0]!;
    expect(latest.status).toBe('skipped');
    expect(String(latest.trace.reason)).toMatch(/concurrency/);
    await drain(h.engine, h.clock);
    expect(h.store.runs.list({ ruleId: 'skipper', failed: true })).toHaveLength(1);
    expect(h.store.dlq.count()).toBe(0);
  });
});

describe('on_error', () => {
  const rule = (then: string) => `
id: fragile
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "before" }
  - call: { method: im.notify.system.add, params: { USER_ID: 999, MESSAGE: nobody }, as: note }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "after, note {{ note | default: none }}" }
on_error: { retries: 1, then: ${then} }
`;

  it('continue: after the retries the failed call is given up and the next actions run', async () => {
    h = await harness(rule('continue'));
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 1).map((c) => c.COMMENT)).toEqual(['before', 'after, note none']);
    // First attempt + 1 retry.
    expect(h.emu.calls.of('im.notify.system.add')).toHaveLength(2);
    expect(h.store.runs.list({ ruleId: 'fragile' })[0]).toMatchObject({ status: 'done' });
    expect(h.store.dlq.count()).toBe(0);
  });

  it('stop: the run ends failed, the item is done, nothing goes to the DLQ', async () => {
    h = await harness(rule('stop'));
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    expect(comments(h, 1).map((c) => c.COMMENT)).toEqual(['before']);
    expect(h.store.runs.list({ ruleId: 'fragile' })[0]).toMatchObject({ status: 'failed' });
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
    expect(h.store.dlq.count()).toBe(0);
  });
});

describe('portal outage', () => {
  it('reads failing as a whole (portal down) retry without spending the rule retries, then succeed', async () => {
    h = await harness(`
id: patient
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "hello" }
on_error: { retries: 1, then: dead_letter }
`);
    h.store.inbox.add([dealEvent(1)]);
    h.emu.setFaults({ errorRate: 1 });
    for (let i = 0; i < 5; i++) {
      await h.engine.tick();
      h.clock.advance(60_000);
    }
    expect(h.store.dlq.count()).toBe(0);
    expect(h.store.inbox.depth()).toBe(1);
    h.emu.setFaults({ errorRate: 0 });
    await drain(h.engine, h.clock);
    expect(comments(h, 1)).toHaveLength(1);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
  });
});

describe('portal limits inside a batch', () => {
  it('sub-commands refused with OPERATION_TIME_LIMIT are sent again later without spending the rule retries', async () => {
    h = await harness(
      `
id: limited
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "hello" }
on_error: { retries: 0, then: dead_letter }
`,
      { emulator: { limits: { burst: 100_000, drainPerSec: 100_000, operatingBudgetSec: 0.05, costs: { 'crm.timeline.comment.add': 0.02 } } } },
    );
    h.store.inbox.add([1, 2, 3, 4, 5, 6].map((id) => dealEvent(id)));
    await h.engine.tick();
    expect(h.emu.calls.of('crm.timeline.comment.add').some((c) => c.error === 'OPERATION_TIME_LIMIT')).toBe(true);
    await drain(h.engine, h.clock, 40);
    expect(h.store.dlq.count()).toBe(0);
    expect(h.emu.store.all('timeline_comment')).toHaveLength(6);
  });
});
