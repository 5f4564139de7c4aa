import { describe, expect, it } from 'vitest';
import { chunk as packBatches } from '../../engine/client/index.js';
import { findCreated } from '../../engine/pipeline/0-recover.js';
import { effectKey, runIdentity } from '../../engine/pipeline/index.js';

describe('effect keys', () => {
  it('are stable, per action and call, and use the dedupe key when there is one', () => {
    const id = runIdentity('r', 'offline:p:1', 'deal:12', null);
    expect(effectKey('r', id, 0, 0)).toBe(effectKey('r', id, 0, 0));
    expect(effectKey('r', id, 0, 0)).not.toBe(effectKey('r', id, 1, 0));
    expect(effectKey('r', id, 0, 0)).toMatch(/^r:[0-9a-f]{24}:0\.0$/);
    expect(runIdentity('r', 'offline:p:1', 'deal:12', 'k')).toBe(runIdentity('r', 'offline:p:2', 'deal:13', 'k'));
  });
});

describe('batch packing', () => {
  it('keeps order and packs at most 50 per batch', () => {
    const calls = Array.from({ length: 120 }, (_, i) => i);
    const batches = packBatches(calls);
    expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(batches.flat()).toEqual(calls);
  });
});

describe('in-doubt lookup matching', () => {
  const spec = { method: 'crm.timeline.comment.list', params: {}, rows: [], match: { COMMENT: 'hi' }, createdField: 'CREATED', result: 'id-number' as const };
  const sentAt = Date.parse('2026-03-02T10:00:00Z');
  it('finds a row with the same text created since the first send (minus the margin)', () => {
    const rows = [
      { ID: '1', COMMENT: 'hi', CREATED: '2026-03-01T10:00:00+00:00' },
      { ID: '2', COMMENT: 'other', CREATED: '2026-03-02T10:00:01+00:00' },
      { ID: '3', COMMENT: 'hi', CREATED: '2026-03-02T13:00:01+03:00' },
    ];
    expect(findCreated(rows, spec, sentAt, 60_000)?.ID).toBe('3');
    expect(findCreated(rows.slice(0, 2), spec, sentAt, 60_000)).toBeUndefined();
  });
});
