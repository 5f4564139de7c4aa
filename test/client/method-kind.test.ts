import { describe, expect, it } from 'vitest';
import { callKind, isIdempotentMethod, methodKind } from '../../engine/client/index.js';

describe('methodKind', () => {
  it('follows the catalog, case-insensitively', () => {
    expect(methodKind('crm.lead.list')).toBe('read');
    expect(methodKind('CRM.Lead.Get')).toBe('read');
    expect(methodKind('crm.lead.add')).toBe('write');
    expect(methodKind('crm.deal.update')).toBe('write');
  });

  it('treats unclassified (kind null) and unknown methods as writes', () => {
    expect(methodKind('batch')).toBe('write');
    expect(methodKind('user.current')).toBe('write');
    expect(methodKind('no.such.method')).toBe('write');
  });

  it('event.offline.get reads only with clear=0 (otherwise it deletes what it returns)', () => {
    expect(callKind('event.offline.get', { clear: 0 })).toBe('read');
    expect(callKind('event.offline.get', {})).toBe('write');
    expect(callKind('event.offline.get', { clear: 1 })).toBe('write');
  });
});

describe('isIdempotentMethod', () => {
  it('reads, updates, sets and deletes may be repeated; adds, sends and unknown writes may not', () => {
    expect(isIdempotentMethod('crm.lead.list')).toBe(true);
    expect(isIdempotentMethod('crm.deal.update')).toBe(true);
    expect(isIdempotentMethod('crm.deal.delete')).toBe(true);
    expect(isIdempotentMethod('event.offline.clear')).toBe(true);
    expect(isIdempotentMethod('crm.lead.add')).toBe(false);
    expect(isIdempotentMethod('im.notify.system.add')).toBe(false);
    expect(isIdempotentMethod('bizproc.workflow.start')).toBe(false);
    expect(isIdempotentMethod('no.such.thing')).toBe(false);
  });
});
