/**
 * Issue 10's done-when test: an emulator fleet of 20 portals, 3 worker processes (`rules run --state
 * postgres://... --worker-id wN`) on one PostgreSQL, 200 new leads per portal (offline events; the rule
 * comments each lead once). Access tokens last 10 s, so the workers refresh them all along, across the kill
 * too. One worker is killed with SIGKILL while one of its comment batches is in flight at a portal (held by
 * the portal after reading it, so the kill lands mid-batch and the portal does the batch after its sender
 * died), and a fourth worker starts later. Then: every lead has its comment exactly once, on its own
 * portal; every offline queue is empty; no portal ever served two workers at once (the fleet's record, a
 * request counted until the portal has done it, token refreshes included); the killed worker's portals are
 * served again within the lease TTL + grace (+ a generous slack for starting on a loaded machine); and no
 * secret the fleet handed out appears in any worker's output.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, type EmulatorFleet, type FleetPortal } from '../../emulator/index.js';
import type { ControlPlane } from '../../engine/portals/index.js';
import { startDaemonProcess, tempDir, until, type DaemonProcess } from '../daemon/harness.js';
import { pgUrl } from '../helpers/pg.js';
import { addLeads, bound, closeUsers, commentsByTitle, fleetDeployment, offlineQueued, ruleFolder } from './helpers.js';

const PORTALS = 20;
const PER_WAVE = 100;
const TTL_MS = 5000;
/** The lease grace: worker requests time out after it, and an expired lease waits it out. */
const GRACE_MS = 5000;
/** Generous, for a loaded 2-core machine (25 s was not, beside CPU hogs): a round every TTL/3, a portal's engine starting, its first request. */
const RESUME_SLACK_MS = 60_000;
/** The fleet's access tokens expire this fast: the workers refresh all along. */
const TOKEN_TTL_S = 10;
const t0 = performance.now();
/** Progress on stderr: on a loaded machine a timeout then says where it was. */
const step = (what: string): void => void process.stderr.write(`fleet e2e: ${what} at ${Math.round(performance.now() - t0)} ms\n`);

interface Health {
  worker: string;
  leases: number;
  portals: Array<{ memberId: string; state: string }>;
}

