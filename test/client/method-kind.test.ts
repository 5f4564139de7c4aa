import { describe, expect, it } from 'vitest';
import { callKind, isIdempotentCall, isIdempotentMethod, methodKind } from '../../engine/client/index.js';

describe('methodKind', () => {
  it('follows the catalog, case-insensitively', () => {
    expect(methodKind('crm.lead.list')).toBe('read');
    expect(methodKind('CRM.Lead.Get')).toBe('read');
    expect(methodKind('crm.lead.add')).toBe('write');
    expect(methodKind('crm.deal.update')).toBe('write');
  });

  it('treats unclassified (kind null) and unknown methods as writes unless a read verb names them', () => {
    expect(methodKind('batch')).toBe('write');
    expect(methodKind('no.such.method')).toBe('write');
    expect(methodKind('event.test')).toBe('write');
    expect(methodKind('crm.quote.contact.add')).toBe('write');
    expect(methodKind('crm.deal.productrows.set')).toBe('write');
  });

  it('reads an unclassified or unknown method by its verb (user.current, app.info, *.fields, *.list)', () => {
    expect(methodKind('user.current')).toBe('read');
    expect(methodKind('app.info')).toBe('read');
    expect(methodKind('crm.contact.fields')).toBe('read');
    expect(methodKind('catalog.section.getFields')).toBe('read');
    expect(methodKind('crm.product.list')).toBe('read');
    expect(methodKind('server.time')).toBe('read');
    expect(methodKind('profile')).toBe('read');
    expect(methodKind('some.future.entity.get')).toBe('read');
    expect(methodKind('some.future.entity.getlist')).toBe('read');
    // The catalog decides first: it classifies user.search as a write.
    expect(methodKind('user.search')).toBe('write');
    // Whole names only: an unknown *.status or *.admin is not a read.
    expect(methodKind('some.thing.status')).toBe('write');
    expect(methodKind('some.thing.admin')).toBe('write');
  });

  it('every kind-null catalog method is classified: reads by verb, the rest (batch, adds, sets, registrations) writes', () => {
    const nullKind = [
      'batch', 'crm.contact.details.configuration.forceCommonScopeForAll', 'crm.deal.productrows.set', 'crm.quote.contact.add', 'crm.quote.contact.delete',
      'crm.quote.contact.items.delete', 'crm.quote.contact.items.set', 'event.test', 'imbot.app.register', 'placement.bind', 'pull.application.event.add',
      'pull.application.push.add', 'rpa.comment.add', 'rpa.task.do', 'voximplant.user.deactivatePhone',
    ];
    for (const m of nullKind) expect(methodKind(m), m).toBe('write');
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

  it('reads the catalog leaves unclassified are re-sent; complete/renew too; a group\'s sprint.complete is not', () => {
    expect(isIdempotentMethod('user.current')).toBe(true);
    expect(isIdempotentMethod('app.info')).toBe(true);
    expect(isIdempotentMethod('tasks.task.complete')).toBe(true);
    expect(isIdempotentMethod('tasks.task.renew')).toBe(true);
    expect(isIdempotentMethod('tasks.api.scrum.sprint.complete')).toBe(false);
    expect(isIdempotentMethod('some.unknown.setfields')).toBe(false);
  });

  it('isIdempotentCall: event.offline.get only with clear=0', () => {
    expect(isIdempotentCall('event.offline.get', { clear: 0 })).toBe(true);
    expect(isIdempotentCall('event.offline.get', {})).toBe(false);
    expect(isIdempotentCall('crm.deal.update', { id: 1 })).toBe(true);
  });
});
