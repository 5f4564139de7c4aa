/**
 * Smart processes and new invoices (entityTypeId 31) as `crm.item.*` sees
 * them: the types (rows of the `smart_type` table; invoices are always
 * there), their fields, pipelines and stages. Sources:
 * api-reference/crm/universal/object-fields.md (sections "Счет" and
 * "Смарт-процесс"), user-defined-object-types/crm-type-list.md,
 * crm-item-*.md. Stage lists are `DYNAMIC_{type}_STAGE_{pipeline}` (invoices
 * `SMART_INVOICE_STAGE_{pipeline}`) and stage IDs `DT{type}_{pipeline}:NEW`.
 */
import type { Row, Store } from '../store.js';
import type { CrmEntity, FieldDef, FieldTable } from './entities.js';

/** New invoices: a smart process every portal has, not listed by crm.type.list. */
export const INVOICE_TYPE_ID = 31;

const f = (type: string, title: string, flags: Partial<FieldDef> = {}): FieldDef => ({ type, title, ...flags });
const ro = { isReadOnly: true };

/** The fields every smart process has (legacy names; crm.item shows them camelCase). */
const DYNAMIC: FieldTable = {
  ID: f('integer', 'ID', ro),
  XML_ID: f('string', 'External code'),
  TITLE: f('string', 'Name'),
  CREATED_BY_ID: f('user', 'Created by', ro),
  MODIFY_BY_ID: f('user', 'Modified by', ro),
  MOVED_BY_ID: f('user', 'Moved by', ro),
  DATE_CREATE: f('datetime', 'Created on', ro),
  DATE_MODIFY: f('datetime', 'Modified on', ro),
  MOVED_TIME: f('datetime', 'Moved on', ro),
  CATEGORY_ID: f('crm_category', 'Pipeline'),
  OPENED: f('char', 'Available to everyone'),
  STAGE_ID: f('crm_status', 'Stage'),
  PREVIOUS_STAGE_ID: f('crm_status', 'Previous stage', ro),
  BEGINDATE: f('date', 'Start date'),
  CLOSEDATE: f('date', 'End date'),
  COMPANY_ID: f('crm_company', 'Company'),
  CONTACT_ID: f('crm_contact', 'Contact'),
  CONTACT_IDS: f('crm_contact', 'Contacts', { isMultiple: true }),
  OPPORTUNITY: f('double', 'Amount'),
  IS_MANUAL_OPPORTUNITY: f('char', 'Manual total'),
  TAX_VALUE: f('double', 'Tax'),
  CURRENCY_ID: f('crm_currency', 'Currency'),
  MYCOMPANY_ID: f('crm_company', 'My company'),
  SOURCE_ID: f('crm_status', 'Source', { statusType: 'SOURCE' }),
  SOURCE_DESCRIPTION: f('string', 'Source information'),
  ASSIGNED_BY_ID: f('user', 'Responsible person'),
  IS_RECURRING: f('char', 'Recurring'),
  LAST_ACTIVITY_BY: f('user', 'Last activity by', ro),
  LAST_ACTIVITY_TIME: f('datetime', 'Last activity', ro),
};

/** Invoices: the smart-process fields plus their own (object-fields.md, "Счет"). */
const INVOICE: FieldTable = {
  ...DYNAMIC,
  ACCOUNT_NUMBER: f('string', 'Invoice #'),
  COMMENTS: f('string', 'Comment'),
  LOCATION_ID: f('location', 'Location'),
};

/** Default stages of a new pipeline: [code, name, semantics]. */
const DYNAMIC_STAGES: Array<[string, string, 'S' | 'F' | null]> = [
  ['NEW', 'New', null],
  ['PREPARATION', 'Preparation', null],
  ['CLIENT', 'Client approval', null],
  ['SUCCESS', 'Success', 'S'],
  ['FAIL', 'Failure', 'F'],
];
const INVOICE_STAGES: Array<[string, string, 'S' | 'F' | null]> = [
  ['N', 'New', null],
  ['S', 'Sent to client', null],
  ['P', 'Paid', 'S'],
  ['D', 'Declined', 'F'],
];

/** The stage list of a type's pipeline. */
export function stageEntityId(entityTypeId: number, categoryId: number): string {
  return entityTypeId === INVOICE_TYPE_ID ? `SMART_INVOICE_STAGE_${categoryId}` : `DYNAMIC_${entityTypeId}_STAGE_${categoryId}`;
}

/** The prefix of a pipeline's stage IDs: `DT147_3:`. */
export function stagePrefix(entityTypeId: number, categoryId: number): string {
  return `DT${entityTypeId}_${categoryId}:`;
}

