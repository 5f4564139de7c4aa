/**
 * Portal leases (`b24rules.leases`): one worker serves a portal at a time.
 *
 * - Every expiry is decided by the database's clock (`now()`), never a
 *   worker's, so workers with skewed clocks still agree on who holds what.
 * - A lease is taken only when it was released (its row deleted by a holder
 *   that stopped cleanly) or when it expired more than a grace ago
 *   (`expires_at + grace <= now()`): a holder that died or lost it may have
 *   had a request in flight, which the portal may still be running; the grace
 *   is at least the longest a worker's request may take (a worker caps its
 *   request timeouts at it). The row keeps its holder's grace (`grace_ms`):
 *   the next worker waits the longer of its own and that one, so a holder
 *   with a longer grace (longer requests) is waited out whoever takes over,
 *   and `rules portals list` can say when the lease becomes free. The
 *   condition is checked on the row as
 *   committed, so of two workers racing for a portal one gets it. Candidates
 *   are claimed `FOR NO KEY UPDATE SKIP LOCKED`, so racing workers mostly
 *   take different portals instead of colliding.
 * - Each tenure gets a new epoch from a sequence (always higher than the
 *   last); a renewal and a token write name the epoch, so a worker that lost
 *   its lease cannot extend or use someone else's tenure.
 * - Locally a lease counts as valid until the time its (re)newal was SENT
 *   plus the TTL minus a margin, on the worker's monotonic clock: the
 *   database's expiry cannot come before that, however long the answer took.
 * - A renewal of a disabled or removed portal fails, so its worker stops it;
 *   a change to a portal (disabled, plan or rule set, uninstalled,
 *   re-installed, removed) also revokes its lease (revokeLeasesSql).
 * - Fair share: a worker takes at most ceil(enabled portals / live workers),
 *   a live worker being one seen within the TTL (`heartbeat()`).
 * - One process per worker id: each LeaseManager has its own nonce in
 *   `workers`; `register()` refuses an id that a live process of another
 *   nonce holds (WORKER_ID_IN_USE), and `leave()` releases only the tenures
 *   (epochs) this process took, and its own `workers` row.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { PortalsError } from './errors.js';

/** The worker_id of a revoked lease: nobody holds it, and nobody takes it before it expires. */
export const REVOKED_WORKER = '(revoked)';

/**
 * SQL revoking the leases of the member_ids `subquery` selects: a new epoch and
 * no holder, the expiry kept. The holder's renewals and token writes fail from
 * now on, while its local validity (which ends before the expiry) still keeps
 * every other worker out: a portal disabled, changed, uninstalled, re-installed
 * or removed is stopped by its worker and taken afresh within the TTL.
 */
export function revokeLeasesSql(subquery: string): string {
  return `UPDATE b24rules.leases SET worker_id = '${REVOKED_WORKER}', epoch = nextval('b24rules.lease_epoch') WHERE member_id IN (${subquery})`;
}

/** Lease timing defaults. */
export const LEASE_DEFAULTS = {
  /** How long a lease lasts without renewal (ms). @default 15000 */
  ttlMs: 15_000,
  /** Renew every ttl / this. @default 3 */
  renewDivisor: 3,
  /** Subtracted from the local validity, for clock rate differences (ms). @default min(2000, ttl / 5) */
  marginMs: (ttlMs: number) => Math.min(2_000, Math.floor(ttlMs / 5)),
  /**
   * An expired (not released) lease is taken only this long after its expiry (ms): at least the longest a request of
   * its holder may run, so a request the holder sent just before the lease ended is over at the portal. A worker caps
   * its requests' timeouts at it. @default 20000
   */
  graceMs: 20_000,
};

export interface LeaseManagerOptions {
  /** This worker's name (`--worker-id`; default hostname:pid). */
  workerId: string;
  /** @default 15000 */
  ttlMs?: number;
  /** @default min(2000, ttlMs / 5) */
  marginMs?: number;
  /** Wait past an expired lease's expiry before taking it (ms). @default 20000 */
  graceMs?: number;
  /** A monotonic clock (ms) for the local validity. @default performance.now */
  monotonicNow?: () => number;
}

