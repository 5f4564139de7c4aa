import { describe, expect, it } from 'vitest';
import { changedMatches, diffRecord, isRealChange } from '../../engine/pipeline/index.js';

describe('change detection', () => {
  it('compares loosely and ignores fields that change on every write', () => {
    const ch = diffRecord({ STAGE_ID: 'NEW', OPPORTUNITY: '100', DATE_MODIFY: 'a' }, { STAGE_ID: 'WON', OPPORTUNITY: 100, DATE_MODIFY: 'b' });
    expect(ch).toEqual({ STAGE_ID: { from: 'NEW', to: 'WON' } });
  });

  it('without a snapshot every field counts as changed from undefined', () => {
    expect(diffRecord(undefined, { STAGE_ID: 'WON' })).toEqual({ STAGE_ID: { from: undefined, to: 'WON' } });
  });

  it('a change of derived fields only is not a real change', () => {
    expect(isRealChange({ IS_NEW: { from: 'Y', to: 'N' } })).toBe(false);
    expect(isRealChange({ TITLE: { from: 'a', to: 'b' } })).toBe(true);
  });

  it('changed: every named field with its from/to (lists mean any of)', () => {
    const ch = { STAGE_ID: { from: 'NEW', to: 'WON' } };
    expect(changedMatches({ STAGE_ID: {} }, ch)).toEqual({ ok: true });
    expect(changedMatches({ STAGE_ID: { to: ['WON', 'LOSE'] } }, ch)).toEqual({ ok: true });
    expect(changedMatches({ STAGE_ID: { from: ['PREPARATION'] } }, ch)).toMatchObject({ ok: false });
    expect(changedMatches({ TITLE: {} }, ch)).toEqual({ ok: false, reason: 'TITLE did not change' });
  });
});
