/** Small keyed tables: record snapshots, rule-level dedupe keys, round-robin positions, schedule bookkeeping. */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { fromJson, toJson } from './json.js';
import type { Snapshot } from './records.js';

/** Last known fields of a record: for `changed` triggers and for recognising the engine's own writes. */
export class SnapshotsTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  get(entity: string, id: string | number): Snapshot | undefined {
    const row = stmt(this.#db, `SELECT * FROM snapshots WHERE entity = ? AND id = ?`).get(entity, String(id)) as
      | { entity: string; id: string; fields: string; updated_at: number }
      | undefined;
    return row ? { entity: row.entity, id: row.id, fields: fromJson<Record<string, unknown>>(row.fields, {}), updatedAt: row.updated_at } : undefined;
  }

  put(entity: string, id: string | number, fields: Record<string, unknown>): void {
    stmt(this.#db, 
        `INSERT INTO snapshots (entity, id, fields, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (entity, id) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at`,
      )
      .run(entity, String(id), toJson(fields), this.#now());
  }

  /** Apply fields the engine itself wrote, so its own change is not seen as a change later. */
  merge(entity: string, id: string | number, fields: Record<string, unknown>): void {
    const cur = this.get(entity, id);
    if (!cur) return;
    this.put(entity, id, { ...cur.fields, ...fields });
  }
}

/** Rule-level dedupe keys: a run whose key is here (it completed before) is skipped. */
export class DedupeTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  has(ruleId: string, key: string): boolean {
    return stmt(this.#db, `SELECT 1 FROM dedupe WHERE rule_id = ? AND key = ?`).get(ruleId, key) !== undefined;
  }

  put(ruleId: string, key: string, runId: number | null = null): void {
    stmt(this.#db, `INSERT OR IGNORE INTO dedupe (rule_id, key, run_id, created_at) VALUES (?, ?, ?, ?)`).run(ruleId, key, runId, this.#now());
  }

  delete(ruleId: string, key: string): boolean {
    return stmt(this.#db, `DELETE FROM dedupe WHERE rule_id = ? AND key = ?`).run(ruleId, key).changes > 0;
  }
}

/** Round-robin positions per (rule, key); they survive restarts. */
export class PositionsTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** The user whose turn it is, and advance the position (one transaction). */
  next<T>(ruleId: string, key: string, users: readonly T[]): T {
    if (users.length === 0) throw new RangeError(`round_robin of rule ${ruleId}: the users list is empty`);
    return this.#db.transaction(() => {
      const pos = this.position(ruleId, key);
      stmt(this.#db, 
          `INSERT INTO positions (rule_id, key, position, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (rule_id, key) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
        )
        .run(ruleId, key, pos + 1, this.#now());
      return users[pos % users.length] as T;
    })();
  }

  /** The user `next` would return after `ahead` more picks, without advancing (dry-run). */
  peek<T>(ruleId: string, key: string, users: readonly T[], ahead = 0): T | undefined {
    return users.length === 0 ? undefined : users[(this.position(ruleId, key) + ahead) % users.length];
  }

  position(ruleId: string, key: string): number {
    const row = stmt(this.#db, `SELECT position FROM positions WHERE rule_id = ? AND key = ?`).get(ruleId, key) as { position: number } | undefined;
    return row?.position ?? 0;
  }
}

/** Last fire time per schedule rule (ms since epoch), so a restart neither repeats nor silently skips a tick. */
export class SchedulesTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  getLastFire(ruleId: string): number | null {
    const row = stmt(this.#db, `SELECT last_fire FROM schedules WHERE rule_id = ?`).get(ruleId) as { last_fire: number } | undefined;
    return row?.last_fire ?? null;
  }

  setLastFire(ruleId: string, at: number): void {
    stmt(this.#db, 
        `INSERT INTO schedules (rule_id, last_fire, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (rule_id) DO UPDATE SET last_fire = excluded.last_fire, updated_at = excluded.updated_at`,
      )
      .run(ruleId, at, this.#now());
  }

  all(): Array<{ ruleId: string; lastFire: number }> {
    return (stmt(this.#db, `SELECT rule_id, last_fire FROM schedules ORDER BY rule_id`).all() as Array<{ rule_id: string; last_fire: number }>).map((r) => ({
      ruleId: r.rule_id,
      lastFire: r.last_fire,
    }));
  }
}
