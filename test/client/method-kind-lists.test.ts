/**
 * Every entry of the classifier's lists decides something: a read verb or
 * read name that went missing would make dry-run's write guard refuse a read
 * (or the client refuse to re-send one), an idempotent verb that went missing
 * would turn a safe re-send into an unknown outcome, and the parameter
 * spellings of event.offline.get's `clear=0` decide whether a call only looks
 * at the queue or empties it. Found by mutation testing (Stryker) of
 * engine/client/method-kind.ts: the tests in method-kind.test.ts let each of
 * these entries go unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { callKind, isCreateMethod, isIdempotentCall, isIdempotentMethod, isKnownMethod, methodKind } from '../../engine/client/index.js';

describe('method kinds, entry by entry', () => {
  it('each read verb names a read, for the catalog methods it was written for and for unknown ones', () => {
    // kind-null catalog methods whose doc pages describe a read
    expect(methodKind('task.item.getmanifest')).toBe('read');
    expect(methodKind('crm.product.property.types')).toBe('read');
    expect(methodKind('crm.requisite.preset.countries')).toBe('read');
    // read verbs the docs use elsewhere, on names the catalog does not know
    for (const verb of ['get', 'list', 'getlist', 'fields', 'getfields', 'current', 'info', 'count', 'search', 'instances', 'getmanifest', 'types', 'countries']) {
      const method = `some.future.entity.${verb}`;
      expect(isKnownMethod(method), method).toBe(false);
      expect(methodKind(method), method).toBe('read');
    }
  });

  it('each whole read name is a read', () => {
    for (const method of ['server.time', 'scope', 'methods', 'events', 'profile', 'user.admin', 'crm.dealcategory.status']) expect(methodKind(method), method).toBe('read');
  });

  it('names are trimmed and case-insensitive, in the catalog and by verb', () => {
    expect(methodKind(' crm.lead.add ')).toBe('write');
    expect(methodKind(' user.search ')).toBe('write');
    expect(methodKind('  some.future.entity.GET ')).toBe('read');
    expect(isKnownMethod(' CRM.Lead.Add ')).toBe(true);
    expect(isKnownMethod('crm.lead.addx')).toBe(false);
  });

  it('each idempotent verb may be re-sent: set, unset, bind, unbind as well as update and delete', () => {
    for (const method of ['crm.deal.productrows.set', 'booking.v1.resource.unset', 'event.bind', 'placement.bind', 'event.unbind', 'placement.unbind', 'crm.deal.update', 'crm.deal.delete', 'event.offline.clear', 'tasks.task.complete', 'tasks.task.renew']) {
      expect(methodKind(method), method).toBe('write');
      expect(isIdempotentMethod(method), method).toBe(true);
    }
  });

  it("event.offline.get only looks at the queue with clear=0, in each spelling the classifier accepts ('0', false, 'N', CLEAR)", () => {
    for (const params of [{ clear: 0 }, { clear: '0' }, { clear: false }, { clear: 'N' }, { CLEAR: 0 }, { CLEAR: 'N' }]) {
      expect(callKind('event.offline.get', params), JSON.stringify(params)).toBe('read');
      expect(isIdempotentCall('event.offline.get', params), JSON.stringify(params)).toBe(true);
    }
    for (const params of [{}, { clear: 1 }, { clear: '1' }, { clear: true }, { clear: 'Y' }, { CLEAR: 1 }, { clear: '' }]) {
      expect(callKind('event.offline.get', params), JSON.stringify(params)).toBe('write');
      expect(isIdempotentCall('event.offline.get', params), JSON.stringify(params)).toBe(false);
    }
  });

  it('isCreateMethod: a name ending in .add, trimmed, any case', () => {
    expect(isCreateMethod('crm.lead.add')).toBe(true);
    expect(isCreateMethod(' CRM.Deal.Add ')).toBe(true);
    expect(isCreateMethod('crm.lead.update')).toBe(false);
    expect(isCreateMethod('crm.lead.address')).toBe(false);
    expect(isCreateMethod('crm.lead.addx')).toBe(false);
  });
});
