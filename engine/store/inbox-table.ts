/** The inbox: durable work items, one per (source, key). Implements the sources' `Inbox` contract plus what the pipeline needs. */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { fromJson, toJson } from './json.js';
import type { Inbox, InboxItem, InboxItemInput, InboxStatus, SourceKind } from './types.js';

interface InboxRow {
  id: number;
  source: SourceKind;
  key: string;
  event: string | null;
  rule_id: string | null;
  payload: string;
  process_id: string | null;
  message_id: string | null;
  received_at: number;
  status: InboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  acknowledged_at: number | null;
}

function toItem(row: InboxRow): InboxItem {
  const item: InboxItem = {
    id: row.id,
    source: row.source,
    key: row.key,
    event: row.event,
    ruleId: row.rule_id,
    payload: fromJson<Record<string, unknown>>(row.payload, {}),
    receivedAt: row.received_at,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
  };
  if (row.process_id !== null) item.processId = row.process_id;
  if (row.message_id !== null) item.messageId = row.message_id;
  return item;
}

export interface InboxListFilter {
  status?: InboxStatus | InboxStatus[];
  source?: SourceKind;
  /** @default 100 */
  limit?: number;
}

/** The inbox table. Every method is one SQLite transaction. */
export class InboxTable implements Inbox {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  add(items: InboxItemInput[]): { inserted: number; duplicates: number } {
    const st = stmt(this.#db, 
      `INSERT OR IGNORE INTO inbox (source, key, event, rule_id, payload, process_id, message_id, received_at, next_attempt_at)
       VALUES (@source, @key, @event, @ruleId, @payload, @processId, @messageId, @receivedAt, 0)`,
    );
    let inserted = 0;
    this.#db.transaction(() => {
      for (const it of items) {
        const info = st.run({
          source: it.source,
          key: it.key,
          event: it.event,
          ruleId: it.ruleId,
          payload: toJson(it.payload),
          processId: it.processId ?? null,
          messageId: it.messageId ?? null,
          receivedAt: it.receivedAt,
        });
        inserted += info.changes;
      }
    })();
    return { inserted, duplicates: items.length - inserted };
  }

  finished(source: SourceKind, processId?: string): InboxItem[] {
    const rows = (
      processId === undefined
        ? stmt(this.#db, `SELECT * FROM inbox WHERE source = ? AND status IN ('done','dead') AND acknowledged_at IS NULL ORDER BY id`)
            .all(source)
        : stmt(this.#db, `SELECT * FROM inbox WHERE source = ? AND process_id = ? AND status IN ('done','dead') AND acknowledged_at IS NULL ORDER BY id`)
            .all(source, processId)
    ) as InboxRow[];
    return rows.map(toItem);
  }

  markAcknowledged(ids: number[]): void {
    const st = stmt(this.#db, `UPDATE inbox SET acknowledged_at = ? WHERE id = ?`);
    const now = this.#now();
    this.#db.transaction(() => {
      for (const id of ids) st.run(now, id);
    })();
  }

  openProcessIds(): string[] {
    const rows = stmt(this.#db, `SELECT DISTINCT process_id FROM inbox WHERE source = 'offline' AND process_id IS NOT NULL AND acknowledged_at IS NULL ORDER BY process_id`)
      .all() as Array<{ process_id: string }>;
    return rows.map((r) => r.process_id);
  }

  depth(): number {
    const row = stmt(this.#db, `SELECT COUNT(*) AS n FROM inbox WHERE status IN ('pending','running')`).get() as { n: number };
    return row.n;
  }

  /** When the oldest item not yet done or dead was stored (epoch ms), or null when none waits. */
  oldestWaitingAt(): number | null {
    const row = stmt(this.#db, `SELECT MIN(received_at) AS t FROM inbox WHERE status IN ('pending','running')`).get() as { t: number | null } | undefined;
    return row?.t ?? null;
  }

  /** The highest item id now (0 when empty): items added later have higher ids, while the newest row is kept. */
  lastId(): number {
    const row = stmt(this.#db, `SELECT COALESCE(MAX(id), 0) AS n FROM inbox`).get() as { n: number };
    return row.n;
  }

  /** Items waiting to be matched whose retry time has come, oldest first. */
  ready(limit: number): InboxItem[] {
    const rows = stmt(this.#db, `SELECT * FROM inbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`)
      .all(this.#now(), limit) as InboxRow[];
    return rows.map(toItem);
  }

  get(id: number): InboxItem | undefined {
    const row = stmt(this.#db, `SELECT * FROM inbox WHERE id = ?`).get(id) as InboxRow | undefined;
    return row ? toItem(row) : undefined;
  }

  list(filter: InboxListFilter = {}): InboxItem[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status !== undefined) {
      const sts = Array.isArray(filter.status) ? filter.status : [filter.status];
      where.push(`status IN (${sts.map(() => '?').join(',')})`);
      args.push(...sts);
    }
    if (filter.source !== undefined) {
      where.push('source = ?');
      args.push(filter.source);
    }
    const sql = `SELECT * FROM inbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (stmt(this.#db, sql).all(...args, filter.limit ?? 100) as InboxRow[]).map(toItem);
  }

  /** Item matched: its runs exist (call inside the transaction that created them). */
  markRunning(id: number): void {
    stmt(this.#db, `UPDATE inbox SET status = 'running', attempts = attempts + 1 WHERE id = ?`).run(id);
  }

  /** Matching failed (e.g. a foreach list could not be read): try again later. */
  retryLater(id: number, nextAttemptAt: number, error: string): void {
    stmt(this.#db, `UPDATE inbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`).run(nextAttemptAt, error, id);
  }

  /** Final state: every run it started is final. */
  finish(id: number, status: 'done' | 'dead', error: string | null = null): void {
    stmt(this.#db, `UPDATE inbox SET status = ?, finished_at = ?, last_error = COALESCE(?, last_error) WHERE id = ?`).run(status, this.#now(), error, id);
  }

  /** Back to pending (DLQ retry): matched again from scratch; the effect ledger keeps done calls from repeating. */
  requeue(id: number): void {
    stmt(this.#db, `UPDATE inbox SET status = 'pending', next_attempt_at = 0, finished_at = NULL, acknowledged_at = NULL, last_error = NULL WHERE id = ?`)
      .run(id);
  }

  /** Number of items per status (for /metrics and `rules runs`). */
  countByStatus(): Record<InboxStatus, number> {
    const out: Record<InboxStatus, number> = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const r of stmt(this.#db, `SELECT status, COUNT(*) AS n FROM inbox GROUP BY status`).all() as Array<{ status: InboxStatus; n: number }>) out[r.status] = r.n;
    return out;
  }
}
