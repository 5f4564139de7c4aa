/**
 * Shadow mode in the store (issue 16), on SQLite and PostgreSQL: a run's mode
 * is a column of its own (live unless written), listed and filtered; a shadow
 * run's call is an effect row in state `shadow`, final at once with its
 * placeholder result, that nothing which sends, recovers or waits reads. A
 * state file of the version before (schema 8) opens with its runs live.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../engine/store/schema.js';
import { openDatabase } from '../../engine/store/sqlite.js';
import { openStateStore, type StateStore } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';

const effect = (runId: number, key: string, seq: number) => ({ effectKey: key, runId, seq, actionIndex: seq, kind: 'comment', method: 'crm.timeline.comment.add', params: { fields: { ENTITY_ID: 1 } }, recovery: 'lookup' as const, asName: 'c' });

forEachStore((stores) => {
  it('keeps a run’s mode, lists it and filters by it; a run is live unless written shadow', () => {
    const s = stores.open();
    s.inbox.add([{ source: 'offline', key: 'p:1', event: 'ONCRMLEADADD', ruleId: null, payload: {}, receivedAt: 1 }]);
    const item = s.inbox.ready(1)[0];
    const live = s.runs.create({ itemId: item!.id, ruleId: 'route', ruleHash: 'h', triggerKey: 't', recordKey: 'lead:1' });
    const shadow = s.runs.create({ itemId: item!.id, ruleId: 'route-shadow', ruleHash: 'h', triggerKey: 't', recordKey: 'lead:1', mode: 'shadow', status: 'skipped', reason: 'condition false' });
    expect(s.runs.get(live)!.mode).toBe('live');
    expect(s.runs.get(shadow)!.mode).toBe('shadow');
    expect(s.runs.summaries().map((r) => [r.id, r.mode])).toEqual([
      [shadow, 'shadow'],
      [live, 'live'],
    ]);
    expect(s.runs.summaries({ mode: 'shadow' }).map((r) => r.id)).toEqual([shadow]);
    expect(s.runs.summaries({ mode: 'live' }).map((r) => r.id)).toEqual([live]);
    expect(s.runs.finishedSince(0, 10).runs.map((r) => r.mode)).toEqual(['shadow']);
  });

  it('journals a shadow call final at once: never pending, sent or waited for; found again by its key', () => {
    const s = stores.open();
    s.inbox.add([{ source: 'offline', key: 'p:1', event: 'ONCRMLEADADD', ruleId: null, payload: {}, receivedAt: 1 }]);
    const item = s.inbox.ready(1)[0];
    const run = s.runs.create({ itemId: item!.id, ruleId: 'route-shadow', ruleHash: 'h', triggerKey: 't', recordKey: 'lead:1', mode: 'shadow', status: 'active' });
    const first = s.effects.record({ ...effect(run, 'route-shadow:abc:0.0', 0), shadow: { result: 'shadow:route-shadow:abc:0.0' } });
    expect(first.existed).toBe(false);
    expect(first.effect).toMatchObject({ state: 'shadow', result: 'shadow:route-shadow:abc:0.0', sentAt: null, attempts: 0 });
    const again = s.effects.record({ ...effect(run, 'route-shadow:abc:0.0', 0), shadow: { result: 'other' } });
    expect(again.existed).toBe(true);
    expect(again.effect).toMatchObject({ state: 'shadow', result: 'shadow:route-shadow:abc:0.0' });
    expect(s.effects.outcomesOfRun(run)).toEqual([expect.objectContaining({ state: 'shadow', result: 'shadow:route-shadow:abc:0.0' })]);
    expect(s.effects.inState('sent')).toEqual([]);
    expect(s.effects.pendingOfActiveRuns()).toEqual([]);
    // Its run has nothing to wait for: the next round can be planned.
    expect(s.runs.settledActive(10).map((r) => r.id)).toEqual([run]);
    expect(s.effects.shadowOfRun(run)).toBe(1);
    expect(s.effects.countByState()).toEqual({ pending: 0, sent: 0, done: 0, failed: 0, shadow: 1 });
    // A state file without shadow calls counts as before.
    expect(stores.open().effects.countByState()).toEqual({ pending: 0, sent: 0, done: 0, failed: 0 });
  });
});

describe('a state file of schema 8', () => {
  const dirs: string[] = [];
  const open: StateStore[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('opens with migration 9: its runs are live', () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-shadow-'));
    dirs.push(dir);
    const path = join(dir, 'engine.db');
    const db = openDatabase(path);
    db.transaction(() => {
      for (const m of MIGRATIONS.slice(0, 8)) db.exec(m);
      db.pragma('user_version = 8');
      db.exec(`INSERT INTO inbox (id, source, key, payload, received_at, status) VALUES (1, 'offline', 'p:1', '{}', 1, 'done')`);
      db.exec(`INSERT INTO runs (id, item_id, rule_id, rule_hash, trigger_key, record_key, status, created_at, updated_at) VALUES (1, 1, 'old', 'h', 't', 'lead:1', 'done', 1, 2)`);
    })();
    db.close();
    const s = openStateStore(path, { now: () => 5_000 });
    open.push(s);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(9);
    expect(s.runs.get(1)!.mode).toBe('live');
  });
});
