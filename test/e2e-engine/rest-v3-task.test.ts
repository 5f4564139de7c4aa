/**
 * Issue 15, REST 3.0: a task the engine creates goes through /rest/api/ with
 * its effect key as the Idempotency-Key (client restV3 on), so after a lost
 * answer or a crash it is sent again with the same key, and the portal answers
 * from the first send: created once, no look-up by title (tasks.task.list).
 * The emulator over HTTP, the real client and a real state file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client, type B24ClientApi } from '../../engine/client/index.js';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
let v3: B24Client | undefined;
afterEach(async () => {
  await v3?.close();
  v3 = undefined;
  await h?.close();
  h = undefined;
});

const RULE = `
id: won-task
trigger: { event: ONCRMDEALUPDATE }
actions:
  - task:
      title: "Call back {{ deal.ID }}"
      responsible: 1
      bind: { entity: deal, id: "{{ deal.ID }}" }
      as: t
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Task {{ t.id }} is open" }
`;
const SETTLE = 60_000;

function v3Client(h: Harness): B24Client {
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(h.emu.webhookUrl)!;
  v3 = createClient({ baseUrl: m[1]!, plan: 'enterprise', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! }, restV3: true }, { rateLimit: false, clock: h.clock, retries: 0 });
  return v3;
}

const tasksFor = (h: Harness, deal: number) => h.emu.store.all('task').filter((t) => String(t.title) === `Call back ${deal}`);
const allEffects = (h: Harness) => (['pending', 'sent', 'done', 'failed'] as const).flatMap((s) => h.store.effects.inState(s));
const taskEffect = (h: Harness) => allEffects(h).find((e) => e.method === 'tasks.task.add')!;

describe('a task created through REST 3.0 with its Idempotency-Key', () => {
  it('regression: the connection drops after the portal created it: sent again with the same key once the first cannot be running, created once, never looked up', async () => {
    h = await harness(RULE);
    const engine = h.reopen({ client: v3Client(h), options: { inDoubtSettleMs: SETTLE } });
    h.emu.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['tasks.task.add'], maxFaults: 1 });
    h.store.inbox.add([dealEvent(1)]);
    await engine.tick();
    expect(tasksFor(h, 1)).toHaveLength(1);
    expect(taskEffect(h)).toMatchObject({ state: 'sent', meta: { v3: { idempotencyKey: taskEffect(h).effectKey } } });

    // Before the settle the first send may still be running at the portal: not sent again.
    h.clock.advance(SETTLE / 2);
    await engine.tick();
    expect(h.emu.calls.of('tasks.task.add')).toHaveLength(1);

    h.clock.advance(SETTLE);
    await drain(engine, h.clock);
    const sends = h.emu.calls.of('tasks.task.add');
    expect(sends.map((c) => [c.api, c.idempotencyKey, c.replayed ?? false])).toEqual([
      ['v3', taskEffect(h).effectKey, false],
      ['v3', taskEffect(h).effectKey, true],
    ]);
    expect(tasksFor(h, 1)).toHaveLength(1);
    expect(h.emu.calls.of('tasks.task.list')).toHaveLength(0);
    // The replayed answer is the first one's, in REST 1's shape: the comment names the task the portal made.
    const id = String(tasksFor(h, 1)[0]!.id);
    expect(taskEffect(h)).toMatchObject({ state: 'done', result: { task: { id } } });
    expect(h.emu.store.all('timeline_comment').filter((c) => c.COMMENT === `Task ${id} is open`)).toHaveLength(1);
    expect(h.store.runs.list({ ruleId: 'won-task' }).map((r) => r.status)).toEqual(['done']);
  });

  it('regression: the portal created the task and then answered 500: the key keeps no failure, so it is looked up, found and not sent again', async () => {
    h = await harness(RULE);
    const engine = h.reopen({ client: v3Client(h), options: { inDoubtSettleMs: SETTLE } });
    h.emu.setFaults({ errorRate: 1, errorWhen: 'after', methods: ['tasks.task.add'], maxFaults: 1 });
    h.store.inbox.add([dealEvent(1)]);
    await engine.tick();
    expect(tasksFor(h, 1)).toHaveLength(1);
    expect(taskEffect(h)).toMatchObject({ state: 'sent', meta: { v3: { idempotencyKey: taskEffect(h).effectKey, serverError: true } } });
    h.clock.advance(SETTLE + 1);
    await drain(engine, h.clock);
    // Sent once (the 500), then found by the REST 1 look-up: a resend with the key would have made a second task.
    expect(h.emu.calls.of('tasks.task.add')).toHaveLength(1);
    expect(h.emu.calls.of('tasks.task.list').length).toBeGreaterThanOrEqual(1);
    expect(tasksFor(h, 1)).toHaveLength(1);
    const id = String(tasksFor(h, 1)[0]!.id);
    expect(taskEffect(h).state).toBe('done');
    expect(h.emu.store.all('timeline_comment').filter((c) => c.COMMENT === `Task ${id} is open`)).toHaveLength(1);
  });

  it('the portal answered 500 without creating it: not found after the settle, sent again with its key, created once', async () => {
    h = await harness(RULE);
    const engine = h.reopen({ client: v3Client(h), options: { inDoubtSettleMs: SETTLE } });
    h.emu.setFaults({ errorRate: 1, errorWhen: 'before', methods: ['tasks.task.add'], maxFaults: 1 });
    h.store.inbox.add([dealEvent(1)]);
    await engine.tick();
    expect(tasksFor(h, 1)).toHaveLength(0);
    h.clock.advance(SETTLE + 1);
    await drain(engine, h.clock);
    expect(h.emu.calls.of('tasks.task.add').map((c) => [c.api, c.idempotencyKey])).toEqual([
      ['v3', taskEffect(h).effectKey],
      ['v3', taskEffect(h).effectKey],
    ]);
    expect(tasksFor(h, 1)).toHaveLength(1);
    expect(taskEffect(h).state).toBe('done');
  });

  it('the process dies after the portal created the task, before the answer was recorded: a new engine on the state file sends it again with the key, created once', async () => {
    h = await harness(RULE);
    const real = v3Client(h);
    // Sends for real, then "dies": the answer is never recorded.
    const dying: B24ClientApi = {
      call: real.call.bind(real),
      batch: real.batch.bind(real),
      listAll: real.listAll.bind(real),
      routesV3: real.routesV3.bind(real),
      async callRoutedV3(method, params, key) {
        await real.callRoutedV3(method, params, key);
        throw new Error('simulated crash: the process died before the answer was recorded');
      },
    };
    h.store.inbox.add([dealEvent(1), dealEvent(2)]);
    await h.reopen({ client: dying, options: { inDoubtSettleMs: SETTLE } }).tick();
    expect(tasksFor(h, 1)).toHaveLength(1);

    const second = h.reopen({ client: real, options: { inDoubtSettleMs: SETTLE } });
    h.clock.advance(SETTLE + 1);
    await drain(second, h.clock);
    for (const deal of [1, 2]) expect(tasksFor(h, deal), `tasks for deal ${deal}`).toHaveLength(1);
    expect(h.emu.calls.of('tasks.task.list')).toHaveLength(0);
    expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0, failed: 0 });
  });

  it('a task REST 3.0 cannot create (co-executors) goes through REST 1 in the write batch and keeps its look-up', async () => {
    h = await harness(`
id: team-task
trigger: { event: ONCRMDEALUPDATE }
actions:
  - create: { entity: task, fields: { TITLE: "Team call {{ deal.ID }}", RESPONSIBLE_ID: 1, ACCOMPLICES: [2] } }
`);
    const engine = h.reopen({ client: v3Client(h) });
    h.store.inbox.add([dealEvent(1)]);
    await drain(engine, h.clock);
    const after = h.emu.calls.of('tasks.task.add');
    expect(after).toHaveLength(1);
    expect(after[0]!.api).toBeUndefined();
    expect(after[0]!.batch).toBeDefined();
    expect(taskEffect(h)).toMatchObject({ recovery: 'lookup', state: 'done' });
  });
});
