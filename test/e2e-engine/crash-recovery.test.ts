import { afterEach, describe, expect, it } from 'vitest';
import type { B24ClientApi, BatchCommand } from '../../engine/client/types.js';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: won-followup
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Follow-up for {{ deal.TITLE }}" }
  - task:
      title: "Call back {{ deal.ID }}"
      responsible: 2
      bind: { entity: deal, id: "{{ deal.ID }}" }
  - create:
      entity: lead
      fields: { TITLE: "Upsell from deal {{ deal.ID }}", STATUS_ID: NEW }
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Call back" } }
  - notify: { user: 2, message: "Deal {{ deal.ID }} needs a call" }
`;

const DEALS = [1, 2, 3, 4, 5];

/** A client that passes reads through and, for the first write batch, does `mode`: sends it and loses the answer, or dies before sending. */
function crashingClient(real: B24ClientApi, h: Harness, mode: 'after-send-drop' | 'after-send-throw' | 'before-send'): B24ClientApi & { crashed: boolean } {
  const c = {
    crashed: false,
    call: real.call.bind(real),
    listAll: real.listAll.bind(real),
    async batch(cmds: Record<string, BatchCommand> | BatchCommand[], options?: { halt?: boolean }) {
      const writes = Object.values(cmds).some((x) => !/\.(get|list)$/.test(x.method));
      if (!writes || c.crashed) return real.batch(cmds, options);
      c.crashed = true;
      if (mode === 'before-send') throw new Error('simulated crash: the process died before the request left');
      if (mode === 'after-send-throw') {
        await real.batch(cmds, options);
        throw new Error('simulated crash: the process died before the answer was recorded');
      }
      // The portal carries the batch out and the connection drops before the answer: what the real client sees.
      h.emu.setFaults({ dropRate: 1, dropWhen: 'after' });
      try {
        return await real.batch(cmds, options);
      } finally {
        h.emu.setFaults({ dropRate: 0 });
      }
    },
  };
  return c;
}

function assertEachOnce(h: Harness, notifications: 'once' | 'at-most-once', repeats = 0): void {
  const comments = h.emu.store.all('timeline_comment');
  const tasks = h.emu.store.all('task');
  const leads = h.emu.store.all('lead').filter((l) => String(l.ORIGINATOR_ID) === 'b24-rules');
  const notes = h.emu.store.all('notification');
  for (const id of DEALS) {
    expect(comments.filter((c) => String(c.ENTITY_ID) === String(id) && c.ENTITY_TYPE === 'deal'), `comments on deal ${id}`).toHaveLength(1);
    expect(tasks.filter((t) => String(t.TITLE ?? t.title) === `Call back ${id}`), `tasks for deal ${id}`).toHaveLength(1);
    expect(leads.filter((l) => l.TITLE === `Upsell from deal ${id}`), `leads from deal ${id}`).toHaveLength(1);
    expect(String(h.emu.store.get('deal', id)?.UF_CRM_NEXT_STEP)).toBe('Call back');
  }
  if (notifications === 'once') expect(notes).toHaveLength(DEALS.length);
  else expect(notes.length).toBeLessThanOrEqual(DEALS.length);
  expect(h.store.inbox.countByStatus()).toMatchObject({ pending: 0, running: 0, dead: 0, done: DEALS.length + repeats });
  expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0, failed: 0 });
}

describe('restart after a crash mid-batch', () => {
  it('portal carried out the batch, the connection dropped: after reopening the state file nothing is created twice', async () => {
    h = await harness(RULE);
    const crashing = crashingClient(h.client, h, 'after-send-drop');
    const first = h.reopen({ client: crashing });
    h.store.inbox.add(DEALS.map((id) => dealEvent(id)));
    await first.tick();
    expect(crashing.crashed).toBe(true);
    expect(h.store.effects.countByState().sent).toBeGreaterThan(0);
    expect(h.emu.store.all('timeline_comment')).toHaveLength(DEALS.length);

    // A new process on the same file.
    const second = h.reopen();
    await drain(second, h.clock);
    // The portal sent the notifications; in doubt they are not sent again: exactly once here.
    assertEachOnce(h, 'once');
    // Creates were looked up (by ORIGIN_ID, by text, by title), not re-sent.
    expect(h.emu.calls.of('crm.lead.list').length).toBeGreaterThan(0);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('tasks.task.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('crm.lead.add')).toHaveLength(DEALS.length);
  });

  it('the process died after marking the calls sent and sending them, before recording the answers', async () => {
    h = await harness(RULE);
    const first = h.reopen({ client: crashingClient(h.client, h, 'after-send-throw') });
    h.store.inbox.add(DEALS.map((id) => dealEvent(id)));
    await first.tick();
    const second = h.reopen();
    await drain(second, h.clock);
    assertEachOnce(h, 'at-most-once');
  });

  it('the process died after marking the calls sent but before they left: lookups find nothing and they are sent once', async () => {
    h = await harness(RULE);
    const first = h.reopen({ client: crashingClient(h.client, h, 'before-send') });
    h.store.inbox.add(DEALS.map((id) => dealEvent(id)));
    await first.tick();
    expect(h.emu.store.all('timeline_comment')).toHaveLength(0);
    const second = h.reopen();
    await drain(second, h.clock);
    // Notifications in doubt are not re-sent (at most once): here they were lost.
    assertEachOnce(h, 'at-most-once');
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(DEALS.length);
  });

  it('an engine that simply stops mid-flight (items running, effects sent, later items new) continues on reopen without repeating done calls', async () => {
    h = await harness(RULE);
    h.store.inbox.add(DEALS.map((id) => dealEvent(id)));
    // Two deals a tick, so the first tick finishes deals 1-2 and the second stops halfway through deals 3-4.
    const tuning = { options: { maxItemsPerTick: 2 } };
    await h.reopen(tuning).tick();
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 2, pending: 3, running: 0 });

    // The second tick's write batch reaches the portal, and its answer never comes: the process
    // is frozen there (then killed), so nothing after that point is recorded.
    let reached!: () => void;
    const frozen = new Promise<void>((resolve) => (reached = resolve));
    const hanging: B24ClientApi = {
      call: h.client.call.bind(h.client),
      listAll: h.client.listAll.bind(h.client),
      async batch(cmds, options) {
        const writes = Object.values(cmds).some((x) => !/\.(get|list)$/.test(x.method));
        if (!writes) return h!.client.batch(cmds, options);
        await h!.client.batch(cmds, options);
        reached();
        return new Promise<never>(() => {});
      },
    };
    void h.reopen({ client: hanging, ...tuning }).tick();
    await frozen;

    // Really mid-flight: deals 3-4 running with their calls sent and unanswered, deal 5 not started.
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 2, running: 2, pending: 1 });
    expect(h.store.effects.countByState().sent).toBeGreaterThan(0);
    expect(h.emu.store.all('timeline_comment').map((c) => String(c.ENTITY_ID)).sort()).toEqual(['1', '2', '3', '4']);
    h.store.inbox.add([dealEvent(1, 'ONCRMDEALUPDATE', 'p1:again')]);

    // A new process on the same file.
    const second = h.reopen();
    await drain(second, h.clock);
    // Deals 1-2 are not repeated, 3-4 are looked up rather than re-sent, 5 is done once.
    assertEachOnce(h, 'once', 1);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('tasks.task.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('crm.lead.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('im.notify.system.add')).toHaveLength(DEALS.length);
    // The second event for deal 1 is a repeat (record unchanged since the snapshot, apart from the engine's own write).
    expect(h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === '1')).toHaveLength(1);
  });

  it('a write that cannot be checked (call of an .add method) is not re-sent after a crash: the run goes to the DLQ for an operator', async () => {
    h = await harness(`
