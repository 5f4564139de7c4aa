/**
 * The effect ledger: one row per intended call, keyed by a stable effect key
 * (UNIQUE), so that a call whose key is already `done` is never sent again.
 * An effect is marked `sent` in a committed transaction before its request
 * leaves, so after a crash every `sent` row is known to be in doubt.
 */
import type { SqlDatabase } from './sqlite.js';
import { stmt } from './statements.js';
import { fromJson, toJson } from './json.js';
import type { EffectFailure, EffectOutcome, EffectRecord, EffectState, NewEffect, RecoveryMode } from './records.js';

interface EffectRow {
  id: number;
  effect_key: string;
  run_id: number;
  seq: number;
  action_index: number;
  kind: string;
  method: string;
  params: string;
  as_name: string | null;
  recovery: RecoveryMode;
  meta: string | null;
  state: EffectState;
  final: number;
  result: string | null;
  error: string | null;
  error_code: string | null;
  attempts: number;
  created_at: number;
  sent_at: number | null;
  done_at: number | null;
}

/** A pending effect as the executor gets it: with the rule of its run. */
export type PendingEffect = EffectRecord & { ruleId: string };

type OutcomeRow = Omit<EffectRow, 'params' | 'recovery' | 'created_at' | 'sent_at' | 'done_at'>;

/** The columns every reader of a call shares: one mapping for the full row and the light outcome. */
function toOutcome(r: OutcomeRow): EffectOutcome {
  return {
    id: r.id,
    effectKey: r.effect_key,
    runId: r.run_id,
    seq: r.seq,
    actionIndex: r.action_index,
    kind: r.kind,
    method: r.method,
    asName: r.as_name,
    meta: fromJson<Record<string, unknown> | null>(r.meta, null),
    state: r.state,
    final: r.final === 1,
    result: fromJson<unknown>(r.result, null),
    error: r.error,
    errorCode: r.error_code,
    attempts: r.attempts,
  };
}

function toEffect(r: EffectRow): EffectRecord {
  return {
    ...toOutcome(r),
    params: fromJson<Record<string, unknown>>(r.params, {}),
    recovery: r.recovery,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    doneAt: r.done_at,
  };
}

export class EffectsTable {
  readonly #db: SqlDatabase;
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Record an intended call. If the key exists already (a retry of the same
   * trigger, a DLQ retry, or another run with the same dedupe key) nothing is
   * inserted and the existing row is returned with `existed: true`.
   */
  record(effect: NewEffect): { effect: EffectRecord; existed: boolean } {
    const now = this.#now();
    const info = stmt(this.#db, 
        `INSERT OR IGNORE INTO effects (effect_key, run_id, seq, action_index, kind, method, params, as_name, recovery, meta, state, result, done_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        effect.effectKey,
        effect.runId,
        effect.seq,
        effect.actionIndex,
        effect.kind,
        effect.method,
        toJson(effect.params),
        effect.asName ?? null,
        effect.recovery,
        effect.meta ? toJson(effect.meta) : null,
        effect.shadow ? 'shadow' : 'pending',
        effect.shadow ? toJson(effect.shadow.result) : null,
        effect.shadow ? now : null,
        now,
      );
    if (info.changes === 0) {
      const row = stmt(this.#db, `SELECT * FROM effects WHERE effect_key = ?`).get(effect.effectKey) as EffectRow;
      return { effect: toEffect(row), existed: true };
    }
    // A new row is exactly what was just written: built from the input instead of read back and parsed (planning records thousands a tick).
    const created: EffectRecord = {
      id: Number(info.lastInsertRowid),
      effectKey: effect.effectKey,
      runId: effect.runId,
      seq: effect.seq,
      actionIndex: effect.actionIndex,
      kind: effect.kind,
      method: effect.method,
      params: effect.params,
      asName: effect.asName ?? null,
      recovery: effect.recovery,
      meta: effect.meta ? effect.meta : null,
      state: effect.shadow ? 'shadow' : 'pending',
      final: false,
      result: effect.shadow ? effect.shadow.result : null,
      error: null,
      errorCode: null,
      attempts: 0,
      createdAt: now,
      sentAt: null,
      doneAt: effect.shadow ? now : null,
    };
    return { effect: created, existed: false };
  }

  /** Take over an effect left failed by an earlier run with the same key (DLQ retry): it will be sent again. */
  adopt(id: number, runId: number, seq: number): void {
    stmt(this.#db, `UPDATE effects SET run_id = ?, seq = ?, state = 'pending', final = 0, error = NULL, error_code = NULL WHERE id = ? AND state = 'failed'`).run(runId, seq, id);
  }

  get(key: string): EffectRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM effects WHERE effect_key = ?`).get(key) as EffectRow | undefined;
    return row ? toEffect(row) : undefined;
  }

