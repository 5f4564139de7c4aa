/**
 * The four legacy CRM object types (lead, deal, contact, company): their
 * fields as `crm.X.fields` describes them, and what the emulator derives on
 * writes. Sources: api-reference/crm/{leads,deals,contacts,companies}/crm-*-fields.md.
 * Smart processes and invoices are built per type in smart-types.ts.
 */
import type { Store } from '../store.js';
import { INVOICE_TYPE_ID, smartEntity } from './smart-types.js';

/** One field as `crm.X.fields` shows it. */
export interface FieldDef {
  type: string;
  title: string;
  isRequired?: boolean;
  isReadOnly?: boolean;
  isImmutable?: boolean;
  isMultiple?: boolean;
  statusType?: string;
  /** Decimal places a legacy result shows (`OPPORTUNITY: "15000.00"`); without it a number shows as is (`REVENUE: "0"`). */
  decimals?: number;
}

export type FieldTable = Record<string, FieldDef>;

export type CrmEntityName = 'lead' | 'deal' | 'contact' | 'company';

export interface CrmEntity {
  /** The store table: the legacy name, or `dynamic_{entityTypeId}` for a smart process (smart-types.ts). */
  name: CrmEntityName | `dynamic_${number}`;
  entityTypeId: number;
  /** `LEAD`, `DEAL`... (`crm.item` and event names). */
  typeName: string;
  /** Binding prefix: `L_4`, `D_1`, `C_2`, `CO_3`. */
  abbr: string;
  /** User-field entity: `CRM_LEAD`. */
  ufEntityId: string;
  /** Default title of an untitled record: `Lead #13`. */
  title: string;
  fields: FieldTable;
  /** `crm.deal.list` and `crm.contact.list` without `select` return `*` + `UF_*` (crm-deal-list.md, crm-contact-list.md); the others `*`. */
  defaultSelectUf: boolean;
  /** The stage field (`STATUS_ID` for leads, `STAGE_ID` for deals and smart processes). */
  stageField?: string;
  /** A smart process or invoices (crm.item only; events ONCRMDYNAMICITEM*). */
  smart?: boolean;
}

const f = (type: string, title: string, flags: Partial<FieldDef> = {}): FieldDef => ({ type, title, ...flags });
const ro = { isReadOnly: true };
const status = (statusType: string): Partial<FieldDef> => ({ statusType });

export const MULTIFIELD_TYPES = ['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'] as const;

const MULTI: FieldTable = {
  PHONE: f('crm_multifield', 'Phone', { isMultiple: true }),
  EMAIL: f('crm_multifield', 'E-mail', { isMultiple: true }),
  WEB: f('crm_multifield', 'Website', { isMultiple: true }),
  IM: f('crm_multifield', 'Messenger', { isMultiple: true }),
  LINK: f('crm_multifield', 'Link', { isMultiple: true }),
};

const ADDRESS: FieldTable = {
  ADDRESS: f('string', 'Street, building'),
  ADDRESS_2: f('string', 'Suite / Apartment'),
  ADDRESS_CITY: f('string', 'City'),
  ADDRESS_POSTAL_CODE: f('string', 'Zip'),
  ADDRESS_REGION: f('string', 'Region'),
  ADDRESS_PROVINCE: f('string', 'State / Province'),
  ADDRESS_COUNTRY: f('string', 'Country'),
  ADDRESS_COUNTRY_CODE: f('string', 'Country Code'),
  ADDRESS_LOC_ADDR_ID: f('integer', 'Location address ID', ro),
};

const UTM: FieldTable = {
  UTM_SOURCE: f('string', 'Ad system'),
  UTM_MEDIUM: f('string', 'Traffic type'),
  UTM_CAMPAIGN: f('string', 'Ad campaign UTM'),
  UTM_CONTENT: f('string', 'Campaign contents'),
  UTM_TERM: f('string', 'Campaign search term'),
};

const AUDIT: FieldTable = {
  ASSIGNED_BY_ID: f('user', 'Responsible person'),
  CREATED_BY_ID: f('user', 'Created by', ro),
  MODIFY_BY_ID: f('user', 'Modified by', ro),
  DATE_CREATE: f('datetime', 'Created on', ro),
  DATE_MODIFY: f('datetime', 'Modified on', ro),
  OPENED: f('char', 'Available to everyone'),
  ORIGINATOR_ID: f('string', 'External source'),
  ORIGIN_ID: f('string', 'Item ID in data source'),
  LAST_ACTIVITY_BY: f('user', 'Last activity by', ro),
  LAST_ACTIVITY_TIME: f('datetime', 'Last activity', ro),
};

