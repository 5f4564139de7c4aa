/**
 * Timers (issue 18): rows with a due time, fired by the engine's tick. A
 * `delay` timer belongs to a run waiting in its actions; a `for` timer to a
 * rule and a record (at most one pending per pair: a unique partial index), a
 * record that has stayed in a state long enough. Timers are created in the
 * transaction of the run step that starts them and fired in the transaction
 * that turns them into work, so a timer fires once across kill -9 and restart.
 *
 * The tick asks the (state, due_at) index for due rows only: pending timers
 * cost nothing between ticks, however many there are.
 */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { StateNotFoundError } from './errors.js';
import { fromJson, toJson } from './json.js';

/** `delay`: a run waits in its actions; `for`: a record stays in a state; `wait_for`: a run waits for an event, or its timeout. */
export type TimerKind = 'delay' | 'for' | 'wait_for';

/** pending → fired (turned into work) or cancelled (by an event, an operator, or its run ending). */
export type TimerState = 'pending' | 'fired' | 'cancelled';

export interface TimerRecord {
  id: number;
  kind: TimerKind;
  ruleId: string;
  /** The record the timer is about (`deal:12`), '' when none. */
  recordKey: string;
  /** The waiting run (delay, wait_for); null for `for`. */
  runId: number | null;
  /** When it fires (ms since epoch). */
  dueAt: number;
  state: TimerState;
  /** Small JSON: what to do when it fires (the state a `for` waits in, a delay's `recheck`, ...). */
  payload: Record<string, unknown>;
  createdAt: number;
  firedAt: number | null;
  cancelledAt: number | null;
  /** Why it was cancelled, or what its firing became. */
  note: string | null;
  /** A wait_for's event (it ends the wait when it comes about the record), else null. */
  event: string | null;
}

export interface NewTimer {
  kind: TimerKind;
  ruleId: string;
  recordKey?: string;
  runId?: number | null;
  dueAt: number;
  payload?: Record<string, unknown>;
  /** A wait_for's event. */
  event?: string;
}

export interface TimerFilter {
  state?: TimerState | TimerState[];
  ruleId?: string;
  kind?: TimerKind;
  runId?: number;
  /** Timers with an id below this (paging, newest first). */
  beforeId?: number;
  /** @default 50 */
  limit?: number;
}

interface TimerRow {
  id: number;
  kind: TimerKind;
  rule_id: string;
  record_key: string;
  run_id: number | null;
  due_at: number;
  state: TimerState;
  payload: string | null;
  created_at: number;
  fired_at: number | null;
  cancelled_at: number | null;
  note: string | null;
  event: string | null;
}

function toTimer(r: TimerRow): TimerRecord {
  return {
    id: r.id,
    kind: r.kind,
    ruleId: r.rule_id,
    recordKey: r.record_key,
    runId: r.run_id,
    dueAt: r.due_at,
    state: r.state,
    payload: fromJson<Record<string, unknown>>(r.payload, {}),
    createdAt: r.created_at,
    firedAt: r.fired_at,
    cancelledAt: r.cancelled_at,
    note: r.note,
    event: r.event,
  };
}

