/** Which record an event names, and whether the engine loads it automatically (docs/rule-format.md, Triggers). */
import type { EntityName } from './types.js';

const CRM = /^ONCRM(LEAD|DEAL|CONTACT|COMPANY)(ADD|UPDATE|DELETE|MOVETOCATEGORY)$/;
const TASK = /^ONTASK(ADD|UPDATE|DELETE)$/;
const ITEM = /^ONCRMDYNAMICITEM(ADD|UPDATE|DELETE)$/;

/**
 * The entity of an event (ONCRMDEALUPDATE → deal) and whether its record can
 * be loaded: not after a DELETE (the record is gone), and not for smart-process
 * items (the type comes with the event, not the rule).
 */
export function eventEntity(event: string): { entity?: EntityName; autoload: boolean } {
  const name = event.toUpperCase();
  const crm = CRM.exec(name);
  if (crm) return { entity: crm[1]!.toLowerCase() as EntityName, autoload: crm[2] !== 'DELETE' };
  const task = TASK.exec(name);
  if (task) return { entity: 'task', autoload: task[1] !== 'DELETE' };
  if (ITEM.test(name)) return { entity: 'item', autoload: false };
  return { autoload: false };
}