/** A lease this worker holds. */
export interface Lease {
  memberId: string;
  workerId: string;
  /** This tenure's epoch: higher than every earlier tenure's. */
  epoch: number;
  /** Until when (on the worker's monotonic clock) the lease may be counted on; past it, send nothing to the portal. */
  validUntil: number;
}

/** When a lease whose (re)newal was sent at `sentAt` stops being safe to use locally. */
export function localValidUntil(sentAt: number, ttlMs: number, marginMs: number): number {
  return sentAt + ttlMs - marginMs;
}

/** The most leases one worker takes: ceil(enabled portals / live workers), at least 1 worker. */
export function fairShare(enabledPortals: number, liveWorkers: number): number {
  return Math.ceil(enabledPortals / Math.max(1, liveWorkers));
}

/** Takes, renews and releases one worker's leases. */
export class LeaseManager {
  readonly #pool: pg.Pool;
  readonly workerId: string;
  readonly ttlMs: number;
  readonly marginMs: number;
  readonly graceMs: number;
  /** This process's instance of the worker id (workers.nonce). */
  readonly nonce = randomUUID();
  readonly #now: () => number;
  /** The epochs of the tenures this manager took and has not released nor seen lost. */
  readonly #held = new Set<number>();

  constructor(pool: pg.Pool, options: LeaseManagerOptions) {
    this.#pool = pool;
    this.workerId = options.workerId;
    this.ttlMs = options.ttlMs ?? LEASE_DEFAULTS.ttlMs;
    this.marginMs = options.marginMs ?? LEASE_DEFAULTS.marginMs(this.ttlMs);
    this.graceMs = options.graceMs ?? LEASE_DEFAULTS.graceMs;
    if (!(this.ttlMs > 0) || !(this.marginMs >= 0) || this.marginMs >= this.ttlMs) throw new RangeError('lease ttlMs must be > 0 and marginMs in [0, ttlMs)');
    if (!(this.graceMs >= 0)) throw new RangeError('lease graceMs must be >= 0');
    this.#now = options.monotonicNow ?? (() => performance.now());
  }

  /** How long until a lease's local validity ends (ms; <= 0 once it has). */
  remainingMs(lease: Pick<Lease, 'validUntil'>): number {
    return lease.validUntil - this.#now();
  }

  /** How often to renew (ms): ttl / 3. */
  get renewEveryMs(): number {
    return Math.floor(this.ttlMs / LEASE_DEFAULTS.renewDivisor);
  }

  /** Whether a lease may still be counted on now (local clock). */
  valid(lease: Lease): boolean {
    return this.#now() < lease.validUntil;
  }

  /**
   * Join the live workers; WORKER_ID_IN_USE when a live process (seen within the TTL) keeps using this worker id.
   * The id of a process that just died (a crash restarted at once by systemd, under the same `--worker-id`) stays
   * "seen" for up to a TTL: `waitMs` (default a TTL and a round) is how long to wait for it to lapse before refusing;
   * a live process renews it meanwhile. `onWait` is told once when it waits. Call it once, before taking any lease.
   */
  async register(options: { waitMs?: number; onWait?: () => void } = {}): Promise<void> {
    const waitMs = options.waitMs ?? this.ttlMs + this.renewEveryMs;
    const step = Math.max(50, Math.min(this.renewEveryMs, 1000));
    for (let waited = 0; ; waited += step) {
      if (await this.heartbeat()) return;
      if (waited >= waitMs) break;
      if (waited === 0) options.onWait?.();
      await new Promise((resolve) => setTimeout(resolve, step));
    }
    throw new PortalsError(
      'WORKER_ID_IN_USE',
      `worker id '${this.workerId}' is in use by another live process on this database: give each worker process its own --worker-id (or stop the other one)`,
      { kind: 'user' },
    );
  }