const LEAD: FieldTable = {
  ID: f('integer', 'ID', ro),
  TITLE: f('string', 'Lead name'),
  HONORIFIC: f('crm_status', 'Salutation', status('HONORIFIC')),
  NAME: f('string', 'First name'),
  SECOND_NAME: f('string', 'Second name'),
  LAST_NAME: f('string', 'Last name'),
  BIRTHDATE: f('date', 'Date of birth'),
  COMPANY_TITLE: f('string', 'Company name'),
  SOURCE_ID: f('crm_status', 'Source', status('SOURCE')),
  SOURCE_DESCRIPTION: f('string', 'Source information'),
  STATUS_ID: f('crm_status', 'Stage', status('STATUS')),
  STATUS_DESCRIPTION: f('string', 'Additional info about this stage'),
  STATUS_SEMANTIC_ID: f('string', 'Status details', ro),
  POST: f('string', 'Position'),
  ...ADDRESS,
  CURRENCY_ID: f('crm_currency', 'Currency'),
  OPPORTUNITY: f('double', 'Total', { decimals: 2 }),
  IS_MANUAL_OPPORTUNITY: f('char', 'Manual total'),
  COMMENTS: f('string', 'Comment'),
  HAS_PHONE: f('char', 'Has phone', ro),
  HAS_EMAIL: f('char', 'Has email', ro),
  HAS_IMOL: f('char', 'Has Open Channel', ro),
  ...AUDIT,
  MOVED_BY_ID: f('user', 'Moved by', ro),
  MOVED_TIME: f('datetime', 'Moved on', ro),
  COMPANY_ID: f('crm_company', 'Company'),
  CONTACT_ID: f('crm_contact', 'Contact'),
  CONTACT_IDS: f('crm_contact', 'Contacts', { isMultiple: true }),
  IS_RETURN_CUSTOMER: f('char', 'Repeat lead', ro),
  DATE_CLOSED: f('datetime', 'Closed on', ro),
  ...UTM,
  ...MULTI,
};

const DEAL: FieldTable = {
  ID: f('integer', 'ID', ro),
  TITLE: f('string', 'Name'),
  TYPE_ID: f('crm_status', 'Type', status('DEAL_TYPE')),
  CATEGORY_ID: f('crm_category', 'Pipeline', { isImmutable: true }),
  STAGE_ID: f('crm_status', 'Deal stage', status('DEAL_STAGE')),
  STAGE_SEMANTIC_ID: f('string', 'Stage group', ro),
  IS_NEW: f('char', 'New deal', ro),
  IS_RECURRING: f('char', 'Recurring deal'),
  IS_RETURN_CUSTOMER: f('char', 'Repeat deal'),
  IS_REPEATED_APPROACH: f('char', 'Repeat inquiry'),
  PROBABILITY: f('integer', 'Probability'),
  CURRENCY_ID: f('crm_currency', 'Currency'),
  OPPORTUNITY: f('double', 'Income', { decimals: 2 }),
  IS_MANUAL_OPPORTUNITY: f('char', 'Manual total'),
  TAX_VALUE: f('double', 'Tax rate', { decimals: 2 }),
  COMPANY_ID: f('crm_company', 'Company'),
  CONTACT_ID: f('crm_contact', 'Contact'),
  CONTACT_IDS: f('crm_contact', 'Contacts', { isMultiple: true }),
  QUOTE_ID: f('crm_quote', 'Quote', ro),
  BEGINDATE: f('date', 'Start date'),
  CLOSEDATE: f('date', 'End date'),
  CLOSED: f('char', 'Closed'),
  COMMENTS: f('string', 'Comment'),
  ...AUDIT,
  MOVED_BY_ID: f('user', 'Moved by', ro),
  MOVED_TIME: f('datetime', 'Moved on', ro),
  SOURCE_ID: f('crm_status', 'Source', status('SOURCE')),
  SOURCE_DESCRIPTION: f('string', 'Source information'),
  LEAD_ID: f('crm_lead', 'Lead', ro),
  ADDITIONAL_INFO: f('string', 'Additional information'),
  LOCATION_ID: f('location', 'Location'),
  ...UTM,
};