id: raw-call
trigger: { event: ONCRMDEALUPDATE }
actions:
  - call: { method: crm.activity.add, params: { fields: { OWNER_TYPE_ID: 2, OWNER_ID: "{{ deal.ID }}", TYPE_ID: 2, SUBJECT: "Call", RESPONSIBLE_ID: 1, COMMUNICATIONS: [{ VALUE: "+100", TYPE: PHONE }] } } }
`);
    const first = h.reopen({ client: crashingClient(h.client, h, 'after-send-throw') });
    h.store.inbox.add([dealEvent(1)]);
    await first.tick();
    const second = h.reopen();
    await drain(second, h.clock);
    expect(h.emu.calls.of('crm.activity.add')).toHaveLength(1);
    const [entry] = h.store.dlq.list();
    expect(entry?.error).toMatch(/EFFECT_IN_DOUBT/);
    expect(h.store.inbox.countByStatus().dead).toBe(1);
  });

  it('to-dos and workflows in doubt are looked up on their record, not started twice', async () => {
    h = await harness(`
id: todo-wf
trigger: { event: ONCRMDEALUPDATE }
actions:
  - todo: { entity: deal, id: "{{ deal.ID }}", title: "Call {{ deal.ID }}", deadline: "2026-03-05T10:00:00", responsible: 2 }
  - workflow: { template_id: 5, entity: deal, id: "{{ deal.ID }}" }
`);
    const first = h.reopen({ client: crashingClient(h.client, h, 'after-send-drop') });
    h.store.inbox.add(DEALS.map((id) => dealEvent(id)));
    await first.tick();
    const second = h.reopen();
    await drain(second, h.clock);
    expect(h.emu.calls.of('crm.activity.todo.add')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('bizproc.workflow.start')).toHaveLength(DEALS.length);
    expect(h.emu.calls.of('crm.activity.list').length).toBeGreaterThan(0);
    expect(h.emu.calls.of('bizproc.workflow.instances').length).toBeGreaterThan(0);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: DEALS.length, dead: 0 });
  });
});
