/**
 * The cheap journal in the store: a state file of the previous version (schema 4) opens,
 * its runs' reasons are copied out of their traces, and finish numbers go on where they
 * were; compact rows read as their outcome and reason; the run log's reads carry no facts
 * or traces; finishing writes only the run's row, and neither pruning nor reopening a run
 * hands a finish number out twice.
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
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'b24-journal-'));
  dirs.push(dir);
  return join(dir, 'engine.db');
}
function open(path: string, now = () => 5_000): StateStore {
  const s = openStateStore(path, { now });
  stores.push(s);
  return s;
}

/** A state file as the previous version left it: schema 4, runs with their reasons inside their traces. */
function version4(path: string): void {
  const db = openDatabase(path);
  db.transaction(() => {
    for (const m of MIGRATIONS.slice(0, 4)) db.exec(m);
    db.pragma('user_version = 4');
    db.exec(`INSERT INTO inbox (id, source, key, payload, received_at, status) VALUES (1, 'offline', 'p:1', '{}', 1, 'running')`);
    const run = db.prepare(
      `INSERT INTO runs (id, item_id, rule_id, rule_hash, trigger_key, record_key, status, facts, trace, created_at, updated_at, finished_at, finished_seq)
       VALUES (?, 1, ?, 'h', 'offline:p:1', 'deal:1', ?, '{"deal":{"ID":"1"}}', ?, 1, 2, ?, ?)`,
    );
    run.run(1, 'skipper', 'skipped', JSON.stringify({ trigger: {}, condition: { value: false, reason: 'x is false' }, outcome: 'skipped', reason: 'condition false: x is false' }), 2, 1);
    run.run(2, 'stopper', 'done', JSON.stringify({ outcome: 'done', reason: 'stop: enough' }), 3, 2);
    run.run(3, 'plain', 'done', JSON.stringify({ outcome: 'done' }), 4, 3);
    run.run(4, 'damaged', 'failed', '{"reason": "cut off', 5, 4);
    run.run(5, 'waiting', 'waiting', '{}', null, null);
    db.exec(`UPDATE counters SET value = 4 WHERE name = 'runs_finished'`);
  })();
  db.close();
}

describe('the state file of the previous version', () => {
  it('opens: reasons come out of the traces, the unused index goes, and finish numbers go on after the last', () => {
    const path = tempPath();
    version4(path);
    const s = open(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    const reasons = Object.fromEntries(s.runs.summaries({ limit: 10 }).map((r) => [r.ruleId, r.reason]));
    expect(reasons).toEqual({ skipper: 'condition false: x is false', stopper: 'stop: enough', plain: null, damaged: null, waiting: null });
    // Old traces are read whole, as they were written.
    expect(s.runs.get(1)?.trace).toMatchObject({ condition: { value: false, reason: 'x is false' } });
    const db = openDatabase(path, { readonly: true });
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'`).all() as Array<{ name: string }>).map((r) => r.name);
    db.close();
    expect(indexes).not.toContain('runs_concurrency');
    expect(s.runs.finishedCursor()).toBe(4);
    s.runs.update(5, { status: 'done' });
    expect(s.runs.finishedSince(4, 10).runs.map((r) => r.id)).toEqual([5]);
    expect(s.runs.finishedCursor()).toBe(5);
  });
});

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 5_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('compact rows and small reads', () => {
    it('a run created skipped is finished at once, stores no facts or trace, and reads as its outcome and reason', () => {
      const s = open(':memory:');
      s.inbox.add([{ source: 'manual', key: 'k', event: null, ruleId: 'r', payload: {}, receivedAt: 1 }]);
      const item = s.inbox.list()[0]!;
      const id = s.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:k', recordKey: 'deal:7', dedupeKey: 'once:7', status: 'skipped', reason: 'dedupe: key "once:7" was used by an earlier run' });
      const run = s.runs.get(id)!;
      expect(run).toMatchObject({ status: 'skipped', facts: null, dedupeKey: 'once:7', finishedAt: 5_000, reason: 'dedupe: key "once:7" was used by an earlier run' });
      expect(run.trace).toEqual({ outcome: 'skipped', reason: run.reason });
      const page = s.runs.finishedSince(0, 10);
      expect(page.runs.map((r) => r.id)).toEqual([id]);
      // The run log reads the small columns only.
      expect(Object.keys(page.runs[0]!)).not.toContain('trace');
      expect(Object.keys(page.runs[0]!)).not.toContain('facts');
      expect(s.runs.summaries()[0]).toMatchObject({ id, reason: run.reason });
    });

    it('finish writes the journal entry once and only for a run not final yet; numbers are never handed out twice, across pruning and a run reopened', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      s.inbox.add([{ source: 'manual', key: 'a', event: null, ruleId: 'r', payload: {}, receivedAt: 1 }]);
      const item = s.inbox.list()[0]!;
      s.inbox.markRunning(item.id);
      const a = s.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:a', recordKey: '', status: 'active' });
      const b = s.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:a', recordKey: '', status: 'active' });
      expect(s.runs.finish(a, { status: 'done', trace: { outcome: 'done' } })).toBe(true);
      expect(s.runs.finish(a, { status: 'failed', trace: { outcome: 'failed' } })).toBe(false);
      expect(s.runs.get(a)).toMatchObject({ status: 'done', trace: { outcome: 'done' } });
      expect(s.runs.finish(b, { status: 'done', trace: null, reason: 'stop: enough' })).toBe(true);
      expect(s.runs.finishedCursor()).toBe(2);
      // The run holding the highest number leaves its final state: its number is not handed out again.
      s.runs.update(b, { status: 'active' });
      expect(s.runs.finishedCursor()).toBe(2);
      s.runs.update(b, { status: 'done' });
      expect(s.runs.finishedSince(1, 10).runs.map((r) => r.id)).toEqual([b]);
      expect(s.runs.finishedCursor()).toBe(3);
      // Pruning every run keeps the floor.
      s.inbox.finish(item.id, 'done');
      s.inbox.markAcknowledged([item.id]);
      t = 10_000;
      expect(s.prune(5_000)).toBe(1);
      s.inbox.add([{ source: 'manual', key: 'c', event: null, ruleId: 'r', payload: {}, receivedAt: 1 }]);
      const next = s.inbox.list().find((i) => i.key === 'c')!;
      const c = s.runs.create({ itemId: next.id, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:c', recordKey: '', status: 'skipped', reason: 'no' });
      expect(s.runs.finishedSince(3, 10).runs.map((r) => r.id)).toEqual([c]);
      expect(s.runs.finishedCursor()).toBe(4);
    });
  });
});