describe.skipIf(!pgUrl())('20 portals, 3 workers, one killed mid-batch, one started later (PostgreSQL + emulator fleet)', () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  let rules: string;
  const workers = new Map<string, { proc: DaemonProcess; url: string }>();
  const procs: DaemonProcess[] = [];

  function startWorker(id: string): DaemonProcess {
    const proc = startDaemonProcess(
      [rules, '--state', url, '--worker-id', id, '--listen', '127.0.0.1:0', '--lease-ttl-ms', String(TTL_MS), '--lease-grace-ms', String(GRACE_MS), '--poll-interval-ms', '500', '--in-doubt-settle-ms', '5000', '--no-watch'],
      { B24_CLIENT_ID: fleet.clientId, B24_CLIENT_SECRET: fleet.clientSecret, B24_OAUTH_URL: fleet.oauthUrl },
      tempDir('b24-worker-'),
    );
    procs.push(proc);
    void proc.waitForLog((r) => r.msg.startsWith(`worker ${id} started`), 90_000).then(
      (r) => workers.set(id, { proc, url: String(r.url) }),
      () => undefined,
    );
    return proc;
  }

  async function health(id: string): Promise<Health | null> {
    const w = workers.get(id);
    if (!w) return null;
    try {
      return (await (await fetch(`${w.url}/healthz`)).json()) as Health;
    } catch {
      return null;
    }
  }

  /** member_id → worker, for the portals a live worker reports running. */
  async function serving(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids) for (const p of (await health(id))?.portals ?? []) if (p.state === 'running') out.set(p.memberId, id);
    return out;
  }

  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: PORTALS, tokenTtlSeconds: TOKEN_TTL_S });
    ({ url, cp } = await fleetDeployment(fleet, 'fleet_e2e'));
    rules = ruleFolder();
  });
  afterAll(async () => {
    for (const w of workers.values()) w.proc.proc.kill('SIGKILL');
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  it('every event exactly once on its own portal, queues empty, never two workers at once, the killed worker’s portals taken over', { timeout: 900_000 }, async () => {
    const started = performance.now();
    for (const id of ['w1', 'w2', 'w3']) startWorker(id);
    // The fair share settles (7, 7, 6) and every portal has its offline events bound.
    await until(
      async () => {
        const s = await serving(['w1', 'w2', 'w3']);
        const counts = ['w1', 'w2', 'w3'].map((id) => [...s.values()].filter((w) => w === id).length);
        return s.size === PORTALS && counts.every((n) => n >= 6) && fleet.portals.every(bound);
      },
      'three workers serving 20 portals',
      120_000,
      100,
    );
    const settled = performance.now();
    step('settled');

    await Promise.all(fleet.portals.map((p) => addLeads(p, `p${p.index}`, PER_WAVE)));
    step('wave 1 added');
    // The kill comes after the workers have refreshed tokens (rotating the pairs in the table).
    await until(() => fleet.tokenRequests().some((t) => t.status === 200 && t.worker !== 'unknown'), 'a token refreshed by a worker', 60_000, 200);

    // Kill w1 while one of its batch requests is held at one of its portals: a batch after its first since new
    // leads came (the first carries the reads; the ones after it, the comments). Ten more leads at a time on a
    // portal w1 serves now, until one of its comment batches is caught in flight.
    const batchesOf = (p: FleetPortal) => fleet.requests(p.index).filter((r) => r.worker === 'w1' && r.method === 'batch').length;
    const extra = new Map<FleetPortal, number>();
    let heldMethod = '';
    let target: FleetPortal | undefined;
    let w1Portals: FleetPortal[] = [];
    kill: for (let round = 0; ; round++) {
      if (round >= 40) throw new Error('no batch of w1 caught in flight in 40 rounds');
      // On a loaded machine w1 may be between losing a lease and taking it again (or its /healthz slow): wait.
      w1Portals = await until(async () => {
        const now = await serving(['w1']);
        const mine = fleet.portals.filter((p) => now.get(p.memberId) === 'w1');
        return mine.length > 0 ? mine : null;
      }, 'w1 serving portals', 120_000, 200) as FleetPortal[];
      target = w1Portals[round % w1Portals.length] as FleetPortal;
      const firstBatch = batchesOf(target);
      const more = extra.get(target) ?? 0;
      await addLeads(target, `p${target.index}`, 10, PER_WAVE + more);
      extra.set(target, more + 10);
      for (let tries = 0; tries < 6; tries++) {
        // Held by the portal after reading it: it does the batch once released, whatever became of its sender.
        const hold = target.emulator.hold(({ method, params }) => method === 'batch' && JSON.stringify(params).includes('timeline'));
        const caught = await Promise.race([hold.held(1).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
        const open = fleet.requests(target.index).filter((r) => r.end === undefined && r.worker === 'w1');
        heldMethod = open.map((r) => r.method).join(',');
        if (caught && open.some((r) => r.method === 'batch') && batchesOf(target) >= firstBatch + 2) {
          workers.get('w1')?.proc.kill('SIGKILL');
          hold.release();
          break kill;
        }
        hold.release();
      }
    }
    const killedAt = performance.now();
    // The killed worker's portals: the leases it held when it died, by the database's clock (the portals it served
    // when the round began may have been handed over since, and served at once by another worker: no overlap).
    const { rows: held } = await cp.pool.query<{ member_id: string }>(`SELECT member_id FROM b24rules.leases WHERE worker_id = 'w1' AND expires_at > now()`);
    const killedPortals = fleet.portals.filter((p) => held.some((r) => r.member_id === p.memberId));
    expect(killedPortals.length, 'the killed worker held leases').toBeGreaterThan(0);
    const refreshedBefore = fleet.tokenRequests().filter((t) => t.status === 200 && t.start < killedAt).length;
    await workers.get('w1')?.proc.exited;
    workers.delete('w1');
    step(`w1 killed (a ${heldMethod} held at portal ${target?.index})`);

    startWorker('w4');
    await until(() => workers.has('w4'), 'w4 started', 90_000);
    step('w4 started');
    await Promise.all(fleet.portals.map((p) => addLeads(p, `p${p.index}`, PER_WAVE - (extra.get(p) ?? 0), PER_WAVE + (extra.get(p) ?? 0))));
    step('wave 2 added');

    await until(
      () => fleet.portals.every((p) => commentsByTitle(p).size === 2 * PER_WAVE && offlineQueued(p) === 0),
      'every lead commented and every queue empty',
      480_000,
      200,
    ).catch(async (err: unknown) => {
      for (const p of fleet.portals) step(`portal ${p.index}: ${commentsByTitle(p).size} commented, ${offlineQueued(p)} queued`);
      // Who holds what, and what each worker last complained about: a stuck portal says why.
      for (const [id, w] of workers) {
        step(`${id} health: ${JSON.stringify(await health(id))}`);
        step(`${id} warnings: ${JSON.stringify(w.proc.logs.filter((r) => r.level >= 40).slice(-15))}`);
      }
      throw err;
    });
    const done = performance.now();

    for (const p of fleet.portals) {
      const comments = commentsByTitle(p);
      const expected = Array.from({ length: 2 * PER_WAVE }, (_, i) => `p${p.index}-${i}`).sort();
      expect([...comments.keys()].sort(), `portal ${p.index}`).toEqual(expected);
      expect([...comments.entries()].filter(([, n]) => n !== 1), `portal ${p.index}: comments not exactly once`).toEqual([]);
      expect(offlineQueued(p)).toBe(0);
    }
    expect(fleet.overlaps()).toEqual([]);
    expect(fleet.overlapCount).toBe(0);

    // The killed worker's portals: served again by another worker within the lease TTL and its grace (the bound the
    // design gives), plus a generous slack for a loaded machine; the gaps are reported.
    const gaps = killedPortals.map((p) => {
      const next = fleet.requests(p.index).find((r) => r.start > killedAt && r.worker !== 'w1' && r.worker !== 'unknown');
      expect(next, `portal ${p.index} served again after the kill`).toBeDefined();
      return (next as { start: number }).start - killedAt;
    });
    expect(Math.max(...gaps), `the killed worker's portals resumed ${gaps.map(Math.round).join(', ')} ms after the kill`).toBeLessThanOrEqual(TTL_MS + GRACE_MS + RESUME_SLACK_MS);
    // Nor sooner than the grace: each lease expired after the kill (it was valid then), and then the grace ran.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(GRACE_MS);
    // Tokens were refreshed all along: before the kill, and after it by the workers that took the portals over (they
    // poll on, so one refreshes within a token's lifetime if the work ended sooner).
    expect(refreshedBefore).toBeGreaterThan(0);
    const takenOverRefresh = (): boolean =>
      fleet.tokenRequests().some((t) => t.status === 200 && t.start > killedAt && t.portal !== null && t.worker !== 'w1' && killedPortals.some((p) => p.index === t.portal));
    await until(takenOverRefresh, "a token of the killed worker's portals refreshed by its new holder", 60_000, 200);
    const refreshedAfter = fleet.tokenRequests().filter((t) => t.status === 200 && t.start > killedAt);
    expect(fleet.tokenRequests().filter((t) => t.status !== 200)).toEqual([]);
    const after = await serving(['w2', 'w3', 'w4']);
    expect(after.size).toBe(PORTALS);
    expect([...after.values()]).toContain('w4');
    console.log(
      `fleet e2e: ${PORTALS} portals x ${2 * PER_WAVE} events; settled in ${Math.round(settled - started)} ms; w1 killed with a ${heldMethod} in flight at portal ${target?.index};` +
        ` its ${killedPortals.length} portals served again ${Math.round(Math.min(...gaps))}-${Math.round(Math.max(...gaps))} ms after the kill (lease TTL ${TTL_MS} ms, grace ${GRACE_MS} ms);` +
        ` ${refreshedBefore} token refreshes before the kill, ${refreshedAfter.length} after;` +
        ` all done ${Math.round(done - killedAt)} ms after the kill; w4 serves ${[...after.values()].filter((w) => w === 'w4').length}`,
    );

    for (const id of ['w2', 'w3', 'w4']) {
      const w = workers.get(id);
      w?.proc.kill('SIGTERM');
      const exit = await w?.proc.exited;
      const said = () => JSON.stringify(w?.proc.logs.filter((r) => r.level >= 40).slice(-8)) + (w?.proc.stderr() ?? '');
      expect(exit?.code, `${id} exit code after SIGTERM (${exit?.ms} ms): ${said()}`).toBe(0);
    }
    const { rows } = await cp.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM b24rules.leases WHERE worker_id IN ('w2', 'w3', 'w4')`);
    expect(rows[0]?.n).toBe(0);
    // No secret the fleet handed out (every token issued, application tokens, webhook codes, the client secret) in any worker's output.
    const secrets = fleet.secrets();
    for (const proc of procs) {
      const said = JSON.stringify(proc.logs) + proc.stderr();
      expect(secrets.filter((secret) => said.includes(secret))).toEqual([]);
    }
  });
});
