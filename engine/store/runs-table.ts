/**
 * The runs table: one row per rule acting on one trigger (and record), with its journal
 * entry (trace). A run that does not act is a compact row: no facts, no trace, its
 * reason in a column. Readers that list runs (the run log, `rules runs`, metrics) select
 * the small columns only; facts and trace are parsed only for one run (`get`) or for the
 * runs a tick decodes.
 */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { fromJson, toJson } from './json.js';
import type { ActiveRunRef, NewRun, RuleRunCounts, RunFilter, RunMode, RunPatch, RunRecord, RunStatus, RunSummary } from './records.js';

interface SummaryRow {
  id: number;
  item_id: number;
  rule_id: string;
  rule_hash: string;
  trigger_key: string;
  record_key: string;
  concurrency_key: string | null;
  dedupe_key: string | null;
  status: RunStatus;
  cursor: number;
  attempts: number;
  next_attempt_at: number;
  error: string | null;
  reason: string | null;
  mode: RunMode;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  finished_seq: number | null;
}

interface RunRow extends SummaryRow {
  facts: string | null;
  trace: string;
}

/** Every column but facts and trace. */
const SUMMARY_COLUMNS = `id, item_id, rule_id, rule_hash, trigger_key, record_key, concurrency_key, dedupe_key, status, cursor, attempts,
  next_attempt_at, error, reason, mode, created_at, updated_at, finished_at, finished_seq`;

const EMPTY_TRACE = '{}';

