/** Which record an event names, and whether the engine loads it automatically (docs/rule-format.md, Triggers). */
import type { EntityName } from './types.js';

const CRM = /^ONCRM(LEAD|DEAL|CONTACT|COMPANY)(ADD|UPDATE|DELETE|MOVETOCATEGORY)$/;
const TASK = /^ONTASK(ADD|UPDATE|DELETE)$/;
/** A smart process's (or invoices') item: the common names and each type's own `_{entityTypeId}` (api-reference/crm/universal/events/index.md). */
const ITEM = /^ONCRMDYNAMICITEM(ADD|UPDATE|DELETE)(?:_(\d+))?$/;

/**
 * The entity of an event (ONCRMDEALUPDATE → deal) and whether its record can
 * be loaded: not after a DELETE (the record is gone). A smart process's item
 * is loaded by the type the event brings (the per-type name's suffix, else
 * `data.FIELDS.ENTITY_TYPE_ID`); a per-type name also gives it here.
 */
export function eventEntity(event: string): { entity?: EntityName; entityTypeId?: number; autoload: boolean } {
  const name = event.toUpperCase();
  const crm = CRM.exec(name);
  if (crm) return { entity: crm[1]!.toLowerCase() as EntityName, autoload: crm[2] !== 'DELETE' };
  const task = TASK.exec(name);
  if (task) return { entity: 'task', autoload: task[1] !== 'DELETE' };
  const item = ITEM.exec(name);
  if (item) return { entity: 'item', autoload: item[1] !== 'DELETE', ...(item[2] !== undefined ? { entityTypeId: Number(item[2]) } : {}) };
  return { autoload: false };
}

/**
 * The name catalog/events.txt lists an event under: a smart process's own
 * ONCRMDYNAMICITEMUPDATE_147 is ONCRMDYNAMICITEMUPDATE (the portal makes one
 * per type, so no list can name them all).
 */
export function catalogEventName(event: string): string {
  const name = event.toUpperCase();
  const item = ITEM.exec(name);
  return item ? `ONCRMDYNAMICITEM${item[1]!}` : name;
}