  /**
   * Say this worker is alive (counted in the fair share for a TTL); expired leases of removed portals go. False when
   * the id's row belongs to another live process (another nonce): this process is then not counted.
   */
  async heartbeat(): Promise<boolean> {
    const { rows } = await this.#pool.query(
      `INSERT INTO b24rules.workers AS w (worker_id, seen_at, nonce) VALUES ($1, now(), $2)
       ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), nonce = EXCLUDED.nonce, started_at = CASE WHEN w.nonce IS NOT DISTINCT FROM EXCLUDED.nonce THEN w.started_at ELSE now() END
        WHERE w.nonce IS NOT DISTINCT FROM EXCLUDED.nonce OR w.seen_at <= now() - $3::int * interval '1 millisecond'
       RETURNING w.worker_id`,
      [this.workerId, this.nonce, this.ttlMs],
    );
    await this.#pool.query(
      `DELETE FROM b24rules.leases l WHERE l.expires_at + GREATEST($1::int, COALESCE(l.grace_ms, 0)) * interval '1 millisecond' <= now()
          AND NOT EXISTS (SELECT 1 FROM b24rules.portals p WHERE p.member_id = l.member_id)`,
      [this.graceMs],
    );
    return rows.length > 0;
  }

  /** Enabled portals, live workers, and this worker's fair share. */
  async share(): Promise<{ portals: number; workers: number; share: number }> {
    const { rows } = await this.#pool.query<{ portals: string; workers: string }>(
      `SELECT (SELECT count(*) FROM b24rules.portals WHERE enabled) AS portals,
              (SELECT count(*) FROM b24rules.workers WHERE seen_at > now() - $1::int * interval '1 millisecond') AS workers`,
      [this.ttlMs],
    );
    const portals = Number(rows[0]?.portals ?? 0);
    const workers = Math.max(1, Number(rows[0]?.workers ?? 0));
    return { portals, workers, share: fairShare(portals, workers) };
  }

  /** Take up to `limit` enabled portals whose lease is free (none, expired or released). */
  async acquire(limit: number): Promise<Lease[]> {
    if (limit <= 0) return [];
    const sentAt = this.#now();
    const { rows } = await this.#pool.query<{ member_id: string; epoch: string }>(
      `WITH cand AS (
         SELECT p.member_id FROM b24rules.portals p
           LEFT JOIN b24rules.leases l ON l.member_id = p.member_id
          WHERE p.enabled AND (l.member_id IS NULL OR l.expires_at + GREATEST($4::int, COALESCE(l.grace_ms, 0)) * interval '1 millisecond' <= now())
          ORDER BY p.member_id
          LIMIT $3
          FOR NO KEY UPDATE OF p SKIP LOCKED)
       INSERT INTO b24rules.leases AS l (member_id, worker_id, expires_at, epoch, acquired_at, grace_ms)
       SELECT member_id, $1, now() + $2::int * interval '1 millisecond', nextval('b24rules.lease_epoch'), now(), $4 FROM cand
       ON CONFLICT (member_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, expires_at = EXCLUDED.expires_at, epoch = EXCLUDED.epoch, acquired_at = now(), grace_ms = EXCLUDED.grace_ms
        WHERE l.expires_at + GREATEST($4::int, COALESCE(l.grace_ms, 0)) * interval '1 millisecond' <= now()
       RETURNING l.member_id, l.epoch`,
      [this.workerId, this.ttlMs, limit, this.graceMs],
    );
    return rows.map((r) => this.#took(r.member_id, Number(r.epoch), sentAt));
  }

  /** Take one portal's lease if it is enabled and free; null otherwise. */
  async acquireOne(memberId: string): Promise<Lease | null> {
    const sentAt = this.#now();
    const { rows } = await this.#pool.query<{ epoch: string }>(
      `INSERT INTO b24rules.leases AS l (member_id, worker_id, expires_at, epoch, acquired_at, grace_ms)
       SELECT p.member_id, $2, now() + $3::int * interval '1 millisecond', nextval('b24rules.lease_epoch'), now(), $4
         FROM b24rules.portals p WHERE p.member_id = $1 AND p.enabled
       ON CONFLICT (member_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, expires_at = EXCLUDED.expires_at, epoch = EXCLUDED.epoch, acquired_at = now(), grace_ms = EXCLUDED.grace_ms
        WHERE l.expires_at + GREATEST($4::int, COALESCE(l.grace_ms, 0)) * interval '1 millisecond' <= now()
       RETURNING l.epoch`,
      [memberId, this.workerId, this.ttlMs, this.graceMs],
    );
    return rows[0] ? this.#took(memberId, Number(rows[0].epoch), sentAt) : null;
  }

  /**
   * Renew leases in one statement; returns those renewed (with a new local
   * validity). A lease missing from the answer is lost: it expired, another
   * worker holds it, or its portal was disabled or removed. Stop serving it.
   */
  async renewAll(leases: readonly Lease[]): Promise<Lease[]> {
    if (leases.length === 0) return [];
    const sentAt = this.#now();
    const { rows } = await this.#pool.query<{ member_id: string; epoch: string }>(
      `UPDATE b24rules.leases l SET expires_at = now() + $2::int * interval '1 millisecond'
        FROM unnest($3::text[], $4::bigint[]) AS mine(member_id, epoch), b24rules.portals p
       WHERE l.member_id = mine.member_id AND l.epoch = mine.epoch AND l.worker_id = $1 AND l.expires_at > now()
         AND p.member_id = l.member_id AND p.enabled
       RETURNING l.member_id, l.epoch`,
      [this.workerId, this.ttlMs, leases.map((l) => l.memberId), leases.map((l) => String(l.epoch))],
    );
    const back = new Set(rows.map((r) => Number(r.epoch)));
    for (const l of leases) if (!back.has(l.epoch)) this.#held.delete(l.epoch);
    return rows.map((r) => this.#lease(r.member_id, Number(r.epoch), sentAt));
  }

  /** Renew one lease; null when it is lost. */
  async renew(lease: Lease): Promise<Lease | null> {
    return (await this.renewAll([lease]))[0] ?? null;
  }

  /**
   * Give a lease up at once (the next worker need not wait for the TTL). Only
   * this tenure's row is touched. Call it only once nothing more will be sent
   * to the portal (its engine stopped): another worker may take it at once.
   */
  async release(lease: Pick<Lease, 'memberId' | 'epoch'>): Promise<void> {
    await this.#pool.query('DELETE FROM b24rules.leases WHERE member_id = $1 AND worker_id = $2 AND epoch = $3', [lease.memberId, this.workerId, lease.epoch]);
    this.#held.delete(lease.epoch);
  }

  /**
   * Leave the live workers (a clean shutdown, after the portals' engines stopped), releasing `leases` (default:
   * every tenure this process took and has not released or seen lost). Only those epochs and this process's own
   * `workers` row are touched: another process with the same worker id keeps its leases.
   */
  async leave(leases?: ReadonlyArray<Pick<Lease, 'epoch'>>): Promise<void> {
    const epochs = leases ? leases.map((l) => l.epoch) : [...this.#held];
    if (epochs.length > 0) {
      await this.#pool.query('DELETE FROM b24rules.leases WHERE worker_id = $1 AND epoch = ANY($2::bigint[])', [this.workerId, epochs.map(String)]);
    }
    for (const e of epochs) this.#held.delete(e);
    await this.#pool.query('DELETE FROM b24rules.workers WHERE worker_id = $1 AND nonce = $2', [this.workerId, this.nonce]);
  }

  #took(memberId: string, epoch: number, sentAt: number): Lease {
    this.#held.add(epoch);
    return this.#lease(memberId, epoch, sentAt);
  }

  #lease(memberId: string, epoch: number, sentAt: number): Lease {
    return { memberId, workerId: this.workerId, epoch, validUntil: localValidUntil(sentAt, this.ttlMs, this.marginMs) };
  }
}