function toSummary(r: SummaryRow): RunSummary {
  return {
    id: r.id,
    itemId: r.item_id,
    ruleId: r.rule_id,
    ruleHash: r.rule_hash,
    triggerKey: r.trigger_key,
    recordKey: r.record_key,
    concurrencyKey: r.concurrency_key,
    dedupeKey: r.dedupe_key,
    status: r.status,
    cursor: r.cursor,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    error: r.error,
    reason: r.reason,
    mode: r.mode,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

function toRun(r: RunRow): RunRecord {
  // A compact row's journal entry is its outcome and reason.
  const trace = r.trace === EMPTY_TRACE && r.reason !== null && FINAL.has(r.status) ? { outcome: r.status, reason: r.reason } : fromJson<Record<string, unknown>>(r.trace, {});
  return { ...toSummary(r), facts: fromJson<Record<string, unknown> | null>(r.facts, null), trace };
}

const FINAL = new Set<RunStatus>(['done', 'skipped', 'failed', 'dead']);

/**
 * The latest finish number: the highest a run holds, or the floor the `counters` row keeps
 * (raised by triggers when a run holding a number is pruned or leaves its final state, schema
 * migration 6), so no number is ever handed out twice. Finishing a run writes only its own row.
 */
// Portable SQL (SQLite and PostgreSQL): the larger of the two as an aggregate over both, not SQLite's two-argument MAX.
const LATEST_FINISH = `(SELECT COALESCE(MAX(n), 0) FROM (SELECT value AS n FROM counters WHERE name = 'runs_finished' UNION ALL SELECT MAX(finished_seq) AS n FROM runs WHERE finished_seq IS NOT NULL) AS latest)`;
const NEXT_FINISH = `(${LATEST_FINISH} + 1)`;

const COLUMNS: Record<keyof RunPatch, string> = {
  status: 'status',
  cursor: 'cursor',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  facts: 'facts',
  trace: 'trace',
  error: 'error',
  reason: 'reason',
  concurrencyKey: 'concurrency_key',
  dedupeKey: 'dedupe_key',
};

export class RunsTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Insert a run; returns its id. Without a status it is `new`; with a final one it is
   * finished at once (finish time and number), as a compact skipped run is.
   */
  create(run: NewRun): number {
    const now = this.#now();
    const status = run.status ?? 'new';
    const final = FINAL.has(status);
    const info = stmt(
      this.#db,
      `INSERT INTO runs (item_id, rule_id, rule_hash, trigger_key, record_key, concurrency_key, dedupe_key, status, cursor, attempts, next_attempt_at,
                         facts, trace, error, reason, mode, created_at, updated_at, finished_at, finished_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      run.itemId,
      run.ruleId,
      run.ruleHash,
      run.triggerKey,
      run.recordKey,
      run.concurrencyKey ?? null,
      run.dedupeKey ?? null,
      status,
      run.cursor ?? 0,
      run.attempts ?? 0,
      run.nextAttemptAt ?? 0,
      run.facts ? toJson(run.facts) : null,
      run.trace ? toJson(run.trace) : EMPTY_TRACE,
      run.error ?? null,
      run.reason ?? null,
      run.mode ?? 'live',
      now,
      now,
      final ? now : null,
      final ? this.#nextFinishSeq() : null,
    );
    return Number(info.lastInsertRowid);
  }

  get(id: number): RunRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /**
   * Patch a run. A status patch also stamps `finished_at` (now for a final status, null
   * otherwise); the first move into a final state takes the next finish number
   * (see finishedSince), a final-to-final patch keeps the one it has, and a move back
   * out of a final state clears it.
   */
  update(id: number, patch: RunPatch): void {
    const sets: string[] = ['updated_at = ?'];
    const now = this.#now();
    const args: unknown[] = [now];
    for (const [k, v] of Object.entries(patch) as Array<[keyof RunPatch, unknown]>) {
      if (v === undefined) continue;
      sets.push(`${COLUMNS[k]} = ?`);
      args.push(k === 'facts' || k === 'trace' ? (v === null ? null : toJson(v)) : v);
    }
    if (patch.status === undefined) {
      stmt(this.#db, `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      return;
    }
    sets.push('finished_at = ?');
    args.push(FINAL.has(patch.status) ? now : null);
    if (!FINAL.has(patch.status)) {
      sets.push('finished_seq = NULL');
      stmt(this.#db, `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      return;
    }
    this.#db.transaction(() => {
      const row = stmt(this.#db, `SELECT finished_seq FROM runs WHERE id = ?`).get(id) as { finished_seq: number | null } | undefined;
      if (row && row.finished_seq === null) {
        sets.push('finished_seq = ?');
        args.push(this.#nextFinishSeq());
      }
      stmt(this.#db, `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    })();
  }

  /**
   * Put a run that is not final yet into a final state with its journal entry, in one
   * statement and its finish number. Returns false (and changes nothing) when the run
   * is gone or already final.
   */
  finish(id: number, end: { status: RunStatus; trace: Record<string, unknown> | null; error?: string | null; reason?: string | null }): boolean {
    const now = this.#now();
    const info = stmt(
      this.#db,
      `UPDATE runs SET status = ?, trace = ?, error = COALESCE(?, error), reason = ?, updated_at = ?, finished_at = ?, finished_seq = ${NEXT_FINISH}
        WHERE id = ? AND status IN ('new','active','waiting','delayed')`,
    ).run(end.status, end.trace ? toJson(end.trace) : EMPTY_TRACE, end.error ?? null, end.reason ?? null, now, now, id);
    return info.changes > 0;
  }

  #nextFinishSeq(): number {
    return (stmt(this.#db, `SELECT ${NEXT_FINISH} AS n`).get() as { n: number }).n;
  }

  /**
   * Runs that reached a final state (done, skipped, failed, dead) after `cursor`, in the
   * order they finished, at most `limit`, without facts and trace; `cursor` of the answer
   * is where the next call goes on (unchanged when nothing finished). A run is returned
   * once however long it waited before finishing (retries, backoff, concurrency holds).
   * Start from 0 for every finish still in the store, or from finishedCursor() for only
   * those to come.
   */
  finishedSince(cursor: number, limit: number): { runs: RunSummary[]; cursor: number } {
    const rows = stmt(this.#db, `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE finished_seq > ? ORDER BY finished_seq LIMIT ?`).all(cursor, limit) as SummaryRow[];
    const last = rows[rows.length - 1];
    return { runs: rows.map(toSummary), cursor: last?.finished_seq ?? cursor };
  }

  /** The cursor after the latest finish so far (0 when no run has finished yet). */
  finishedCursor(): number {
    return (stmt(this.#db, `SELECT ${LATEST_FINISH} AS n`).get() as { n: number }).n;
  }

  /** Newest first, whole rows (facts and trace parsed). */
  list(filter: RunFilter = {}): RunRecord[] {
    return (this.#select('*', filter) as RunRow[]).map(toRun);
  }

  /** Newest first, the small columns only (`rules runs`). */
  summaries(filter: RunFilter = {}): RunSummary[] {
    return (this.#select(SUMMARY_COLUMNS, filter) as SummaryRow[]).map(toSummary);
  }

  #select(columns: string, filter: RunFilter): unknown[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.ruleId !== undefined) {
      where.push('rule_id = ?');
      args.push(filter.ruleId);
    }
    if (filter.failed) where.push(`status IN ('failed','dead')`);
    if (filter.status !== undefined) {
      const st = Array.isArray(filter.status) ? filter.status : [filter.status];
      where.push(`status IN (${st.map(() => '?').join(',')})`);
      args.push(...st);
    }
    if (filter.itemId !== undefined) {
      where.push('item_id = ?');
      args.push(filter.itemId);
    }
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      args.push(filter.beforeId);
    }
    if (filter.recordKey !== undefined) {
      where.push('record_key = ?');
      args.push(filter.recordKey);
    }
    if (filter.createdFrom !== undefined) {
      where.push('created_at >= ?');
      args.push(filter.createdFrom);
    }
    if (filter.createdTo !== undefined) {
      where.push('created_at < ?');
      args.push(filter.createdTo);
    }
    if (filter.mode !== undefined) {
      where.push('mode = ?');
      args.push(filter.mode);
    }
    const sql = `SELECT ${columns} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return stmt(this.#db, sql).all(...args, filter.limit ?? 50);
  }

  /** Runs in the given statuses whose time has come, oldest first, whole rows. */
  due(statuses: RunStatus[], limit: number): RunRecord[] {
    const rows = stmt(this.#db, `SELECT * FROM runs WHERE status IN (${statuses.map(() => '?').join(',')}) AND next_attempt_at <= ? AND superseded = 0 ORDER BY id LIMIT ?`)
      .all(...statuses, this.#now(), limit) as RunRow[];
    return rows.map(toRun);
  }

  /** Ids of the runs waiting for a retry whose time has come, oldest first. */
  dueWaiting(limit: number): number[] {
    const rows = stmt(this.#db, `SELECT id FROM runs WHERE status = 'waiting' AND next_attempt_at <= ? ORDER BY id LIMIT ?`).all(this.#now(), limit) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  }

  /** Active runs with no call pending or in doubt: their stage is settled and the next one can be planned. */
  settledActive(limit: number): ActiveRunRef[] {
    const rows = stmt(
      this.#db,
      `SELECT r.id, r.item_id, r.rule_id, r.attempts FROM runs r
        WHERE r.status = 'active' AND r.next_attempt_at <= ?
          AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.run_id = r.id AND e.state IN ('pending','sent'))
        ORDER BY r.id LIMIT ?`,
    ).all(this.#now(), limit) as Array<{ id: number; item_id: number; rule_id: string; attempts: number }>;
    return rows.map((r) => ({ id: r.id, itemId: r.item_id, ruleId: r.rule_id, attempts: r.attempts }));
  }

  /**
   * A delayed run whose timer fired goes back to `new`: the next tick loads it again and plans on,
   * from `cursor` when given (a wait_for's on_timeout actions). False when it is not delayed (finished, cancelled).
   */
  wake(id: number, cursor?: number): boolean {
    return stmt(this.#db, `UPDATE runs SET status = 'new', next_attempt_at = 0, cursor = COALESCE(?, cursor), updated_at = ? WHERE id = ? AND status = 'delayed' AND superseded = 0`).run(cursor ?? null, this.#now(), id).changes > 0;
  }

  /** Concurrency keys (per rule) of runs that are in flight: active or waiting for a retry. */
  inFlightKeys(): Set<string> {
    const rows = stmt(this.#db, `SELECT rule_id, concurrency_key FROM runs WHERE status IN ('active','waiting') AND concurrency_key IS NOT NULL`)
      .all() as Array<{ rule_id: string; concurrency_key: string }>;
    return new Set(rows.map((r) => `${r.rule_id}\u0000${r.concurrency_key}`));
  }

  forItem(itemId: number): RunRecord[] {
    return (stmt(this.#db, `SELECT * FROM runs WHERE item_id = ? ORDER BY id`).all(itemId) as RunRow[]).map(toRun);
  }

  /** The stored facts of an item's runs that kept any (compact rows keep none), oldest first. */
  factsOfItem(itemId: number): Array<{ id: number; ruleId: string; mode: RunMode; facts: Record<string, unknown> | null }> {
    const rows = stmt(this.#db, `SELECT id, rule_id, mode, facts FROM runs WHERE item_id = ? AND facts IS NOT NULL ORDER BY id`).all(itemId) as Array<{ id: number; rule_id: string; mode: RunMode; facts: string }>;
    return rows.map((r) => ({ id: r.id, ruleId: r.rule_id, mode: r.mode, facts: fromJson<Record<string, unknown> | null>(r.facts, null) }));
  }

  /** Items in `running` whose runs are all final: the pipeline finishes them. */
  settledItems(): Array<{ itemId: number; dead: number; total: number }> {
    return stmt(
      this.#db,
      `SELECT i.id AS "itemId",
                SUM(CASE WHEN r.status = 'dead' THEN 1 ELSE 0 END) AS dead,
                COUNT(r.id) AS total
           FROM inbox i LEFT JOIN runs r ON r.item_id = i.id AND r.superseded = 0
          WHERE i.status = 'running'
          GROUP BY i.id
         HAVING SUM(CASE WHEN r.status IN ('new','active','waiting') THEN 1 ELSE 0 END) = 0`,
    ).all() as Array<{ itemId: number; dead: number; total: number }>;
  }

  /** Runs created since `dayStart` per rule and status, and how many of them since `hourStart`. */
  countsByRule(dayStart: number, hourStart: number): RuleRunCounts[] {
    const rows = stmt(this.#db, `SELECT rule_id, status, COUNT(*) AS day, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS hour FROM runs WHERE created_at >= ? GROUP BY rule_id, status`)
      .all(hourStart, dayStart) as Array<{ rule_id: string; status: RunStatus; day: number; hour: number }>;
    return rows.map((r) => ({ ruleId: r.rule_id, status: r.status, hour: r.hour, day: r.day }));
  }

  /** When each rule last acted: the creation time of its newest run that was not skipped. */
  lastActedByRule(): Map<string, number> {
    const rows = stmt(this.#db, `SELECT rule_id, MAX(created_at) AS at FROM runs WHERE status <> 'skipped' GROUP BY rule_id`).all() as Array<{ rule_id: string; at: number }>;
    return new Map(rows.map((r) => [r.rule_id, r.at]));
  }

  countByStatus(): Record<RunStatus, number> {
    const out: Record<RunStatus, number> = { new: 0, active: 0, waiting: 0, delayed: 0, done: 0, skipped: 0, failed: 0, dead: 0 };
    for (const r of stmt(this.#db, `SELECT status, COUNT(*) AS n FROM runs GROUP BY status`).all() as Array<{ status: RunStatus; n: number }>) out[r.status] = r.n;
    return out;
  }
}
