/**
 * A retry of an item (a DLQ retry, attempts >= 2) reuses the change set an earlier run of the item stored,
 * since the record's snapshot has moved on. Regression: a live run took the first stored change set of any
 * run, a shadow rule's included, which was computed against the shadow rule's own snapshot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { earlierChanges, encodeFacts, type Run } from '../../engine/pipeline/run.js';
import { openStateStore, type StateStore } from '../../engine/store/index.js';

let store: StateStore | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

const stored = (changes: Run['changes'], firstSight = false) => encodeFacts({ facts: {}, changes, ...(firstSight ? { firstSight: true } : {}) } as unknown as Run, false);

describe('the change set a retry reuses', () => {
  it('a live run takes a live run’s, never a shadow rule’s; a shadow run takes a live one or its own rule’s', () => {
    store = openStateStore(':memory:', { now: () => 1_000 });
    store.inbox.add([{ source: 'offline', key: 'e1', event: 'ONCRMLEADUPDATE', ruleId: null, payload: { FIELDS: { ID: '7' } }, receivedAt: 1 }]);
    const itemId = store.inbox.list()[0]?.id;
    const row = (ruleId: string, mode: 'live' | 'shadow', facts: Record<string, unknown>) =>
      store!.runs.create({ itemId: itemId!, ruleId, ruleHash: 'h', triggerKey: 't', recordKey: 'lead:7', facts, status: 'dead', ...(mode === 'shadow' ? { mode } : {}) });
    // The shadow rule ran first and saw the record for the first time (its own snapshot was empty).
    row('new-scoring', 'shadow', stored({ STATUS_ID: { from: undefined, to: 'IN_PROCESS' }, TITLE: { from: undefined, to: 'A' } }, true));
    row('route', 'live', stored({ STATUS_ID: { from: 'NEW', to: 'IN_PROCESS' } }));
    const priors = store.runs.factsOfItem(itemId!);

    const live = { id: 99, rule: { id: 'route' } };
    expect(earlierChanges(priors, live)).toEqual({ STATUS_ID: { from: 'NEW', to: 'IN_PROCESS' } });
    const otherShadow = { id: 98, shadow: true as const, rule: { id: 'other-shadow' } };
    expect(earlierChanges(priors, otherShadow)).toEqual({ STATUS_ID: { from: 'NEW', to: 'IN_PROCESS' } });
    const ownShadow = { id: 97, shadow: true as const, rule: { id: 'new-scoring' } };
    expect(earlierChanges(priors, ownShadow)).toBe('first-sight');
    // A run never takes its own row.
    expect(earlierChanges(priors.slice(1), { id: priors[1]!.id, rule: { id: 'route' } })).toBeUndefined();
  });
});
