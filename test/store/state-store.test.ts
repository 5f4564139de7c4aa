import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../engine/store/sqlite.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateStore, StateNotFoundError, StateStoreError, type InboxItemInput, type StateStore } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'b24-store-'));
  dirs.push(dir);
  return join(dir, 'state', 'engine.db');
}
function open(path = ':memory:', now = () => 1_000): StateStore {
  const s = openStateStore(path, { now });
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function offline(n: number, processId = 'p1'): InboxItemInput {
  return { source: 'offline', key: `${processId}:${n}`, event: 'ONCRMDEALUPDATE', ruleId: null, payload: { FIELDS: { ID: String(n) } }, processId, messageId: String(n), receivedAt: 500 };
}

describe('state store on SQLite', () => {
  it('creates the file with WAL, FULL sync and the current schema version', () => {
    const path = tempPath();
    const s = open(path);
    s.close();
    const db = openDatabase(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(s.schemaVersion);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    db.close();
  });

  it('refuses a state file from a newer version with a user error', () => {
    const path = tempPath();
    open(path).close();
    const db = openDatabase(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => open(path)).toThrow(StateStoreError);
  });
});

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 1_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('state store', () => {
    it('inbox: a repeated (source, key) is ignored, and it survives reopening', () => {
      const path = stores.place();
      const s = open(path);
      expect(s.inbox.add([offline(1), offline(2)])).toEqual({ inserted: 2, duplicates: 0 });
      expect(s.inbox.add([offline(2), offline(3)])).toEqual({ inserted: 1, duplicates: 1 });
      s.close();
      const s2 = open(path);
      expect(s2.inbox.depth()).toBe(3);
      const items = s2.inbox.ready(10);
      expect(items.map((i) => i.key)).toEqual(['p1:1', 'p1:2', 'p1:3']);
      expect(items[0]).toMatchObject({ source: 'offline', event: 'ONCRMDEALUPDATE', processId: 'p1', messageId: '1', payload: { FIELDS: { ID: '1' } }, status: 'pending' });
    });

    it('inbox: finished items per process until acknowledged; open process ids', () => {
      const s = open();
      s.inbox.add([offline(1), offline(2), offline(3, 'p2')]);
      const [a, b] = s.inbox.ready(10);
      s.inbox.finish(a!.id, 'done');
      s.inbox.finish(b!.id, 'dead', 'boom');
      expect(s.inbox.finished('offline', 'p1').map((i) => [i.key, i.status])).toEqual([
        ['p1:1', 'done'],
        ['p1:2', 'dead'],
      ]);
      expect(s.inbox.finished('offline', 'p2')).toEqual([]);
      expect(s.inbox.openProcessIds()).toEqual(['p1', 'p2']);
      s.inbox.markAcknowledged([a!.id, b!.id]);
      expect(s.inbox.finished('offline')).toEqual([]);
      expect(s.inbox.openProcessIds()).toEqual(['p2']);
      expect(s.inbox.depth()).toBe(1);
    });

    it('inbox: a retried item is not ready before its time', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      s.inbox.add([offline(1)]);
      const [a] = s.inbox.ready(10);
      s.inbox.retryLater(a!.id, 5_000, 'later');
      expect(s.inbox.ready(10)).toEqual([]);
      t = 5_000;
      expect(s.inbox.ready(10)[0]).toMatchObject({ attempts: 1, lastError: 'later' });
    });

    it('effect ledger: a key is recorded once; sent/done/failed transitions', () => {
      const s = open();
      s.inbox.add([offline(1)]);
      const item = s.inbox.ready(1)[0]!;
      const runId = s.runs.create({ itemId: item.id, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: 'deal:1' });
      const e = { effectKey: 'r:k:0', runId, seq: 0, actionIndex: 0, kind: 'comment', method: 'crm.timeline.comment.add', params: { fields: { COMMENT: 'x' } }, recovery: 'lookup' as const };
      const first = s.effects.record(e);
      expect(first.existed).toBe(false);
      expect(s.effects.record(e).existed).toBe(true);
      s.effects.markSent([first.effect.id]);
      expect(s.effects.inState('sent').map((x) => x.effectKey)).toEqual(['r:k:0']);
      s.effects.markFailed(first.effect.id, { code: 'ERR', message: 'ERR' });
      expect(s.effects.resetFailed(runId)).toBe(1);
      s.effects.markDone(first.effect.id, 42);
      expect(s.effects.get('r:k:0')).toMatchObject({ state: 'done', result: 42, attempts: 1 });
    });

    it('runs: list by rule and failed, settled items', () => {
      const s = open();
      s.inbox.add([offline(1), offline(2)]);
      const [a, b] = s.inbox.ready(10);
      s.inbox.markRunning(a!.id);
      s.inbox.markRunning(b!.id);
      const r1 = s.runs.create({ itemId: a!.id, ruleId: 'one', ruleHash: 'h', triggerKey: 't1', recordKey: 'deal:1' });
      const r2 = s.runs.create({ itemId: b!.id, ruleId: 'two', ruleHash: 'h', triggerKey: 't2', recordKey: 'deal:2' });
      s.runs.update(r1, { status: 'done', trace: { ok: true } });
      s.runs.update(r2, { status: 'waiting', nextAttemptAt: 9_999 });
      expect(s.runs.list({ ruleId: 'one' }).map((r) => r.id)).toEqual([r1]);
      expect(s.runs.get(r1)).toMatchObject({ status: 'done', trace: { ok: true }, finishedAt: 1_000 });
      expect(s.runs.settledItems()).toEqual([{ itemId: a!.id, dead: 0, total: 1 }]);
      s.runs.update(r2, { status: 'dead', error: 'x' });
      expect(s.runs.list({ failed: true }).map((r) => r.id)).toEqual([r2]);
    });

    it('dlq: retry sends the item back to pending; drop forgets the entry', () => {
      const s = open();
      s.inbox.add([offline(1), offline(2)]);
      const [a, b] = s.inbox.ready(10);
      s.inbox.finish(a!.id, 'dead');
      s.inbox.finish(b!.id, 'dead');
      const d1 = s.dlq.add({ itemId: a!.id, runId: null, ruleId: 'r', error: 'boom', payload: { x: 1 } });
      const d2 = s.dlq.add({ itemId: b!.id, runId: null, ruleId: 'r', error: 'boom', payload: {} });
      expect(s.dlq.list().map((e) => e.id)).toEqual([d2, d1]);
      s.dlq.retry(d1);
      expect(s.inbox.get(a!.id)).toMatchObject({ status: 'pending' });
      s.dlq.drop(d2);
      expect(s.dlq.count()).toBe(0);
      expect(() => s.dlq.retry(d2)).toThrow(StateNotFoundError);
    });

    it('positions, snapshots, dedupe and schedules persist across reopen', () => {
      const path = stores.place();
      const s = open(path);
      const users = [1, 2, 3];
      expect([s.positions.next('rr', 'k', users), s.positions.next('rr', 'k', users)]).toEqual([1, 2]);
      s.snapshots.put('deal', 7, { STAGE_ID: 'NEW' });
      s.snapshots.merge('deal', 7, { TITLE: 'x' });
      s.dedupe.put('r', 'stale:7');
      s.schedules.setLastFire('daily', 123);
      s.close();
      const s2 = open(path);
      expect(s2.positions.peek('rr', 'k', users)).toBe(3);
      expect(s2.positions.next('rr', 'k', users)).toBe(3);
      expect(s2.positions.next('rr', 'k', users)).toBe(1);
      expect(s2.snapshots.get('deal', '7')?.fields).toEqual({ STAGE_ID: 'NEW', TITLE: 'x' });
      expect(s2.dedupe.has('r', 'stale:7')).toBe(true);
      expect(s2.dedupe.has('other', 'stale:7')).toBe(false);
      expect(s2.schedules.getLastFire('daily')).toBe(123);
      expect(() => s2.positions.next('rr', 'k', [])).toThrow(/empty/);
    });
  });

  describe('retention', () => {
    it('prune deletes acknowledged finished items with their runs and effects, keeps DLQ items and recent ones', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      s.inbox.add([offline(1), offline(2), offline(3)]);
      const [a, b, c] = s.inbox.ready(10);
      const run = s.runs.create({ itemId: a!.id, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: '' });
      s.effects.record({ effectKey: 'k', runId: run, seq: 0, actionIndex: 0, kind: 'comment', method: 'm', params: {}, recovery: 'resend' });
      for (const it of [a!, b!]) s.inbox.finish(it.id, 'done');
      s.inbox.finish(c!.id, 'dead');
      s.dlq.add({ itemId: c!.id, runId: null, ruleId: 'r', error: 'x', payload: {} });
      s.inbox.markAcknowledged([a!.id, c!.id]);
      t = 5_000;
      expect(s.prune(2_000)).toBe(1);
      expect(s.inbox.get(a!.id)).toBeUndefined();
      expect(s.runs.get(run)).toBeUndefined();
      expect(s.effects.get('k')).toBeUndefined();
      expect(s.inbox.get(b!.id)).toBeDefined();
      expect(s.inbox.get(c!.id)).toBeDefined();
    });
  });
});
