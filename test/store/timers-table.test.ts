/** The timers table (issue 18): pending → fired or cancelled once, one pending for: timer per rule and record, due rows read through the index. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateStore, StateNotFoundError, type StateStore } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';
import { MIGRATIONS } from '../../engine/store/schema.js';
import { openDatabase } from '../../engine/store/sqlite.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function open(path = ':memory:', now = () => 1_000): StateStore {
  const s = openStateStore(path, { now });
  stores.push(s);
  return s;
}

describe('timers table on SQLite', () => {
  it('is created by migration 7 on a file of the schema before, and the due query reads the (state, due_at) index', () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-timers-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    const db = openDatabase(path);
    for (const m of MIGRATIONS.slice(0, 6)) db.exec(m);
    db.pragma('user_version = 6');
    db.close();
    const s = open(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    s.timers.create({ kind: 'for', ruleId: 'r', recordKey: 'deal:1', dueAt: 2_000 });
    const peek = openDatabase(path);
    const plan = (peek.prepare(`EXPLAIN QUERY PLAN SELECT * FROM timers WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`).all(1, 1) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    peek.close();
    expect(plan).toMatch(/USING INDEX timers_due \(state=\? AND due_at<\?\)/);
  });
});

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 1_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('timers table', () => {
    it('fires or cancels a pending timer once, and reads due timers earliest first', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      const a = s.timers.create({ kind: 'delay', ruleId: 'r', recordKey: 'lead:1', runId: 7, dueAt: 5_000, payload: { recheck: true } }).timer;
      const b = s.timers.create({ kind: 'delay', ruleId: 'r', recordKey: 'lead:2', runId: 8, dueAt: 3_000 }).timer;
      const c = s.timers.create({ kind: 'delay', ruleId: 'r', recordKey: 'lead:3', runId: 9, dueAt: 9_000 }).timer;
      expect(a).toMatchObject({ state: 'pending', runId: 7, dueAt: 5_000, payload: { recheck: true }, createdAt: 1_000 });
      expect(s.timers.nextDue()).toBe(3_000);
      expect(s.timers.due(2_999, 10)).toEqual([]);
      expect(s.timers.due(5_000, 10).map((x) => x.id)).toEqual([b.id, a.id]);
      expect(s.timers.due(9_000, 1).map((x) => x.id)).toEqual([b.id]);
      t = 5_000;
      expect(s.timers.markFired(b.id, 'run 8 goes on')).toBe(true);
      expect(s.timers.markFired(b.id, 'again')).toBe(false);
      expect(s.timers.get(b.id)).toMatchObject({ state: 'fired', firedAt: 5_000, note: 'run 8 goes on' });
      expect(s.timers.cancel(c.id, 'an operator')).toBe(true);
      expect(s.timers.cancel(c.id, 'twice')).toBe(false);
      expect(s.timers.markFired(c.id)).toBe(false);
      expect(s.timers.get(c.id)).toMatchObject({ state: 'cancelled', cancelledAt: 5_000, note: 'an operator' });
      expect(() => s.timers.cancel(999, 'x')).toThrow(StateNotFoundError);
      expect(s.timers.due(100_000, 10).map((x) => x.id)).toEqual([a.id]);
      expect(s.timers.pendingOfRun(7)?.id).toBe(a.id);
      expect(s.timers.pendingOfRun(8)).toBeUndefined();
      expect(s.timers.countByState()).toEqual({ pending: 1, fired: 1, cancelled: 1 });
      expect(s.timers.list({ state: ['fired', 'cancelled'] }).map((x) => x.id)).toEqual([c.id, b.id]);
    });

    it('keeps at most one pending for: timer per rule and record: a second start keeps the first', () => {
      const s = open();
      const first = s.timers.create({ kind: 'for', ruleId: 'stale', recordKey: 'deal:1', dueAt: 10_000 });
      const again = s.timers.create({ kind: 'for', ruleId: 'stale', recordKey: 'deal:1', dueAt: 20_000 });
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ created: false, timer: { id: first.timer.id, dueAt: 10_000 } });
      // Another rule, another record: their own timers.
      expect(s.timers.create({ kind: 'for', ruleId: 'other', recordKey: 'deal:1', dueAt: 10_000 }).created).toBe(true);
      expect(s.timers.create({ kind: 'for', ruleId: 'stale', recordKey: 'deal:2', dueAt: 10_000 }).created).toBe(true);
      // Cancelled (the record left the state), a new entry starts a new timer.
      expect(s.timers.cancelFor('stale', 'deal:1', 'left')?.id).toBe(first.timer.id);
      expect(s.timers.cancelFor('stale', 'deal:1', 'left')).toBeUndefined();
      const next = s.timers.create({ kind: 'for', ruleId: 'stale', recordKey: 'deal:1', dueAt: 30_000 });
      expect(next.created).toBe(true);
      expect(s.timers.pendingFor('stale', 'deal:1')?.dueAt).toBe(30_000);
      // Delays are per run: two of one rule and record may wait side by side.
      s.timers.create({ kind: 'delay', ruleId: 'stale', recordKey: 'deal:1', runId: 1, dueAt: 1 });
      expect(s.timers.create({ kind: 'delay', ruleId: 'stale', recordKey: 'deal:1', runId: 2, dueAt: 1 }).created).toBe(true);
    });

    it('retention: prune drops timers that fired or were cancelled before the cut, keeps pending ones and later ones', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      const fired = s.timers.create({ kind: 'for', ruleId: 'r', recordKey: 'deal:1', dueAt: 1_500 }).timer;
      const cancelled = s.timers.create({ kind: 'for', ruleId: 'r', recordKey: 'deal:2', dueAt: 9_000 }).timer;
      const pending = s.timers.create({ kind: 'for', ruleId: 'r', recordKey: 'deal:3', dueAt: 1_000 }).timer;
      t = 2_000;
      s.timers.markFired(fired.id);
      s.timers.cancel(cancelled.id, 'left');
      const late = s.timers.create({ kind: 'for', ruleId: 'r', recordKey: 'deal:4', dueAt: 3_000 }).timer;
      t = 5_000;
      s.timers.markFired(late.id);
      s.prune(3_000);
      expect([fired.id, cancelled.id, pending.id, late.id].map((id) => s.timers.get(id)?.state ?? 'gone')).toEqual(['gone', 'gone', 'pending', 'fired']);
    });
  });
});
