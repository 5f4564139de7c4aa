/**
 * runs.finishedSince: runs in the order they reached a final state, followed with a
 * cursor, so a run created early and finished late (retries, backoff) is seen once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../engine/store/schema.js';
import { openDatabase } from '../../engine/store/sqlite.js';
import { openStateStore, type StateStore } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
function open(path = ':memory:', now = () => 1_000): StateStore {
  const s = openStateStore(path, { now });
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One inbox item in `running` with `n` runs of rule `r`. */
function runs(s: StateStore, key: string, n: number): number[] {
  s.inbox.add([{ source: 'manual', key, event: null, ruleId: 'r', payload: {}, receivedAt: 1 }]);
  const item = s.inbox.list({ limit: 1000 }).find((i) => i.key === key)!;
  s.inbox.markRunning(item.id);
  return Array.from({ length: n }, (_, i) => s.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: `manual:${key}`, recordKey: `deal:${i}` }));
}

describe('runs.finishedSince on SQLite', () => {
  it('migration 3 numbers the runs already finished in a version-2 file by finish time, and new finishes follow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-store-'));
    dirs.push(dir);
    const path = join(dir, 'engine.db');
    const db = openDatabase(path);
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    db.exec(`INSERT INTO inbox (id, source, key, payload, received_at) VALUES (1, 'manual', 'k', '{}', 1)`);
    const insert = db.prepare(`INSERT INTO runs (id, item_id, rule_id, rule_hash, trigger_key, status, created_at, updated_at, finished_at) VALUES (?, 1, 'r', 'h', 't', ?, 1, 1, ?)`);
    insert.run(1, 'done', 300);
    insert.run(2, 'waiting', null);
    insert.run(3, 'failed', 100);
    insert.run(4, 'skipped', 300);
    db.close();

    const s = open(path);
    expect(s.runs.finishedSince(0, 10).runs.map((r) => r.id)).toEqual([3, 1, 4]);
    expect(s.runs.finishedCursor()).toBe(3);
    s.runs.update(2, { status: 'done' });
    expect(s.runs.finishedSince(3, 10).runs.map((r) => r.id)).toEqual([2]);
  });
});

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 1_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('runs.finishedSince', () => {
    it('returns a run created early and finished late exactly once, in finish order, and the cursor advances', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      const [early] = runs(s, 'early', 1);
      s.runs.update(early!, { status: 'active' });
      s.runs.update(early!, { status: 'waiting', attempts: 1, nextAttemptAt: 60_000, error: 'boom' });
      const later = runs(s, 'later', 3);
      t = 2_000;
      for (const id of later) s.runs.update(id, { status: id === later[1] ? 'skipped' : 'done' });

      const first = s.runs.finishedSince(0, 10);
      expect(first.runs.map((r) => [r.id, r.status])).toEqual([
        [later[0], 'done'],
        [later[1], 'skipped'],
        [later[2], 'done'],
      ]);
      expect(first.cursor).toBe(3);
      expect(s.runs.finishedSince(first.cursor, 10)).toEqual({ runs: [], cursor: first.cursor });

      // The early run is retried and finishes long after the newer ones.
      t = 61_000;
      s.runs.update(early!, { status: 'active', attempts: 1 });
      s.runs.update(early!, { status: 'done' });
      const second = s.runs.finishedSince(first.cursor, 10);
      expect(second.runs.map((r) => [r.id, r.status, r.finishedAt])).toEqual([[early, 'done', 61_000]]);
      expect(second.cursor).toBeGreaterThan(first.cursor);
      expect(s.runs.finishedSince(second.cursor, 10)).toEqual({ runs: [], cursor: second.cursor });
      expect(s.runs.finishedCursor()).toBe(second.cursor);

      // Patching a finished run (trace, a repeated final status) does not make it new again.
      s.runs.update(early!, { trace: { note: 'x' } });
      s.runs.update(early!, { status: 'done' });
      expect(s.runs.finishedSince(second.cursor, 10).runs).toEqual([]);
      expect(s.runs.finishedSince(0, 10).runs.map((r) => r.id)).toEqual([...later, early]);
    });

    it('pages with the limit without skipping or repeating', () => {
      const s = open();
      const ids = runs(s, 'bulk', 7);
      for (const id of [...ids].reverse()) s.runs.update(id, { status: 'done' });
      const seen: number[] = [];
      let cursor = s.runs.finishedCursor() - 7;
      for (;;) {
        const page = s.runs.finishedSince(cursor, 3);
        seen.push(...page.runs.map((r) => r.id));
        cursor = page.cursor;
        if (page.runs.length < 3) break;
      }
      expect(seen).toEqual([...ids].reverse());
    });

    it('a dead run retried from the DLQ is reported once, and its new run once more', () => {
      const s = open();
      const [first] = runs(s, 'dlq', 1);
      const item = s.runs.get(first!)!.itemId;
      s.runs.update(first!, { status: 'dead', error: 'boom' });
      s.inbox.finish(item, 'dead');
      const entry = s.dlq.add({ itemId: item, runId: first!, ruleId: 'r', error: 'boom', payload: {} });
      const a = s.runs.finishedSince(0, 10);
      expect(a.runs.map((r) => [r.id, r.status])).toEqual([[first, 'dead']]);
      s.dlq.retry(entry);
      s.inbox.markRunning(item);
      const again = s.runs.create({ itemId: item, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:dlq', recordKey: 'deal:0' });
      s.runs.update(again, { status: 'done' });
      expect(s.runs.finishedSince(a.cursor, 10).runs.map((r) => [r.id, r.status])).toEqual([[again, 'done']]);
    });

    it('regression: pruning the latest finished runs does not let their numbers be reused', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      const [old] = runs(s, 'old', 1);
      const item = s.runs.get(old!)!.itemId;
      s.runs.update(old!, { status: 'done' });
      s.inbox.finish(item, 'done');
      s.inbox.markAcknowledged([item]);
      const cursor = s.runs.finishedCursor();
      t = 10_000;
      expect(s.prune(5_000)).toBe(1);
      const [fresh] = runs(s, 'fresh', 1);
      s.runs.update(fresh!, { status: 'done' });
      expect(s.runs.finishedSince(cursor, 10).runs.map((r) => r.id)).toEqual([fresh]);
    });
  });
});