const CONTACT: FieldTable = {
  ID: f('integer', 'ID', ro),
  HONORIFIC: f('crm_status', 'Salutation', status('HONORIFIC')),
  NAME: f('string', 'First name'),
  SECOND_NAME: f('string', 'Second name'),
  LAST_NAME: f('string', 'Last name'),
  PHOTO: f('file', 'Photo'),
  BIRTHDATE: f('date', 'Date of birth'),
  TYPE_ID: f('crm_status', 'Contact type', status('CONTACT_TYPE')),
  SOURCE_ID: f('crm_status', 'Source', status('SOURCE')),
  SOURCE_DESCRIPTION: f('string', 'Source information'),
  POST: f('string', 'Position'),
  ...ADDRESS,
  COMMENTS: f('string', 'Comment'),
  EXPORT: f('char', 'Included in export'),
  HAS_PHONE: f('char', 'Has phone', ro),
  HAS_EMAIL: f('char', 'Has email', ro),
  HAS_IMOL: f('char', 'Has Open Channel', ro),
  ...AUDIT,
  COMPANY_ID: f('crm_company', 'Company'),
  COMPANY_IDS: f('crm_company', 'Companies', { isMultiple: true }),
  LEAD_ID: f('crm_lead', 'Lead', ro),
  ORIGIN_VERSION: f('string', 'Original version'),
  ...UTM,
  ...MULTI,
};

const COMPANY: FieldTable = {
  ID: f('integer', 'ID', ro),
  TITLE: f('string', 'Company name'),
  COMPANY_TYPE: f('crm_status', 'Company type', status('COMPANY_TYPE')),
  LOGO: f('file', 'Logo'),
  ...ADDRESS,
  BANKING_DETAILS: f('string', 'Payment details'),
  INDUSTRY: f('crm_status', 'Industry', status('INDUSTRY')),
  EMPLOYEES: f('crm_status', 'Employees', status('EMPLOYEES')),
  CURRENCY_ID: f('crm_currency', 'Currency'),
  REVENUE: f('double', 'Annual revenue'),
  COMMENTS: f('string', 'Comment'),
  HAS_PHONE: f('char', 'Has phone', ro),
  HAS_EMAIL: f('char', 'Has email', ro),
  HAS_IMOL: f('char', 'Has Open Channel', ro),
  IS_MY_COMPANY: f('char', 'My Company'),
  ...AUDIT,
  LEAD_ID: f('crm_lead', 'Lead', ro),
  ORIGIN_VERSION: f('string', 'Original version'),
  ...UTM,
  ...MULTI,
};

export const CRM_ENTITIES: Record<CrmEntityName, CrmEntity> = {
  lead: { name: 'lead', entityTypeId: 1, typeName: 'LEAD', abbr: 'L', ufEntityId: 'CRM_LEAD', title: 'Lead', fields: LEAD, defaultSelectUf: false, stageField: 'STATUS_ID' },
  deal: { name: 'deal', entityTypeId: 2, typeName: 'DEAL', abbr: 'D', ufEntityId: 'CRM_DEAL', title: 'Deal', fields: DEAL, defaultSelectUf: true, stageField: 'STAGE_ID' },
  contact: { name: 'contact', entityTypeId: 3, typeName: 'CONTACT', abbr: 'C', ufEntityId: 'CRM_CONTACT', title: 'Contact', fields: CONTACT, defaultSelectUf: true },
  company: { name: 'company', entityTypeId: 4, typeName: 'COMPANY', abbr: 'CO', ufEntityId: 'CRM_COMPANY', title: 'Company', fields: COMPANY, defaultSelectUf: false },
};

/** Entity by `entityTypeId` (1-4; with the store, also a smart process the portal has, or invoices), or undefined. */
export function entityByTypeId(id: number, store?: Store): CrmEntity | undefined {
  return Object.values(CRM_ENTITIES).find((e) => e.entityTypeId === id) ?? (store ? smartEntity(store, id) : undefined);
}

/**
 * Entity by lowercase name or uppercase type name (`deal`, `DEAL`); with the
 * store also a smart process by its timeline name (`dynamic_147`) and
 * invoices (`smart_invoice`), as crm.timeline.comment.add's ENTITY_TYPE names them.
 */
export function entityByName(name: string, store?: Store): CrmEntity | undefined {
  const lower = name.toLowerCase();
  const legacy = CRM_ENTITIES[lower as CrmEntityName];
  if (legacy || !store) return legacy;
  if (lower === 'smart_invoice') return smartEntity(store, INVOICE_TYPE_ID);
  const m = /^dynamic_(\d+)$/.exec(lower);
  return m && Number(m[1]) !== INVOICE_TYPE_ID ? smartEntity(store, Number(m[1])) : undefined;
}

/** Field types whose values a legacy result shows as integer strings. */
export const ID_TYPES = new Set(['integer', 'user', 'crm_company', 'crm_contact', 'crm_lead', 'crm_quote', 'crm_category', 'location', 'employee']);