  byId(id: number): EffectRecord | undefined {
    const row = stmt(this.#db, `SELECT * FROM effects WHERE id = ?`).get(id) as EffectRow | undefined;
    return row ? toEffect(row) : undefined;
  }

  forRun(runId: number): EffectRecord[] {
    return (stmt(this.#db, `SELECT * FROM effects WHERE run_id = ? ORDER BY seq, id`).all(runId) as EffectRow[]).map(toEffect);
  }

  /**
   * A run's calls in order, light (EffectOutcome): what planning its next round and
   * finishing it read, without parsing params, or results nobody names.
   */
  outcomesOfRun(runId: number): EffectOutcome[] {
    const rows = stmt(
      this.#db,
      `SELECT id, effect_key, run_id, seq, action_index, kind, method, as_name, state, final, error, error_code, attempts,
              CASE WHEN as_name IS NULL THEN NULL ELSE result END AS result, CASE WHEN as_name IS NULL THEN NULL ELSE meta END AS meta
         FROM effects WHERE run_id = ? ORDER BY seq, id`,
    ).all(runId) as OutcomeRow[];
    return rows.map(toOutcome);
  }

  /** Effects in a state, in run order (run id, then seq). */
  inState(state: EffectState, limit = 10_000): EffectRecord[] {
    return (stmt(this.#db, `SELECT * FROM effects WHERE state = ? ORDER BY run_id, seq, id LIMIT ?`).all(state, limit) as EffectRow[]).map(toEffect);
  }

  /** Pending effects of active runs, in run order, with their run's rule: what the executor sends next. */
  pendingOfActiveRuns(limit = 10_000): PendingEffect[] {
    return (
      stmt(this.#db, `SELECT e.*, r.rule_id AS run_rule_id FROM effects e JOIN runs r ON r.id = e.run_id WHERE e.state = 'pending' AND r.status = 'active' ORDER BY e.run_id, e.seq, e.id LIMIT ?`).all(limit) as Array<EffectRow & { run_rule_id: string }>
    ).map((r) => ({ ...toEffect(r), ruleId: r.run_rule_id }));
  }

  /**
   * Keep a note in an effect's meta under `name` (the executor's `merge`: the
   * call went in one command with other runs' updates of the same record).
   * Meta is the effect's own JSON, so the note needs no column of its own.
   * An undefined value removes the note.
   */
  note(id: number, meta: Record<string, unknown> | null, name: string, value: unknown): void {
    // Merged into the stored meta, not `meta`: the row may carry more (the batch markSent noted).
    const stored = fromJson<Record<string, unknown> | null>((stmt(this.#db, `SELECT meta FROM effects WHERE id = ?`).get(id) as { meta: string | null } | undefined)?.meta ?? null, null);
    stmt(this.#db, `UPDATE effects SET meta = ? WHERE id = ?`).run(toJson({ ...(meta ?? {}), ...(stored ?? {}), [name]: value }), id);
  }

  /**
   * Mark effects `sent` (one committed transaction) right before their request goes out.
   * `batch` (the `batch` request they go in: its first member's id and its size) is kept in
   * each row's meta, for the trace; the last send's replaces an earlier one.
   */
  markSent(ids: number[], batch?: { id: number; commands: number }): void {
    const now = this.#now();
    if (batch) {
      // JSON has no portable SQL: SQLite's json_set, PostgreSQL's jsonb concatenation (meta stays text in both).
      const withBatch =
        this.#db.driver === 'postgres' ? `(COALESCE(meta, '{}')::jsonb || jsonb_build_object('batch', CAST(? AS jsonb)))::text` : `json_set(COALESCE(meta, '{}'), '$.batch', json(?))`;
      const st = stmt(this.#db, `UPDATE effects SET state = 'sent', sent_at = ?, attempts = attempts + 1, meta = ${withBatch} WHERE id = ?`);
      const value = JSON.stringify(batch);
      this.#db.transaction(() => {
        for (const id of ids) st.run(now, value, id);
      })();
      return;
    }
    const st = stmt(this.#db, `UPDATE effects SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?`);
    this.#db.transaction(() => {
      for (const id of ids) st.run(now, id);
    })();
  }

  markDone(id: number, result: unknown): void {
    stmt(this.#db, `UPDATE effects SET state = 'done', result = ?, error = NULL, error_code = NULL, done_at = ? WHERE id = ?`).run(toJson(result), this.#now(), id);
  }

  markFailed(id: number, failure: EffectFailure, final = false): void {
    stmt(this.#db, `UPDATE effects SET state = 'failed', error = ?, error_code = ?, final = ?, done_at = ? WHERE id = ?`).run(failure.message, failure.code, final ? 1 : 0, this.#now(), id);
  }

  /** Back to pending without counting an attempt (an in-doubt call found not to have happened, or to be re-sent). */
  markPending(id: number): void {
    stmt(this.#db, `UPDATE effects SET state = 'pending' WHERE id = ?`).run(id);
  }

  /** Retry: a run's non-final failed effects go back to pending. Returns how many. */
  resetFailed(runId: number): number {
    return stmt(this.#db, `UPDATE effects SET state = 'pending', error = NULL, error_code = NULL WHERE run_id = ? AND state = 'failed' AND final = 0`).run(runId).changes;
  }

  /** Give up on a run's failed effects (budget spent). */
  finalizeFailed(runId: number): void {
    stmt(this.#db, `UPDATE effects SET final = 1 WHERE run_id = ? AND state = 'failed'`).run(runId);
  }

  /** How many calls a run journaled in shadow (b24rules_shadow_calls_total counts them when it finishes). */
  shadowOfRun(runId: number): number {
    return Number((stmt(this.#db, `SELECT COUNT(*) AS n FROM effects WHERE run_id = ? AND state = 'shadow'`).get(runId) as { n: number }).n);
  }

  /** Effects by state; `shadow` only when there are any (a state file without shadow rules reads as before). */
  countByState(): Record<Exclude<EffectState, 'shadow'>, number> & { shadow?: number } {
    const out: Record<Exclude<EffectState, 'shadow'>, number> & { shadow?: number } = { pending: 0, sent: 0, done: 0, failed: 0 };
    for (const r of stmt(this.#db, `SELECT state, COUNT(*) AS n FROM effects GROUP BY state`).all() as Array<{ state: EffectState; n: number }>) out[r.state] = r.n;
    return out;
  }
}
