/**
 * Seed data of an emulated portal, from a YAML/JSON file or an object. Two
 * shapes are accepted: this project's (`users`, `leads`, `deals`, `contacts`,
 * `companies`, `statuses`, `categories`, `userfields`, `departments`,
 * `tasks`, `smart_types`, `items`, `portal` at the top level) and the official docs simulator's
 * sample portal (the same lists under `entities`).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { B24RulesError } from '../engine/errors.js';
import type { Row } from './store.js';

/** Bad seed data: says which file and which key, and what is expected. */
export class EmulatorDataError extends B24RulesError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('EMULATOR_DATA_INVALID', message, { kind: 'user', ...options });
  }
}

export interface PortalData {
  portal?: {
    /** Portal time zone, e.g. `+03:00`. */
    utcOffset?: string;
    /** Currency of new records. */
    currency?: string;
    memberId?: string;
  };
  users?: Row[];
  departments?: Row[];
  leads?: Row[];
  deals?: Row[];
  contacts?: Row[];
  companies?: Row[];
  statuses?: Row[];
  /** Pipelines (`crm.category.*` shape `{id, name, sort, entityTypeId}` or legacy `{ID, NAME, SORT}`). */
  categories?: Row[];
  /** User-field definitions: `{ENTITY_ID: CRM_DEAL, FIELD_NAME, USER_TYPE_ID, ...}`. */
  userfields?: Row[];
  tasks?: Row[];
  /**
   * Smart-process types as crm.type.list shows them (`{ id, title, entityTypeId }`, entityTypeId 128 or more).
   * Invoices (entityTypeId 31) need no entry; a type without `categories` rows gets one default pipeline,
   * and a pipeline without `statuses` the default stages (emulator/crm/smart-types.ts).
   */
  smart_types?: Row[];
  /**
   * Smart-process items and invoices: `{ entityTypeId, id, title, stageId, ... }` as crm.item.get shows them
   * (camelCase or UPPER_CASE names); also the lists `items_{entityTypeId}` that `rules test --record` writes.
   * A type an item names that `smart_types` lacks is added with its defaults.
   */
  items?: Row[];
}

const LISTS = ['users', 'departments', 'leads', 'deals', 'contacts', 'companies', 'statuses', 'categories', 'userfields', 'tasks', 'smart_types', 'items'] as const;
const ALIASES: Record<string, (typeof LISTS)[number]> = { deal_categories: 'categories', dealCategories: 'categories', user_fields: 'userfields', userFields: 'userfields', smartTypes: 'smart_types' };

/** Read and check seed data; `where` names the source in error messages. */
export function loadPortalData(source: string | PortalData): PortalData {
  let raw: unknown = source;
  const where = typeof source === 'string' ? source : 'the data option';
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new EmulatorDataError(`cannot read the emulator data file ${source}: ${(err as Error).message}`, { cause: err });
    }
    try {
      raw = extname(source).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new EmulatorDataError(`${source} is not valid ${extname(source).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EmulatorDataError(`${where}: expected a map with users, leads, deals... (or the docs simulator's {entities: {...}})`);
  let top = raw as Record<string, unknown>;
  if (top.entities && typeof top.entities === 'object') top = { ...(top.entities as Record<string, unknown>), portal: top.portal };
  const out: PortalData = {};
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined || value === null) continue;
    if (key === 'portal') {
      if (typeof value !== 'object') throw new EmulatorDataError(`${where}: 'portal' must be a map (utcOffset, currency, memberId)`);
      out.portal = value as PortalData['portal'];
      continue;
    }
    // `rules test --record` writes a smart process's items as items_{entityTypeId}.
    const typed = /^items_(\d+)$/.exec(key);
    if (typed && Array.isArray(value)) {
      out.items = [...(out.items ?? []), ...(value as Row[]).map((r) => ({ ...r, entityTypeId: Number(typed[1]) }))];
      continue;
    }
    const name = (LISTS as readonly string[]).includes(key) ? (key as (typeof LISTS)[number]) : ALIASES[key];
    if (!name) {
      if (key.startsWith('$') || ['version', 'generatedAt', 'seed', 'note'].includes(key)) continue;
      throw new EmulatorDataError(`${where}: unknown key '${key}'. Known: ${LISTS.join(', ')}, portal`);
    }
    if (!Array.isArray(value)) throw new EmulatorDataError(`${where}: '${key}' must be a list of records`);
    value.forEach((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new EmulatorDataError(`${where}: ${key}[${i}] must be a map of fields`);
    });
    out[name] = name === 'items' ? [...(out.items ?? []), ...(value as Row[])] : (value as Row[]);
  }
  return out;
}