/** Whether an entityTypeId is a smart process's (or invoices'), by the numbering the portal uses. */
export function isSmartTypeId(entityTypeId: number): boolean {
  return entityTypeId === INVOICE_TYPE_ID || (Number.isInteger(entityTypeId) && entityTypeId >= 128);
}

/** The row of a smart-process type (invoices: a built-in one), or undefined. */
export function smartType(store: Store, entityTypeId: number): Row | undefined {
  if (entityTypeId === INVOICE_TYPE_ID) return { id: 0, entityTypeId: INVOICE_TYPE_ID, title: 'Invoice', isCategoriesEnabled: 'Y', isStagesEnabled: 'Y' };
  if (!isSmartTypeId(entityTypeId)) return undefined;
  return store.scan('smart_type').find((t) => Number(t.entityTypeId) === entityTypeId);
}

/** The store table of a type's items. */
export function itemTable(entityTypeId: number): `dynamic_${number}` {
  return `dynamic_${entityTypeId}`;
}

/** The CrmEntity of a smart-process type (or invoices), or undefined when the portal has no such type. */
export function smartEntity(store: Store, entityTypeId: number): CrmEntity | undefined {
  const type = smartType(store, entityTypeId);
  if (!type) return undefined;
  const invoice = entityTypeId === INVOICE_TYPE_ID;
  return {
    name: itemTable(entityTypeId),
    entityTypeId,
    typeName: 'DYNAMICITEM',
    abbr: invoice ? 'SI' : `T${entityTypeId.toString(16)}`,
    // UF_CRM_{type id}_... (a type's own id, not its entityTypeId); invoices' are UF_CRM_SMART_INVOICE_...
    ufEntityId: invoice ? 'CRM_SMART_INVOICE' : `CRM_${String(type.id)}`,
    title: String(type.title ?? `Smart process ${entityTypeId}`),
    fields: invoice ? INVOICE : DYNAMIC,
    defaultSelectUf: true,
    stageField: 'STAGE_ID',
    smart: true,
  };
}

/** A type's pipelines (category rows), the default one first; a type without rows has one default pipeline. */
export function smartCategories(store: Store, entityTypeId: number): Row[] {
  return store
    .scan('category')
    .filter((c) => Number(c.entityTypeId) === entityTypeId)
    .map((c) => ({ ...c }))
    .sort((a, b) => (a.isDefault === 'Y' ? -1 : b.isDefault === 'Y' ? 1 : Number(a.sort ?? 500) - Number(b.sort ?? 500) || Number(a.id) - Number(b.id)));
}

/** The default pipeline's id (the first category row marked default, else the first). */
export function defaultCategoryId(store: Store, entityTypeId: number): number | undefined {
  const c = smartCategories(store, entityTypeId)[0];
  return c === undefined ? undefined : Number(c.id);
}

/**
 * What a portal has for a type without being told: a default pipeline when
 * the data names none, and the default stages of every pipeline whose list is
 * empty. Called when seeding and when a type is added.
 */
export function ensureSmartPipelines(store: Store, entityTypeId: number): void {
  if (smartCategories(store, entityTypeId).length === 0) {
    const id = store.nextId('category');
    store.put('category', id, { id, name: entityTypeId === INVOICE_TYPE_ID ? 'Invoices' : 'General', sort: 500, entityTypeId, isDefault: 'Y', originId: '', originatorId: '' });
  }
  const present = new Set(store.scan('status').map((s) => String(s.ENTITY_ID)));
  for (const c of smartCategories(store, entityTypeId)) {
    const cat = Number(c.id);
    const list = stageEntityId(entityTypeId, cat);
    if (present.has(list)) continue;
    (entityTypeId === INVOICE_TYPE_ID ? INVOICE_STAGES : DYNAMIC_STAGES).forEach(([code, name, sem], i) => {
      const id = store.nextId('status');
      store.put('status', id, {
        ID: String(id),
        ENTITY_ID: list,
        STATUS_ID: `${stagePrefix(entityTypeId, cat)}${code}`,
        NAME: name,
        NAME_INIT: name,
        SORT: String((i + 1) * 10),
        SYSTEM: sem || i === 0 ? 'Y' : 'N',
        CATEGORY_ID: String(cat),
        COLOR: null,
        SEMANTICS: sem,
      });
    });
  }
}

/** Every smart-process type the portal has, invoices included. */
export function smartTypeIds(store: Store): number[] {
  return [INVOICE_TYPE_ID, ...store.scan('smart_type').map((t) => Number(t.entityTypeId))];
}
