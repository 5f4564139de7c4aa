import { describe, expect, it } from 'vitest';
import { diffCalls } from '../../engine/testing/diff.js';
import { subsetMismatches } from '../../engine/testing/match.js';

describe('subset match', () => {
  it('ignores keys not expected, compares numbers and strings loosely, recurses', () => {
    expect(subsetMismatches({ id: 5, fields: { STAGE_ID: 'WON' } }, { id: '5', fields: { STAGE_ID: 'WON', TITLE: 'x' }, extra: 1 })).toEqual([]);
  });
  it('reports each differing or missing path', () => {
    expect(subsetMismatches({ id: 5, fields: { STAGE_ID: 'WON', 'UF_X-1': 1 } }, { id: 6, fields: { STAGE_ID: 'LOSE' } })).toEqual([
      { path: 'id', expected: 5, actual: 6 },
      { path: 'fields.STAGE_ID', expected: 'WON', actual: 'LOSE' },
      { path: 'fields["UF_X-1"]', expected: 1, actual: undefined },
    ]);
  });
  it('compares arrays element by element and by length', () => {
    expect(subsetMismatches([1, { a: 1 }], ['1', { a: 1, b: 2 }])).toEqual([]);
    expect(subsetMismatches([1], [1, 2])).toHaveLength(1);
    expect(subsetMismatches(true, 'true')).toHaveLength(1);
  });
});

describe('call diff', () => {
  it('is null when calls match', () => {
    expect(diffCalls([{ method: 'crm.lead.update', params: { id: 1 } }], [{ method: 'CRM.LEAD.UPDATE', params: { id: '1', fields: {} } }])).toBeNull();
  });
  it('shows differing fields, missing and unexpected calls', () => {
    const d = diffCalls(
      [{ method: 'crm.lead.update', params: { fields: { ASSIGNED_BY_ID: 12 } } }, { method: 'im.notify.system.add' }],
      [{ method: 'crm.lead.update', params: { fields: { ASSIGNED_BY_ID: 15 } }, rule: 'r' }, { method: 'im.notify.system.add', params: {} }, { method: 'tasks.task.add', params: { fields: { TITLE: 't' } } }],
    );
    expect(d).toBe(
      [
        'expected 2 calls, planned 3:',
        '  ~ 1. crm.lead.update  (rule r)',
        '         params.fields.ASSIGNED_BY_ID: expected 12, planned 15',
        '    2. im.notify.system.add  ok',
        '  + 3. tasks.task.add {"fields":{"TITLE":"t"}}   (planned, not expected)',
      ].join('\n'),
    );
  });
  it('lists an expected call that was not planned', () => {
    expect(diffCalls([{ method: 'crm.deal.update' }], [])).toContain('  - 1. crm.deal.update   (expected, not planned)');
  });
});
