/**
 * A worker's lease loop: every ttl/3 (from the start of the last) one round
 *
 * 1. renews every lease it holds in one statement; a lease missing from the
 *    answer is lost (expired, revoked because the portal was disabled,
 *    changed, uninstalled or removed, or taken), and so is one whose local
 *    validity ran out while PostgreSQL did not answer: its runner stops
 *    sending at once and is stopped;
 * 2. says the worker is alive (the live workers set everyone's fair share);
 * 3. takes free portals up to its fair share, ceil(enabled portals / live
 *    workers), and starts a runner for each; holding more than the share
 *    (a worker joined), it hands the extra portals over: each is drained
 *    while the lease still holds, then released, so the next worker takes it
 *    at once instead of after the TTL.
 *
 * A runner whose state store's connection closed (its bridge gave up) is
 * handed over the same way, so the portal is served again on a new
 * connection instead of ticking into a closed store for good.
 *
 * A lost lease is released once its runner stopped cleanly and none of its
 * requests was cut short in flight (a late renewal may have extended it);
 * otherwise it is left to expire, and its grace keeps the next worker out
 * while the portal may still be running such a request.
 *
 * Rounds never overlap; a round does not wait for runners to start or stop.
 * `start()` first registers the worker id (WORKER_ID_IN_USE when another live
 * process uses it). `drain()` (SIGTERM) stops every runner while the rounds
 * keep renewing, then releases, runner by runner, the leases of those that
 * stopped cleanly; the others expire.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { Lease, LeaseManager, PortalConnection, PortalRegistry } from '../portals/index.js';
import { PortalRunner } from './portal-runner.js';

export interface LeaseLoopOptions {
  leases: LeaseManager;
  registry: PortalRegistry;
  logger: Logger;
  /** Make the runner of a newly leased portal (not started). */
  makeRunner: (lease: Lease, conn: PortalConnection) => PortalRunner;
  /** Told when a runner starts or stops (metrics, health). */
  onChange?: () => void;
  /** drain(): the longest wait for a portal to stop; past it the portal counts as abandoned (a hand-over drains longer). @default 6000 */
  stopBudgetMs?: number;
}

/** The portals one worker holds, and the rounds that keep them. */
export class LeaseLoop {
  readonly #o: LeaseLoopOptions;
  readonly #runners = new Map<string, PortalRunner>();
  /** Runners starting. */
  readonly #starting = new Set<Promise<unknown>>();
  /** Runners stopping (lost, handed over). */
  readonly #stopping = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #round: Promise<void> | null = null;
  #again = false;
  #draining = false;
  #closed = false;
  #rounds = 0;
  #abandoned = 0;
  #lastError: string | null = null;
  /** Another process took this worker id's row (this one was not seen for a TTL): said once. */
  #shadowed = false;

  constructor(options: LeaseLoopOptions) {
    this.#o = options;
  }

  /** The runners of the portals held (starting, running or stopping). */
  get runners(): PortalRunner[] {
    return [...this.#runners.values()];
  }

  /** Rounds completed so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** Portals whose engine was stopped with its tick in flight abandoned (it may still be finishing it). */
  get abandoned(): number {
    return this.#abandoned;
  }

  /** The last round's failure (PostgreSQL away), null once a round succeeds. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Register the worker id (WORKER_ID_IN_USE when a live process has it), run the first round now, then one every ttl/3. */
  async start(): Promise<void> {
    const { leases, logger } = this.#o;
    await leases.register({
      onWait: () => logger.warn({ worker: leases.workerId }, `worker id ${leases.workerId} is in use by a live process; waiting up to a lease TTL for it to lapse (a crashed predecessor) before refusing`),
    });
    // A round waiting on an unreachable PostgreSQL must not keep a lease counted past its validity.
    this.#watchdog = setInterval(() => this.#expire(), Math.max(50, Math.floor(this.#o.leases.renewEveryMs / 4)));
    this.#watchdog.unref();
    await this.round();
  }

  /** Every runner whose lease is past its local validity is lost now. */
  #expire(): void {
    for (const r of this.#runners.values()) if (!r.lost && (r.cutOff || !this.#o.leases.valid(r.lease))) this.#lost(r, 'its local validity ran out before a renewal came back');
  }

  /** One round now (an install, a test); resolves when it is done. A round asked for during a round runs right after it. */
  round(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#round) {
      this.#again = true;
      return this.#round.then(() => this.#round ?? undefined);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const startedAt = performance.now();
    this.#round = this.#run().finally(() => {
      this.#round = null;
      if (this.#closed) return;
      if (this.#again) {
        this.#again = false;
        void this.round();
        return;
      }
      // Every ttl/3 from the start of the last round, not from its end: a round slowed by a busy thread must not
      // push the next renewal towards the end of the lease's validity.
      this.#timer = setTimeout(() => void this.round(), Math.max(0, this.#o.leases.renewEveryMs - (performance.now() - startedAt)));
    });
    return this.#round;
  }

