/**
 * A worker's lease loop: every ttl/3 one round
 *
 * 1. says the worker is alive (the live workers set everyone's fair share);
 * 2. renews every lease it holds in one statement; a lease missing from the
 *    answer is lost (expired, revoked because the portal was disabled,
 *    changed, uninstalled or removed, or taken), and so is one whose local
 *    validity ran out while PostgreSQL did not answer: its runner stops
 *    sending at once and is stopped;
 * 3. takes free portals up to its fair share, ceil(enabled portals / live
 *    workers), and starts a runner for each; holding more than the share
 *    (a worker joined), it hands the extra portals over: each is drained
 *    while the lease still holds, then released, so the next worker takes it
 *    at once instead of after the TTL.
 *
 * Rounds never overlap; a round does not wait for runners to start or stop.
 * `drain()` (SIGTERM) stops every runner while the rounds keep renewing, then
 * releases the leases of the runners that stopped cleanly.
 */
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

  /** Run the first round now, then one every ttl/3. */
  async start(): Promise<void> {
    // A round waiting on an unreachable PostgreSQL must not keep a lease counted past its validity.
    this.#watchdog = setInterval(() => this.#expire(), Math.max(50, Math.floor(this.#o.leases.renewEveryMs / 4)));
    this.#watchdog.unref();
    await this.round();
  }

  /** Every runner whose lease is past its local validity is lost now. */
  #expire(): void {
    for (const r of this.#runners.values()) if (!r.lost && !this.#o.leases.valid(r.lease)) this.#lost(r, 'its local validity ran out before a renewal came back');
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
    this.#round = this.#run().finally(() => {
      this.#round = null;
      if (this.#closed) return;
      if (this.#again) {
        this.#again = false;
        void this.round();
        return;
      }
      this.#timer = setTimeout(() => void this.round(), this.#o.leases.renewEveryMs);
    });
    return this.#round;
  }

  async #run(): Promise<void> {
    const { leases, logger } = this.#o;
    try {
      await leases.heartbeat();
      await this.#renew();
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
      if (lease) r.renewed(lease);
      else this.#lost(r, 'it was not renewed (expired, revoked by a change to the portal, or the portal was removed)');
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
      r.stop('lost').then(({ abandoned }) => {
        if (abandoned) this.#abandoned++;
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
    const clean = results.filter((x) => !x.abandoned && !x.r.lost);
    this.#abandoned += results.filter((x) => x.abandoned).length;
    const abandoned = results.some((x) => x.abandoned);
    const { leases, logger } = this.#o;
    try {
      if (abandoned) for (const x of clean) await leases.release(x.r.lease);
      else await leases.leave();
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
