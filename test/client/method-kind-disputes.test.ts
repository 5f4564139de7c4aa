/**
 * The two former classifiers (engine/client/method-kind.ts: catalog 'read' or
 * else write; engine/actions/method-kind.ts: catalog, else a getter regex)
 * disagreed on 64 catalog methods' kind and on 16 catalog writes' "safe to
 * re-send". Computed from both over catalog/methods.json before the actions
 * copy was deleted, each now has one answer: the catalog's kind when it has
 * one, else the verb rule (verbKind). The tables are committed so a drift of
 * the rule or of the catalog fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIdempotentMethod, methodKind, verbKind } from '../../engine/client/index.js';
import { CATALOG_DIR } from '../../engine/paths.js';

const catalog = new Map(
  (JSON.parse(readFileSync(join(CATALOG_DIR, 'methods.json'), 'utf8')) as { methods: Array<{ method: string; kind: 'read' | 'write' | null }> }).methods.map((m) => [m.method, m.kind]),
);

/** Read or write: the 64 methods the former tables disagreed on (all `kind: null` in the catalog, all named by a read verb). */
const DISPUTED_KIND: Array<[string, 'read' | 'write']> = [
  ['bizproc.robot.list', 'read'],
  ['calendar.resource.list', 'read'],
  ['calendar.settings.get', 'read'],
  ['calendar.user.settings.get', 'read'],
  ['catalog.document.element.fields', 'read'],
  ['catalog.document.fields', 'read'],
  ['crm.address.fields', 'read'],
  ['crm.automatedsolution.fields', 'read'],
  ['crm.automation.trigger.list', 'read'],
  ['crm.catalog.fields', 'read'],
  ['crm.catalog.list', 'read'],
  ['crm.contact.company.fields', 'read'],
  ['crm.contact.fields', 'read'],
  ['crm.currency.base.get', 'read'],
  ['crm.currency.fields', 'read'],
  ['crm.currency.localizations.fields', 'read'],
  ['crm.deal.productrows.get', 'read'],
  ['crm.dealcategory.default.get', 'read'],
  ['crm.dealcategory.fields', 'read'],
  ['crm.dealcategory.list', 'read'],
  ['crm.invoice.fields', 'read'],
  ['crm.invoice.recurring.fields', 'read'],
  ['crm.invoice.recurring.list', 'read'],
  ['crm.invoice.status.fields', 'read'],
  ['crm.invoice.status.list', 'read'],
  ['crm.item.productrow.fields', 'read'],
  ['crm.lead.contact.fields', 'read'],
  ['crm.measure.fields', 'read'],
  ['crm.measure.list', 'read'],
  ['crm.paysystem.fields', 'read'],
  ['crm.paysystem.list', 'read'],
  ['crm.persontype.fields', 'read'],
  ['crm.persontype.list', 'read'],
  ['crm.product.fields', 'read'],
  ['crm.product.list', 'read'],
  ['crm.product.property.enumeration.fields', 'read'],
  ['crm.product.property.fields', 'read'],
  ['crm.productrow.fields', 'read'],
  ['crm.productrow.list', 'read'],
  ['crm.productsection.fields', 'read'],
  ['crm.quote.contact.fields', 'read'],
  ['crm.quote.contact.items.get', 'read'],
  ['crm.requisite.bankdetail.fields', 'read'],
  ['crm.requisite.fields', 'read'],
  ['crm.requisite.link.fields', 'read'],
  ['crm.requisite.preset.field.fields', 'read'],
  ['crm.requisite.preset.fields', 'read'],
  ['crm.timeline.bindings.fields', 'read'],
  ['crm.timeline.comment.fields', 'read'],
  ['crm.timeline.icon.list', 'read'],
  ['crm.timeline.logo.list', 'read'],
  ['crm.type.fields', 'read'],
  ['department.fields', 'read'],
  ['event.get', 'read'],
  ['imbot.bot.list', 'read'],
  ['pull.application.config.get', 'read'],
  ['rpa.item.get', 'read'],
  ['rpa.stage.get', 'read'],
  ['sale.paysystem.handler.list', 'read'],
  ['sign.b2e.hcmlink.document.get', 'read'],
  ['user.current', 'read'],
  ['user.fields', 'read'],
  ['user.userfield.file.get', 'read'],
  ['userfieldtype.list', 'read'],
];

/** Safe to re-send: the 16 catalog writes the former tables disagreed on (client: unset/clear yes, complete/renew no; actions: the reverse). */
const DISPUTED_RESEND: Array<[string, boolean]> = [
  ['bizproc.task.complete', true],
  ['booking.v1.booking.client.unset', true],
  ['booking.v1.booking.externalData.unset', true],
  ['booking.v1.resource.slots.unset', true],
  ['booking.v1.waitlist.client.unset', true],
  ['booking.v1.waitlist.externalData.unset', true],
  ['event.offline.clear', true],
  ['task.checklistitem.complete', true],
  ['task.checklistitem.renew', true],
  ['task.item.complete', true],
  ['task.item.renew', true],
  // Completes whichever sprint of the group is active when it arrives: not a fixed record.
  ['tasks.api.scrum.sprint.complete', false],
  ['tasks.task.complete', true],
  ['tasks.task.renew', true],
  ['tasks.template.checklist.complete', true],
  ['tasks.template.checklist.renew', true],
];

describe('the former classifiers\' disputed methods', () => {
  it('the tables hold 64 and 16 distinct catalog methods', () => {
    expect(new Set(DISPUTED_KIND.map(([m]) => m)).size).toBe(64);
    expect(new Set(DISPUTED_RESEND.map(([m]) => m)).size).toBe(16);
  });

  it.each(DISPUTED_KIND)('%s is a %s: the catalog\'s kind, or the verb rule when it has none', (method, expected) => {
    expect(catalog.has(method)).toBe(true);
    const kind = catalog.get(method);
    expect(kind ?? verbKind(method)).toBe(expected);
    expect(methodKind(method)).toBe(expected);
    expect(methodKind(method.toUpperCase())).toBe(expected);
    // A read is always safe to re-send.
    expect(isIdempotentMethod(method)).toBe(expected === 'read');
  });

  it.each(DISPUTED_RESEND)('%s: safe to re-send = %s', (method, expected) => {
    expect(catalog.get(method)).toBe('write');
    expect(methodKind(method)).toBe('write');
    expect(isIdempotentMethod(method)).toBe(expected);
  });
});
