/** Retention and timers (issue 18): prune keeps the item of a run that a timer woke and that has not ended, with its runs and ledger rows. */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../engine/store/index.js';
import { forEachStore } from '../helpers/stores.js';

forEachStore((stores) => {
  // The same tests on both stores: `:memory:` (SQLite) is a fresh place; a place is a file or a portal's schema.
  const open = (place = ':memory:', now = () => 1_000): StateStore => stores.open({ place: place === ':memory:' ? undefined : place, now });

  describe('prune and runs woken from a delay', () => {
    it('keeps the finished item of a run woken from its delay (new, active, waiting) with its ledger rows; prunes it once the run is final', () => {
      let t = 1_000;
      const s = open(':memory:', () => t);
      s.inbox.add([{ source: 'outgoing', key: 'k1', event: 'ONCRMDEALUPDATE', ruleId: null, payload: {}, receivedAt: t }]);
      const [item] = s.inbox.ready(10);
      const run = s.runs.create({ itemId: item!.id, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: 'deal:1', status: 'delayed' });
      s.effects.record({ effectKey: 'before-delay', runId: run, seq: 0, actionIndex: 0, kind: 'comment', method: 'crm.timeline.comment.add', params: {}, recovery: 'resend' });
      const timer = s.timers.create({ kind: 'delay', ruleId: 'r', recordKey: 'deal:1', runId: run, dueAt: 2_000 }).timer;
      // A delayed run's item finishes and is acknowledged.
      s.inbox.finish(item!.id, 'done');
      s.inbox.markAcknowledged([item!.id]);
      t = 2_000;
      s.timers.markFired(timer.id);
      expect(s.runs.wake(run)).toBe(true);
      for (const status of ['new', 'active', 'waiting'] as const) {
        s.runs.update(run, { status });
        t += 10_000;
        expect(s.prune(t)).toBe(0);
        expect(s.inbox.get(item!.id)).toBeDefined();
        expect(s.runs.get(run)?.status).toBe(status);
        expect(s.effects.get('before-delay')).toBeDefined();
      }
      s.runs.update(run, { status: 'done' });
      t += 10_000;
      expect(s.prune(t)).toBe(1);
      expect(s.runs.get(run)).toBeUndefined();
      expect(s.effects.get('before-delay')).toBeUndefined();
    });
  });
});
