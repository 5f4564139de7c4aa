/**
 * The portal snapshot (`.rules/portal.json`): the fields, pipelines, stages,
 * list values, users and smart-process types of one portal, as `rules portal
 * pull` read them. It is meant to be committed and reviewed, so the text is
 * deterministic: keys sorted, lists in a fixed order, no time but `pulledAt`.
 */
import { readFileSync } from 'node:fs';
import { sortKeys } from '../canonical-json.js';
import { B24RulesError } from '../errors.js';

/** Bumped on any incompatible change of the file's shape. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** A value of a list field (an enumeration user field's item, or a `crm_status` list's status). */
export interface ListValue {
  /** What the portal stores and the REST API takes: the item ID, or the STATUS_ID. */
  id: string;
  /** What people see. */
  name: string;
}

/** One field of an entity, as `crm.X.fields` / `crm.item.fields` describe it. */
export interface FieldModel {
  /** The legacy UPPER_CASE code (UF_CRM_REGION, STAGE_ID). */
  code: string;
  /** crm.item's camelCase name (smart processes, invoices), when it differs. */
  camel?: string;
  /** The human name: a user field's form label, else the field's title. */
  label: string;
  /** The portal's type: string, integer, user, crm_status, crm_category, enumeration, ... */
  type: string;
  multiple?: true;
  readOnly?: true;
  /** For `crm_status` fields: the status list (ENTITY_ID) whose STATUS_IDs it takes (SOURCE, DEAL_STAGE, ...). */
  statusType?: string;
  /** For enumeration fields: the items. */
  items?: ListValue[];
}

/** A stage of a pipeline (or a lead status). */
export interface StageModel {
  id: string;
  name: string;
  /** process, success or failure. */
  semantics: 'process' | 'success' | 'failure';
}

/** A pipeline (category) and its stages, in the portal's order. */
export interface PipelineModel {
  id: number;
  name: string;
  isDefault: boolean;
  stages: StageModel[];
}

/** One CRM entity type of the portal: lead, deal, contact, company, a smart process, invoices. */
export interface EntityModel {
  entityTypeId: number;
  title: string;
  /** By code (legacy UPPER_CASE names). */
  fields: Record<string, FieldModel>;
  /** Deals and smart processes: their pipelines; leads: one entry, the lead statuses; others: none. */
  pipelines: PipelineModel[];
}

/** An active user. */
export interface UserModel {
  id: string;
  /** First and last name, as the portal shows them. */
  name: string;
  email?: string;
  position?: string;
}

/** The whole snapshot file. */
export interface PortalSnapshot {
  format_version: typeof SNAPSHOT_FORMAT_VERSION;
  /** The portal's address (never a webhook code or token). */
  portal: string;
  /** When it was pulled, ISO 8601. */
  pulledAt: string;
  /** By key: lead, deal, contact, company, `dynamic_<entityTypeId>` for smart processes, smart_invoice. */
  entities: Record<string, EntityModel>;
  /** `crm_status` lists other than stages, by ENTITY_ID (SOURCE, INDUSTRY, ...). */
  statuses: Record<string, ListValue[]>;
  users: UserModel[];
  /** Smart-process types (crm.type.list). */
  smartProcesses: Array<{ entityTypeId: number; title: string }>;
}

/** A snapshot file that cannot be read or is not one. */
export class SnapshotError extends B24RulesError {
  constructor(
    readonly file: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('PORTAL_SNAPSHOT_INVALID', `${file}: ${message}`, options);
  }
}

/** The snapshot as the file's text: keys sorted, two-space indentation, a final newline. */
export function snapshotText(snapshot: PortalSnapshot): string {
  return `${JSON.stringify(sortKeys(snapshot), null, 2)}\n`;
}

/** Read and check a snapshot file; throws SnapshotError when it cannot be used. */
export function readSnapshot(file: string): PortalSnapshot {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SnapshotError(file, `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(file, `is not JSON (${(err as Error).message}); run 'rules portal pull' to write it again`, { cause: err });
  }
  const s = value as Partial<PortalSnapshot> | null;
  if (!s || typeof s !== 'object' || s.format_version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(file, `is not a portal snapshot of format_version ${SNAPSHOT_FORMAT_VERSION}; run 'rules portal pull' to write it again`);
  }
  if (!s.entities || typeof s.entities !== 'object' || !Array.isArray(s.users) || !s.statuses || typeof s.statuses !== 'object') {
    throw new SnapshotError(file, "lacks entities, statuses or users; run 'rules portal pull' to write it again");
  }
  return { ...s, smartProcesses: s.smartProcesses ?? [] } as PortalSnapshot;
}
