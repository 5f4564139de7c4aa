/**
 * A create in doubt whose lookup finds nothing is not sent again while its first send may still land
 * (engine/pipeline/0-recover.ts, inDoubtSettleMs). A portal that has received a request runs it to its
 * end even when its sender died: here the emulator holds the first engine's write batch after reading it,
 * the first engine is "killed" (its connections destroyed), a second engine on the same state file
 * recovers while the batch is still held, and the batch's work lands afterwards. Before the fix the
 * second engine's lookup found nothing and sent the comment again: two comments.
 */
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24ClientApi } from '../../engine/client/index.js';
import { until } from '../daemon/harness.js';
import { dealEvent, harness, type Harness } from './harness.js';

const RULE = `
id: settle
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Follow-up for {{ deal.ID }}" }
`;
const SETTLE = 60_000;

let h: Harness | undefined;
const agents: Agent[] = [];
const holds: Array<{ release(): void }> = [];
afterEach(async () => {
  // A held request keeps the emulator from closing.
  for (const hold of holds.splice(0)) hold.release();
  for (const a of agents.splice(0)) await a.destroy().catch(() => undefined);
  await h?.close();
  h = undefined;
});

/** A client of its own for the engine that will be killed: destroying its dispatcher cuts its connections. */
function killableClient(h: Harness): { client: B24ClientApi; kill: () => Promise<void> } {
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(h.emu.webhookUrl)!;
  const agent = new Agent();
  agents.push(agent);
  const client = createClient({ baseUrl: m[1]!, plan: 'enterprise', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! } }, { rateLimit: false, clock: h.clock, retries: 0, dispatcher: agent });
  return { client, kill: () => agent.destroy() };
}

const comments = (h: Harness) => h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === '1' && c.ENTITY_TYPE === 'deal');
/** Holds the first write batch with a comment, and no later one. */
function holdFirstCommentBatch(h: Harness) {
  let seen = 0;
  const hold = h.emu.hold(({ method, params }) => method === 'batch' && JSON.stringify(params).includes('crm.timeline.comment.add') && seen++ === 0);
  holds.push(hold);
  return hold;
}

describe('a create in doubt is not sent again while its first send may still land', () => {
  it('the first send held at the portal when its engine dies lands after the second engine recovered: found, never sent twice', async () => {
    h = await harness(RULE);
    const hold = holdFirstCommentBatch(h);
    const killable = killableClient(h);
    const first = h.reopen({ client: killable.client });
    h.store.inbox.add([dealEvent(1)]);
    const firstTick = first.tick();
    // The portal has read the write batch and not done its work yet: the engine dies now.
    await hold.held(1);
    await killable.kill();
    await firstTick;
    const [sent] = h.store.effects.inState('sent');
    expect(sent?.method).toBe('crm.timeline.comment.add');

    // A new engine on the same file, at once: the lookup finds nothing, and it does not send again.
    const second = h.reopen();
    let r = await second.tick();
    expect(r.inDoubt).toBe(1);
    expect(r.nextTimerAt).toBe(sent!.sentAt! + SETTLE);
    expect(h.store.effects.byId(sent!.id)?.state).toBe('sent');
    expect(h.emu.calls.of('crm.timeline.comment.list')).toHaveLength(1);
    // Later, still inside the settle: looked up again, still waiting; its run is neither planned again nor finished.
    h.clock.advance(SETTLE / 2);
    r = await second.tick();
    expect(r.inDoubt).toBe(1);
    expect(h.emu.calls.of('crm.timeline.comment.list')).toHaveLength(2);
    expect(h.store.effects.byId(sent!.id)?.state).toBe('sent');
    expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 1, done: 0 });
    expect(h.store.inbox.countByStatus()).toMatchObject({ running: 1, done: 0 });
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(0);

    // The portal finishes the request its sender gave up on.
    hold.release();
    await until(() => comments(h!).length > 0, 'the held comment to land on the portal');
    h.clock.advance(SETTLE / 2);
    r = await second.tick();
    expect(r.inDoubt).toBeUndefined();
    expect(h.store.effects.byId(sent!.id)).toMatchObject({ state: 'done', result: Number(comments(h)[0]!.ID) });
    expect(h.store.inbox.countByStatus()).toMatchObject({ running: 0, done: 1 });
    expect(comments(h)).toHaveLength(1);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(1);
  });

  it('a create whose request never left is sent again only after the settle, exactly once', async () => {
    const settle = 10_000;
    h = await harness(RULE);
    // The process dies after marking the batch sent, before the request leaves.
    const real = h.client;
    const dying: B24ClientApi = {
      call: real.call.bind(real),
      listAll: real.listAll.bind(real),
      batch: (cmds, options) => (Object.values(cmds).some((c) => c.method.endsWith('.add')) ? Promise.reject(new Error('simulated crash before the request left')) : real.batch(cmds, options)),
    };
    h.store.inbox.add([dealEvent(1)]);
    await h.reopen({ client: dying }).tick();
    const [sent] = h.store.effects.inState('sent');
    expect(sent).toBeDefined();

    const second = h.reopen({ options: { inDoubtSettleMs: settle } });
    let r = await second.tick();
    expect(r).toMatchObject({ inDoubt: 1, nextTimerAt: sent!.sentAt! + settle, calls: 0 });
    h.clock.advance(settle - 1);
    r = await second.tick();
    expect(r.inDoubt).toBe(1);
    expect(h.emu.calls.of('crm.timeline.comment.list')).toHaveLength(2);
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(0);
    // The settle is over and a lookup made after it still finds nothing: sent again, in the same tick.
    h.clock.advance(1);
    r = await second.tick();
    expect(r.inDoubt).toBeUndefined();
    expect(r.recovered).toBe(1);
    expect(h.emu.calls.of('crm.timeline.comment.list')).toHaveLength(3);
    expect(h.store.effects.byId(sent!.id)?.state).toBe('done');
    expect(h.store.inbox.countByStatus()).toMatchObject({ running: 0, done: 1 });
    h.clock.advance(settle);
    await second.tick();
    expect(h.emu.calls.of('crm.timeline.comment.add')).toHaveLength(1);
    expect(comments(h)).toHaveLength(1);
  });
});
