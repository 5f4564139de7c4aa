/**
 * The scope an event needs: binding an event (event.bind) takes the scope of
 * the module that raises it (ONCRMDEALUPDATE needs crm). catalog/events.txt
 * lists names only, so each family of events names the methods of its module
 * here, and the scope is read from the catalog: the scope most of those
 * methods have.
 */
import { catalog, type Catalog } from './catalog-data.js';

/** Event name prefix → the catalog's method prefix of the module that raises it. The first match wins (longer prefixes first). */
const EVENT_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['ONCRMDOCUMENTGENERATOR', 'crm.documentgenerator.'],
  ['ONCRM', 'crm.'],
  ['ONTASK', 'tasks.task.'],
  ['ONUSERADD', 'user.get'],
  ['ONIMBOT', 'imbot.'],
  ['ONIMCOMMAND', 'imbot.'],
  ['ONIMCONNECTOR', 'imconnector.'],
  ['ONIM', 'im.'],
  ['ONOPENLINE', 'imopenlines.'],
  ['ONSESSION', 'imopenlines.'],
  ['ONCALENDAR', 'calendar.'],
  ['ONSONETGROUP', 'sonet_group.'],
  ['ONLIVEFEEDPOST', 'log.'],
  ['ONVOXIMPLANT', 'voximplant.'],
  ['ONEXTERNALCALL', 'telephony.'],
  ['CATALOG.', 'catalog.'],
  ['ONSALE', 'sale.order.'],
  ['ONORDER', 'sale.order.'],
  ['ONPAYMENT', 'sale.payment.'],
  ['ONSHIPMENT', 'sale.shipment.'],
  ['ONPROPERTYVALUE', 'sale.propertyvalue.'],
  ['ONBOOKING', 'booking.'],
  ['ONSIGNB2E', 'sign.b2e.'],
  ['ONSIGNHCMLINK', 'humanresources.hcmlink.'],
  ['ONAPP', 'event.'],
  ['ONOFFLINEEVENT', 'event.'],
];

/** What the catalog says an event needs. */
export interface EventScope {
  event: string;
  /** The scope string (`a,b`: any one); undefined when no family matches. */
  scope?: string;
  /** The method prefix the scope was read from. */
  module?: string;
}

const memo = new Map<string, EventScope>();

function commonest(methods: Catalog['methods'], prefix: string): string | undefined {
  const counts = new Map<string, number>();
  for (const m of methods) if (m.method.toLowerCase().startsWith(prefix.toLowerCase())) counts.set(m.scope, (counts.get(m.scope) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [scope, c] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    if (c > n) {
      best = scope;
      n = c;
    }
  }
  return best;
}

/** The scope an event's binding needs (ONCRMDEALUPDATE → crm), from the catalog. */
export function eventScope(event: string): EventScope {
  const name = event.toUpperCase().replace(/_\d+$/, '');
  const hit = memo.get(name);
  if (hit) return { ...hit, event };
  const family = EVENT_MODULES.find(([prefix]) => name.startsWith(prefix));
  const out: EventScope = { event: name };
  if (family) {
    const scope = commonest(catalog().methods, family[1]);
    out.module = family[1];
    if (scope !== undefined) out.scope = scope;
  }
  memo.set(name, out);
  return { ...out, event };
}
