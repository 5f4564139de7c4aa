/** Every method group of the emulator core, registered in one call (the event methods plug in separately). */
import { CrmRecords } from '../crm/records.js';
import type { EmulatorState } from '../state.js';
import type { MethodRegistry } from '../types.js';
import { registerDealContacts } from './crm-deal-contacts.js';
import { registerCrmItem } from './crm-item.js';
import { registerLegacyCrm } from './crm-legacy.js';
import { registerCrmStatus } from './crm-status.js';
import { registerCrmTimeline } from './crm-timeline.js';
import { registerCrmType } from './crm-type.js';
import { registerCrmUserfields } from './crm-userfield.js';
import { registerMisc, isAdmin } from './misc.js';
import { registerSystem } from './system.js';
import { registerTasks } from './tasks.js';

/** Register the core methods; returns the CRM record service the seeding uses too. */
function registerCoreMethods(registry: MethodRegistry, state: EmulatorState, records = new CrmRecords(state)): CrmRecords {
  registerLegacyCrm(registry, state, records);
  registerCrmItem(registry, state, records);
  registerDealContacts(registry, state, records);
  registerCrmStatus(registry, state);
  registerCrmType(registry, state);
  registerCrmUserfields(registry, state);
  registerCrmTimeline(registry, state);
  registerTasks(registry, state);
  registerMisc(registry, state);
  registerSystem(registry, state);
  return records;
}

export { registerCoreMethods, isAdmin };