  async #run(): Promise<void> {
    const { leases, logger } = this.#o;
    try {
      // The renewal first: it is what keeps the portals; the rest of the round may wait behind busy engines.
      await this.#renew();
      if (!(await leases.heartbeat()) && !this.#shadowed) {
        this.#shadowed = true;
        logger.error({ worker: leases.workerId }, `another live process took worker id ${leases.workerId} while this one was not seen: give each worker its own id (this one keeps serving only the leases it holds)`);
      }
      if (!this.#draining) await this.#balance();
      this.#lastError = null;
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err);
      logger.warn({ error: this.#lastError }, 'lease round failed; leases held count only until their local validity ends');
    } finally {
      // Whatever PostgreSQL said or did not say: a lease past its local validity is not used.
      this.#expire();
      this.#rounds++;
    }
  }

  async #renew(): Promise<void> {
    const held = [...this.#runners.values()].filter((r) => !r.lost);
    if (held.length === 0) return;
    const renewed = await this.#o.leases.renewAll(held.map((r) => r.lease));
    const back = new Map(renewed.map((l) => [l.memberId, l]));
    for (const r of held) {
      const lease = back.get(r.memberId);
      // Lost meanwhile (its local validity ran out while the renewal was on its way): #lost releases it once safe.
      // Its requests were ended then (cutOff): the renewal cannot revive it, or it would go on with every request
      // aborted (seen beside CPU hogs: five portals stuck with their events 'running' until the test gave up).
      if (lease && r.cutOff) this.#lost(r, 'its local validity ran out before the renewal came back; its requests were ended');
      else if (lease) r.renewed(lease);
      else this.#lost(r, 'it was not renewed (expired, revoked by a change to the portal, or the portal was removed)');
    }
    for (const r of held) {
      if (!r.lost && r.broken()) {
        this.#o.logger.warn({ portal: r.domain }, `portal ${r.domain}: its state store's connection to PostgreSQL closed; restarting it on a new one`);
        this.#track(this.#handOver(r));
      }
    }
  }

  /** Take free portals up to the fair share, or hand the extra ones over. */
  async #balance(): Promise<void> {
    const { leases, registry, logger } = this.#o;
    const { share, portals, workers } = await leases.share();
    const active = [...this.#runners.values()].filter((r) => !r.lost && r.state !== 'stopping' && r.state !== 'stopped');
    if (active.length > share) {
      // The most recently taken first: the longest-served portals stay where their caches are warm.
      const extra = active.sort((a, b) => b.lease.epoch - a.lease.epoch).slice(0, active.length - share);
      logger.info({ share, portals, workers, handing: extra.length }, `holding ${active.length} portals, fair share ${share}: handing ${extra.length} over`);
      for (const r of extra) this.#track(this.#handOver(r));
      return;
    }
    if (active.length === share) return;
    const taken = await leases.acquire(share - active.length);
    for (const lease of taken) {
      // A portal we are still stopping from an earlier tenure: let that finish first. Draining (SIGTERM came
      // while this round waited): no new portal, its lease goes back at once.
      if (this.#runners.has(lease.memberId) || this.#draining) {
        await leases.release(lease).catch(() => undefined);
        continue;
      }
      let conn: PortalConnection;
      try {
        conn = await registry.connection(lease.memberId);
      } catch (err) {
        logger.warn({ portal: lease.memberId, error: (err as Error).message }, 'leased portal not readable; releasing it');
        await leases.release(lease).catch(() => undefined);
        continue;
      }
      if (this.#draining) {
        await leases.release(lease).catch(() => undefined);
        continue;
      }
      const runner = this.#o.makeRunner(lease, conn);
      this.#runners.set(lease.memberId, runner);
      this.#track(this.#startRunner(runner), this.#starting);
    }
  }

  async #startRunner(r: PortalRunner): Promise<void> {
    try {
      await r.start();
      this.#o.onChange?.();
    } catch (err) {
      this.#o.logger.error({ portal: r.domain, error: err instanceof Error ? err.message : String(err) }, `portal ${r.domain}: cannot start; releasing its lease`);
      this.#runners.delete(r.memberId);
      if (!r.lost) await this.#o.leases.release(r.lease).catch(() => undefined);
      this.#o.onChange?.();
    }
  }

