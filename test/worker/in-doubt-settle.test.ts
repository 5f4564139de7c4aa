/**
 * A worker's in-doubt settle follows its request cap (engine/worker/worker.ts, workerInDoubtSettleMs): a create
 * whose request was lost (the portal dropped the connection before running it) and that its lookup does not find
 * is sent again once a lookup made at or after sentAt + (request cap + margin) still finds nothing, not after the
 * single daemon's 60 s. The engines' clock is injected and moved forward; the portal is an emulator of the fleet,
 * the state PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, type EmulatorFleet, type FleetPortal } from '../../emulator/index.js';
import { systemClock, type Clock } from '../../engine/clock.js';
import { silentLogger } from '../../engine/logger.js';
import type { ControlPlane } from '../../engine/portals/index.js';
import { openPgStateStore, type EffectRecord } from '../../engine/store/index.js';
import { createWorker, workerInDoubtSettleMs, WORKER_DEFAULTS, type Worker } from '../../engine/worker/index.js';
import { until } from '../daemon/harness.js';
import { pgUrl } from '../helpers/pg.js';
import { appOf, closeUsers, fleetDeployment, ruleFolder, userOf } from './helpers.js';

/** A delete loads no record, so the first batch the engine sends after the event is the one with the comment. */
const RULE = `id: lead-deleted
trigger: { event: ONCRMLEADDELETE }
actions:
  - comment: { entity: deal, id: "1", text: "lead {{ event.id }} deleted" }
`;
const GRACE_MS = 5000;
/** The request cap is min(grace, 20 s); the settle that cap plus the margin: 15 s here, where the daemon waits 60 s. */
const SETTLE_MS = workerInDoubtSettleMs(Math.min(GRACE_MS, WORKER_DEFAULTS.requestTimeoutMs));

describe.skipIf(!pgUrl())("a worker's in-doubt create is sent again after its own settle (PostgreSQL + emulator fleet)", () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  let worker: Worker | undefined;
  const holds: Array<{ release(): void }> = [];
  /** The engines' clock: real time plus what the test adds. */
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };

  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: 1, limits: { burst: 1e9 } });
    ({ url, cp } = await fleetDeployment(fleet, 'in_doubt_settle'));
  });
  afterAll(async () => {
    for (const h of holds) h.release();
    await worker?.stop();
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  const comments = (p: FleetPortal) => p.emulator.store.all('timeline_comment').filter((c) => String(c.COMMENT).endsWith(' deleted'));
  /** The comment's ledger row, read beside the worker (a reader's store, not exclusive). */
  const effect = (p: FleetPortal): EffectRecord | undefined => {
    const store = openPgStateStore({ url, portal: p.memberId });
    try {
      return [...store.effects.inState('pending'), ...store.effects.inState('sent'), ...store.effects.inState('done')].find((e) => e.method === 'crm.timeline.comment.add');
    } finally {
      store.close();
    }
  };

  it('the lost create stays in doubt inside the settle and is sent once, after a lookup past sentAt + settle', async () => {
    expect(SETTLE_MS).toBe(15_000);
    const p = fleet.portal(0);
    worker = createWorker({
      databaseUrl: url,
      workerId: 's1',
      rulesPaths: [ruleFolder({ 'deleted.yaml': RULE })],
      logger: silentLogger,
      listen: null,
      leaseTtlMs: 6000,
      leaseGraceMs: GRACE_MS,
      app: appOf(fleet),
      watch: false,
      clock,
      daemon: { tickIntervalMs: 50, offline: { pollIntervalMs: 50 }, drainTimeoutMs: 3000 },
    });
    await worker.start();
    await until(() => p.emulator.events.hub.bindings.forEvent('ONCRMLEADDELETE').length > 0 && worker?.runner(p.memberId)?.state === 'running', 'the worker serving the portal', 60_000);

    const user = userOf(p);
    const id = (await user.call<number>('crm.lead.add', { fields: { TITLE: 'to be deleted' } })).result;
    // The engine reads (the deleted lead, in a batch), then writes the comment in the next batch: that one is answered
    // 500 without running (a write's outcome is then unknown to the client). The fault is armed while the read batch
    // waits at the portal, past its own draw of a fault.
    const reads = p.emulator.hold(({ method, params }) => method === 'batch' && JSON.stringify(params).includes('crm.lead.list'));
    holds.push(reads);
    await user.call('crm.lead.delete', { id });
    await reads.held(1);
    p.emulator.setFaults({ errorRate: 1, methods: ['batch'], maxFaults: 1 });
    reads.release();

    // In doubt: marked sent, not on the portal, looked up and not found; not sent again inside the settle.
    const sent = await until(() => {
      const e = effect(p);
      return e?.state === 'sent' && p.emulator.calls.of('crm.timeline.comment.list').length > 0 ? e : undefined;
    }, 'the comment in doubt and looked up', 60_000, 100);
    expect(comments(p)).toHaveLength(0);
    expect(sent?.sentAt).toEqual(expect.any(Number));

    // The engines' clock to 1 s past the settle (never back): the next lookup is past it, finds nothing, and the comment goes again.
    offset = Math.max(offset, (sent?.sentAt as number) + SETTLE_MS + 1000 - Date.now());
    const done = await until(() => {
      const e = effect(p);
      return e?.state === 'done' ? e : undefined;
    }, 'the comment sent again after the settle', 60_000, 100);
    // Sent again past the worker's settle, long before the single daemon's 60 s (the engines' clock: sentAt and doneAt).
    const resentAfter = (done?.doneAt as number) - (sent?.sentAt as number);
    expect(resentAfter).toBeGreaterThanOrEqual(SETTLE_MS);
    expect(resentAfter).toBeLessThan(60_000);
    expect(comments(p)).toHaveLength(1);
    expect(String(comments(p)[0]?.COMMENT)).toBe(`lead ${id} deleted`);
    // Once, and not again later.
    offset += SETTLE_MS;
    const polls = p.emulator.calls.of('event.offline.get').length;
    await until(() => p.emulator.calls.of('event.offline.get').length > polls + 5, 'a few more polls', 60_000);
    expect(comments(p)).toHaveLength(1);
    expect(effect(p)?.state).toBe('done');
  });
});
