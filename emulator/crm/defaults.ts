/** A new portal's reference lists (api-reference/crm/status/crm-status-list.md), used for any list the seed data leaves out. */
import type { Row } from '../store.js';

type S = [string, string, ('S' | 'F' | null)?, string?];

const LISTS: Record<string, S[]> = {
  STATUS: [['NEW', 'Unassigned', null, '#39A8EF'], ['IN_PROCESS', 'In progress', null, '#2FC6F6'], ['PROCESSED', 'Processed', null, '#55D0E0'], ['CONVERTED', 'Good lead', 'S', '#7BD500'], ['JUNK', 'Junk lead', 'F', '#FF5752']],
  SOURCE: [['CALL', 'Call'], ['EMAIL', 'E-Mail'], ['WEB', 'Website'], ['ADVERTISING', 'Advertising'], ['PARTNER', 'Existing client'], ['RECOMMENDATION', 'By recommendation'], ['TRADE_SHOW', 'Show/Exhibition'], ['WEBFORM', 'CRM form'], ['CALLBACK', 'Callback'], ['RC_GENERATOR', 'Sales boost'], ['STORE', 'Online Store'], ['OTHER', 'Other']],
  DEAL_STAGE: [['NEW', 'New', null, '#39A8EF'], ['PREPARATION', 'Prepare documents', null, '#2FC6F6'], ['PREPAYMENT_INVOICE', 'Prepayment invoice', null, '#55D0E0'], ['EXECUTING', 'In progress', null, '#47E4C2'], ['FINAL_INVOICE', 'Final invoice', null, '#FFA900'], ['WON', 'Deal won', 'S', '#7BD500'], ['LOSE', 'Deal lost', 'F', '#FF5752'], ['APOLOGY', 'Analyze failure', 'F', '#FF5752']],
  DEAL_TYPE: [['SALE', 'Sales'], ['COMPLEX', 'Integrated sale'], ['GOODS', 'Merchandise sale'], ['SERVICES', 'Service sale'], ['SERVICE', 'After-sales service']],
  CONTACT_TYPE: [['CLIENT', 'Clients'], ['SUPPLIER', 'Suppliers'], ['PARTNER', 'Partners'], ['OTHER', 'Other']],
  COMPANY_TYPE: [['CUSTOMER', 'Client'], ['SUPPLIER', 'Supplier'], ['COMPETITOR', 'Competitor'], ['PARTNER', 'Partner'], ['OTHER', 'Other']],
  INDUSTRY: [['IT', 'Information Technology'], ['TELECOM', 'Telecommunication'], ['MANUFACTURING', 'Manufacturing'], ['BANKING', 'Banking Services'], ['CONSULTING', 'Consulting'], ['FINANCE', 'Finance'], ['GOVERNMENT', 'Government'], ['DELIVERY', 'Delivery'], ['ENTERTAINMENT', 'Entertainment'], ['NOTPROFIT', 'Non-profit'], ['OTHER', 'Other']],
  EMPLOYEES: [['EMPLOYEES_1', 'less than 50'], ['EMPLOYEES_2', '50-250'], ['EMPLOYEES_3', '250-500'], ['EMPLOYEES_4', 'over 500']],
  HONORIFIC: [['HNR_EN_1', 'Mr.'], ['HNR_EN_2', 'Mrs.'], ['HNR_EN_3', 'Ms.'], ['HNR_EN_4', 'Dr.']],
};

/** Default statuses of one ENTITY_ID (stage lists of pipeline N get `C{N}:` codes). */
export function defaultStatuses(entityId: string): Row[] {
  const m = /^DEAL_STAGE_(\d+)$/.exec(entityId);
  const base = m ? [['NEW', 'New', null, '#39A8EF'], ['PREPARATION', 'In progress', null, '#2FC6F6'], ['WON', 'Deal won', 'S', '#7BD500'], ['LOSE', 'Deal lost', 'F', '#FF5752']] as S[] : LISTS[entityId];
  if (!base) return [];
  return base.map(([id, name, sem, color], i) => ({
    ENTITY_ID: entityId,
    STATUS_ID: m ? `C${m[1]}:${id}` : id,
    NAME: name,
    NAME_INIT: name,
    SORT: String((i + 1) * 10),
    SYSTEM: sem || i === 0 ? 'Y' : 'N',
    CATEGORY_ID: m ? m[1] : entityId === 'DEAL_STAGE' ? '0' : null,
    COLOR: color ?? null,
    SEMANTICS: sem ?? null,
  }));
}

/** ENTITY_IDs every portal has. */
export const BASE_STATUS_ENTITIES = Object.keys(LISTS);
