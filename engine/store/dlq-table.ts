/** The dead-letter queue: items whose run failed after its retry budget, with the error and the payload, for `rules dlq`. */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { StateNotFoundError } from './errors.js';
import type { InboxTable } from './inbox-table.js';
import type { RunsTable } from './runs-table.js';
import { fromJson, toJson } from './json.js';
import type { DlqEntry } from './records.js';

interface DlqRow {
  id: number;
  item_id: number;
  run_id: number | null;
  rule_id: string | null;
  error: string;
  payload: string;
  created_at: number;
}

function toEntry(r: DlqRow): DlqEntry {
  return { id: r.id, itemId: r.item_id, runId: r.run_id, ruleId: r.rule_id, error: r.error, payload: fromJson<Record<string, unknown>>(r.payload, {}), createdAt: r.created_at };
}

export class DlqTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;
  readonly #inbox: InboxTable;
  readonly #runs: RunsTable;

  constructor(db: SqlDatabase, now: () => number, inbox: InboxTable, runs: RunsTable) {
    this.#db = db;
    this.#now = now;
    this.#inbox = inbox;
    this.#runs = runs;
  }

  add(entry: { itemId: number; runId: number | null; ruleId: string | null; error: string; payload: Record<string, unknown> }): number {
    const info = stmt(this.#db, `INSERT INTO dlq (item_id, run_id, rule_id, error, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(entry.itemId, entry.runId, entry.ruleId, entry.error, toJson(entry.payload), this.#now());
    return Number(info.lastInsertRowid);
  }

  /** Newest first. */
  list(filter: { ruleId?: string; limit?: number } = {}): DlqEntry[] {
    const rows = (
      filter.ruleId === undefined
        ? stmt(this.#db, `SELECT * FROM dlq ORDER BY id DESC LIMIT ?`).all(filter.limit ?? 100)
        : stmt(this.#db, `SELECT * FROM dlq WHERE rule_id = ? ORDER BY id DESC LIMIT ?`).all(filter.ruleId, filter.limit ?? 100)
    ) as DlqRow[];
    return rows.map(toEntry);
  }

  get(id: number): DlqEntry | undefined {
    const row = stmt(this.#db, `SELECT * FROM dlq WHERE id = ?`).get(id) as DlqRow | undefined;
    return row ? toEntry(row) : undefined;
  }

  /** The entry run `runId` ended in, while it is there (newest first when there are several). */
  forRun(runId: number): DlqEntry | undefined {
    const row = stmt(this.#db, `SELECT * FROM dlq WHERE run_id = ? ORDER BY id DESC LIMIT 1`).get(runId) as DlqRow | undefined;
    return row ? toEntry(row) : undefined;
  }

  /**
   * Send the entry's item back to the inbox (pending) and remove the entry. The
   * item is matched again; calls that were done before are not repeated (the
   * effect ledger), calls that failed are sent again. A run of the item still
   * on a timer (delayed, or woken and not started) would go on beside the
   * retry's own run: its timer is cancelled and it ends skipped, journal kept.
   */
  retry(id: number): DlqEntry {
    const entry = this.get(id);
    if (!entry) throw new StateNotFoundError('DLQ entry', id);
    this.#db.transaction(() => {
      const reason = `the DLQ retry of item ${entry.itemId} superseded it; the retry's own run goes on`;
      for (const run of this.#runs.forItem(entry.itemId)) {
        if (run.status !== 'delayed' && run.status !== 'new') continue;
        stmt(this.#db, `UPDATE timers SET state = 'cancelled', cancelled_at = ?, note = ? WHERE run_id = ? AND state = 'pending'`).run(this.#now(), reason, run.id);
        const { waitingFor: _w, ...trace } = run.trace;
        this.#runs.finish(run.id, { status: 'skipped', trace: { ...trace, outcome: 'skipped', reason }, reason });
      }
      stmt(this.#db, `DELETE FROM dlq WHERE item_id = ?`).run(entry.itemId);
      stmt(this.#db, `UPDATE runs SET superseded = 1 WHERE item_id = ?`).run(entry.itemId);
      this.#inbox.requeue(entry.itemId);
    })();
    return entry;
  }

  /** Forget the entry (the item stays dead). */
  drop(id: number): DlqEntry {
    const entry = this.get(id);
    if (!entry) throw new StateNotFoundError('DLQ entry', id);
    stmt(this.#db, `DELETE FROM dlq WHERE id = ?`).run(id);
    return entry;
  }

  /** Entries per rule (entries of no rule are left out). */
  countByRule(): Map<string, number> {
    const rows = stmt(this.#db, `SELECT rule_id, COUNT(*) AS n FROM dlq WHERE rule_id IS NOT NULL GROUP BY rule_id`).all() as Array<{ rule_id: string; n: number }>;
    return new Map(rows.map((r) => [r.rule_id, r.n]));
  }

  count(): number {
    return (stmt(this.#db, `SELECT COUNT(*) AS n FROM dlq`).get() as { n: number }).n;
  }
}