  #lost(r: PortalRunner, why: string): void {
    if (r.lost) return;
    r.lose();
    this.#o.logger.warn({ portal: r.domain, epoch: r.lease.epoch }, `portal ${r.domain}: lease lost (${why}); stopping it`);
    this.#track(
      r.stop('lost').then(async ({ abandoned }) => {
        if (abandoned) this.#abandoned++;
        // Nothing of this tenure can still be running at the portal: let the next worker have it now (a no-op when
        // the lease was revoked or taken; it may have been extended by a renewal that came back too late).
        else if (r.quiet()) await this.#o.leases.release(r.lease).catch(() => undefined);
      }).finally(() => {
        if (this.#runners.get(r.memberId) === r) this.#runners.delete(r.memberId);
        this.#o.onChange?.();
      }),
    );
  }

  /** Drain one portal while its lease holds, then release it for the next worker. */
  async #handOver(r: PortalRunner): Promise<void> {
    const { abandoned } = await r.stop('shed');
    if (abandoned) this.#abandoned++;
    if (!abandoned && !r.lost) await this.#o.leases.release(r.lease).catch(() => undefined);
    if (this.#runners.get(r.memberId) === r) this.#runners.delete(r.memberId);
    this.#o.onChange?.();
  }

  #track(p: Promise<unknown>, set = this.#stopping): void {
    const q = p.catch(() => undefined).finally(() => set.delete(q));
    set.add(q);
  }

  /**
   * Stop every runner while the rounds keep renewing (no new portals), then
   * release the leases of those that stopped cleanly and leave the live
   * workers. A runner whose tick was abandoned keeps its lease until it
   * expires: its request in flight must not meet the next worker's.
   */
  async drain(): Promise<{ abandoned: boolean }> {
    this.#draining = true;
    const budget = this.#o.stopBudgetMs ?? 6000;
    // A round in progress may be taking portals: let it end (it releases what it took once it sees the drain);
    // then the runners still starting, so that they stop from a known state. Both within the budget.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waiting = (async () => {
      await this.#round?.catch(() => undefined);
      await Promise.all([...this.#starting]);
    })();
    await Promise.race([waiting, new Promise((resolve) => (timer = setTimeout(resolve, budget)))]);
    clearTimeout(timer);
    // Every runner still in the map, those already stopping (lost, handed over) included, within one budget.
    const runners = [...this.#runners.values()];
    const results = await Promise.all(
      runners.map(async (r) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<{ abandoned: boolean }>((resolve) => {
          timer = setTimeout(() => resolve({ abandoned: true }), budget);
        });
        try {
          return { r, ...(await Promise.race([r.stop(r.lost ? 'lost' : 'shutdown'), late])) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    await this.#round?.catch(() => undefined);
    this.close();
    // The lost ones release what is safe to release themselves (#lost); give them the moment they need.
    let settle: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all([...this.#stopping]), new Promise((resolve) => (settle = setTimeout(resolve, 1000)))]);
    clearTimeout(settle);
    const clean = results.filter((x) => !x.abandoned && !x.r.lost);
    this.#abandoned += results.filter((x) => x.abandoned).length;
    const abandoned = results.some((x) => x.abandoned);
    const { leases, logger } = this.#o;
    try {
      // Runner by runner: a portal abandoned now or earlier (its request may still run) keeps its lease until it expires.
      await leases.leave(clean.map((x) => x.r.lease));
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'could not release the leases; the next worker takes the portals when they expire');
    }
    this.#runners.clear();
    return { abandoned };
  }

  /** Stop the rounds (no more renewals). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
  }
}