export class TimersTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Start a timer. A `for` timer of a rule and record that already has a pending one is
   * kept as it is (the record entered the state earlier and has not left it): the answer
   * is that timer, with `created: false`.
   */
  create(t: NewTimer): { timer: TimerRecord; created: boolean } {
    const info = stmt(
      this.#db,
      `INSERT INTO timers (kind, rule_id, record_key, run_id, due_at, state, payload, created_at, event)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(t.kind, t.ruleId, t.recordKey ?? '', t.runId ?? null, t.dueAt, toJson(t.payload ?? {}), this.#now(), t.event ?? null);
    if (info.changes > 0) return { timer: this.get(Number(info.lastInsertRowid))!, created: true };
    return { timer: this.pendingFor(t.ruleId, t.recordKey ?? '')!, created: false };
  }

  get(id: number): TimerRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM timers WHERE id = ?`).get(id) as TimerRow | undefined;
    return row ? toTimer(row) : undefined;
  }

  /** Pending timers due at `now` or before, earliest first: one range of the (state, due_at) index. */
  due(now: number, limit: number): TimerRecord[] {
    return (stmt(this.#db, `SELECT * FROM timers WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`).all(now, limit) as TimerRow[]).map(toTimer);
  }

  /** The earliest due time of a pending timer (null when none): the daemon's next wake-up. */
  nextDue(): number | null {
    const row = stmt(this.#db, `SELECT due_at FROM timers WHERE state = 'pending' ORDER BY due_at LIMIT 1`).get() as { due_at: number } | undefined;
    return row ? row.due_at : null;
  }

  /** Mark a pending timer fired, with what it became; false (nothing changed) when it was not pending. Call in the transaction that stores its work. */
  markFired(id: number, note: string | null = null): boolean {
    return stmt(this.#db, `UPDATE timers SET state = 'fired', fired_at = ?, note = ? WHERE id = ? AND state = 'pending'`).run(this.#now(), note, id).changes > 0;
  }

  /** Cancel a pending timer; false when it was not pending (fired, cancelled). Throws StateNotFoundError for an unknown id. */
  cancel(id: number, note: string): boolean {
    const changed = stmt(this.#db, `UPDATE timers SET state = 'cancelled', cancelled_at = ?, note = ? WHERE id = ? AND state = 'pending'`).run(this.#now(), note, id).changes > 0;
    if (!changed && !this.get(id)) throw new StateNotFoundError('timer', id);
    return changed;
  }

  /** Cancel the pending `for` timer of a rule and record (the record left the state); the cancelled timer, if there was one. */
  cancelFor(ruleId: string, recordKey: string, note: string): TimerRecord | undefined {
    const t = this.pendingFor(ruleId, recordKey);
    if (!t) return undefined;
    this.cancel(t.id, note);
    return { ...t, state: 'cancelled', note };
  }

  /** The pending `for` timer of a rule and record. */
  pendingFor(ruleId: string, recordKey: string): TimerRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM timers WHERE kind = 'for' AND state = 'pending' AND rule_id = ? AND record_key = ?`).get(ruleId, recordKey) as TimerRow | undefined;
    return row ? toTimer(row) : undefined;
  }

  /** Whether any run waits for this event (one step of the waits index: an event nobody waits for costs no read). */
  awaited(event: string): boolean {
    return stmt(this.#db, `SELECT 1 FROM timers WHERE kind = 'wait_for' AND state = 'pending' AND event = ? LIMIT 1`).get(event) !== undefined;
  }

  /** The pending waits for an event about a record, oldest first. */
  waitsFor(event: string, recordKey: string): TimerRecord[] {
    return (stmt(this.#db, `SELECT * FROM timers WHERE kind = 'wait_for' AND state = 'pending' AND event = ? AND record_key = ? ORDER BY id`).all(event, recordKey) as TimerRow[]).map(toTimer);
  }

  /** The pending timer a run waits on. */
  pendingOfRun(runId: number): TimerRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM timers WHERE run_id = ? AND state = 'pending' ORDER BY id LIMIT 1`).get(runId) as TimerRow | undefined;
    return row ? toTimer(row) : undefined;
  }

  /** Newest first. */
  list(filter: TimerFilter = {}): TimerRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state !== undefined) {
      const st = Array.isArray(filter.state) ? filter.state : [filter.state];
      where.push(`state IN (${st.map(() => '?').join(',')})`);
      args.push(...st);
    }
    if (filter.ruleId !== undefined) {
      where.push('rule_id = ?');
      args.push(filter.ruleId);
    }
    if (filter.kind !== undefined) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.runId !== undefined) {
      where.push('run_id = ?');
      args.push(filter.runId);
    }
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      args.push(filter.beforeId);
    }
    const sql = `SELECT * FROM timers ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (stmt(this.#db, sql).all(...args, filter.limit ?? 50) as TimerRow[]).map(toTimer);
  }

  countByState(): Record<TimerState, number> {
    const out: Record<TimerState, number> = { pending: 0, fired: 0, cancelled: 0 };
    for (const r of stmt(this.#db, `SELECT state, COUNT(*) AS n FROM timers GROUP BY state`).all() as Array<{ state: TimerState; n: number }>) out[r.state] = r.n;
    return out;
  }
}
