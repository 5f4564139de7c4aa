/**
 * The effect ledger keeps a failed call's error code beside its message, so the
 * pipeline branches on the code (migration 4). A version-3 file's failures,
 * whose code was the message's "CODE: description" prefix, get it as their code.
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

function open(path: string): StateStore {
  const s = openStateStore(path, { now: () => 1_000 });
  stores.push(s);
  return s;
}

describe('effects.error_code on SQLite', () => {
  it('migration 4 takes the code of a version-3 failure from its "CODE: description" message, and only a code-shaped prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-store-'));
    dirs.push(dir);
    const path = join(dir, 'engine.db');
    const db = openDatabase(path);
    for (const m of MIGRATIONS.slice(0, 3)) db.exec(m);
    db.pragma('user_version = 3');
    db.exec(`INSERT INTO inbox (id, source, key, payload, received_at) VALUES (1, 'manual', 'k', '{}', 1)`);
    db.exec(`INSERT INTO runs (id, item_id, rule_id, rule_hash, trigger_key, created_at, updated_at) VALUES (1, 1, 'r', 'h', 't', 1, 1)`);
    const insert = db.prepare(`INSERT INTO effects (id, effect_key, run_id, seq, action_index, kind, method, params, recovery, state, error, created_at) VALUES (?, ?, 1, ?, 0, 'update', 'm', '{}', 'none', ?, ?, 1)`);
    insert.run(1, 'a', 0, 'failed', 'EFFECT_IN_DOUBT: crm.deal.add was sent but its answer was lost');
    insert.run(2, 'b', 1, 'failed', 'QUERY_LIMIT_EXCEEDED: Too many requests');
    insert.run(3, 'c', 2, 'failed', 'HTTP 500 from example.org: oops');
    insert.run(4, 'd', 3, 'done', null);
    db.close();

    const s = open(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    expect(s.effects.forRun(1).map((e) => [e.effectKey, e.errorCode])).toEqual([
      ['a', 'EFFECT_IN_DOUBT'],
      ['b', 'QUERY_LIMIT_EXCEEDED'],
      ['c', null],
      ['d', null],
    ]);
  });
});

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 1_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('effects.error_code', () => {
    it('is written with the message, read back, and cleared when the call is sent again or done', () => {
      const s = open(':memory:');
      s.inbox.add([{ source: 'manual', key: 'k', event: null, ruleId: 'r', payload: {}, receivedAt: 1 }]);
      const runId = s.runs.create({ itemId: 1, ruleId: 'r', ruleHash: 'h', triggerKey: 'manual:k', recordKey: '' });
      const { effect } = s.effects.record({ effectKey: 'r:1:0.0', runId, seq: 0, actionIndex: 0, kind: 'update', method: 'crm.deal.update', params: {}, recovery: 'resend' });
      s.effects.markFailed(effect.id, { code: 'QUERY_LIMIT_EXCEEDED', message: 'QUERY_LIMIT_EXCEEDED: Too many requests' });
      expect(s.effects.byId(effect.id)).toMatchObject({ state: 'failed', errorCode: 'QUERY_LIMIT_EXCEEDED', error: 'QUERY_LIMIT_EXCEEDED: Too many requests' });
      s.effects.resetFailed(runId);
      expect(s.effects.byId(effect.id)).toMatchObject({ state: 'pending', errorCode: null, error: null });
      s.effects.markFailed(effect.id, { code: 'HTTP_STATUS', message: 'HTTP 500 from example.org: oops' });
      s.effects.markDone(effect.id, { ok: 1 });
      expect(s.effects.byId(effect.id)).toMatchObject({ state: 'done', errorCode: null, error: null });
    });
  });
});
