/**
 * `rules portal pull`: read the portal's model with read-only calls in a few
 * batches and build the snapshot. The first batch reads the fields of leads,
 * deals, contacts and companies (user fields with their list values come with
 * them), the deal pipelines, every status list (stages of every pipeline,
 * sources, ...), the smart-process types and the first page of active users;
 * the second the fields and pipelines of each smart process and of invoices,
 * and the other pages of users.
 */
import type { B24ClientApi, BatchCommand, BatchItemResult } from '../client/index.js';
import { B24RulesError } from '../errors.js';
import { SNAPSHOT_FORMAT_VERSION, type EntityModel, type FieldModel, type ListValue, type PipelineModel, type PortalSnapshot, type StageModel, type UserModel } from './snapshot.js';

type Row = Record<string, unknown>;

const LEGACY: Array<{ key: string; entityTypeId: number; title: string }> = [
  { key: 'lead', entityTypeId: 1, title: 'Leads' },
  { key: 'deal', entityTypeId: 2, title: 'Deals' },
  { key: 'contact', entityTypeId: 3, title: 'Contacts' },
  { key: 'company', entityTypeId: 4, title: 'Companies' },
];
/** New invoices: a smart process every portal has, not listed by crm.type.list. */
const INVOICE = { entityTypeId: 31, title: 'Invoices' };
/** user.get's page (API-FACTS §9). */
const USER_PAGE = 50;

/** What a pull read, and what it had to leave out (a method the portal refused, e.g. without the scope). */
export interface PullResult {
  snapshot: PortalSnapshot;
  /** One line per part left out, with the portal's error. */
  notes: string[];
  /** HTTP requests the pull made. */
  requests: number;
}

/** Read the portal's model. `portal` names it in the snapshot (a base URL, never a secret); `now` stamps `pulledAt`. */
export async function pullPortal(client: B24ClientApi, options: { portal: string; now: () => number }): Promise<PullResult> {
  const notes: string[] = [];
  let requests = 0;
  const send = async (cmd: Record<string, BatchCommand>): Promise<Record<string, BatchItemResult>> => {
    const out = await client.batch(cmd, { onEvent: (e) => void (e.type === 'request' && requests++) });
    return out;
  };
  const ok = (r: BatchItemResult | undefined, what: string): unknown => {
    if (r?.ok) return r.result;
    notes.push(`${what}: ${r?.error ? `${r.error.error}${r.error.error_description ? `: ${r.error.error_description}` : ''}` : 'no answer'}`);
    return undefined;
  };

  const first: Record<string, BatchCommand> = {
    statuses: { method: 'crm.status.list', params: { order: { SORT: 'ASC' } } },
    types: { method: 'crm.type.list', params: {} },
    deal_categories: { method: 'crm.category.list', params: { entityTypeId: 2 } },
    users: { method: 'user.get', params: { FILTER: { ACTIVE: true }, sort: 'ID', order: 'ASC', start: 0 } },
  };
  for (const e of LEGACY) first[`${e.key}_fields`] = { method: `crm.${e.key}.fields`, params: {} };
  const a = await send(first);

  const statusRows = (ok(a.statuses, 'crm.status.list') as Row[] | undefined) ?? [];
  const types = ((ok(a.types, 'crm.type.list (smart processes)') as { types?: Row[] } | undefined)?.types ?? []).map((t) => ({ entityTypeId: Number(t.entityTypeId), title: String(t.title ?? `Smart process ${String(t.entityTypeId)}`) }));
  const userRows = [...((ok(a.users, 'user.get') as Row[] | undefined) ?? [])];
  const userTotal = a.users?.total ?? userRows.length;

  const second: Record<string, BatchCommand> = {};
  for (const t of [...types, INVOICE]) {
    second[`fields_${t.entityTypeId}`] = { method: 'crm.item.fields', params: { entityTypeId: t.entityTypeId, useOriginalUfNames: 'Y' } };
    second[`categories_${t.entityTypeId}`] = { method: 'crm.category.list', params: { entityTypeId: t.entityTypeId } };
  }
  for (let start = USER_PAGE; start < userTotal; start += USER_PAGE) second[`users_${start}`] = { method: 'user.get', params: { FILTER: { ACTIVE: true }, sort: 'ID', order: 'ASC', start } };
  const b = await send(second);
  for (let start = USER_PAGE; start < userTotal; start += USER_PAGE) userRows.push(...((ok(b[`users_${start}`], `user.get (from ${start})`) as Row[] | undefined) ?? []));

  const stagesOf = (entityId: string): StageModel[] =>
    statusRows
      .filter((s) => s.ENTITY_ID === entityId)
      .sort((x, y) => Number(x.SORT) - Number(y.SORT))
      .map((s) => ({ id: String(s.STATUS_ID), name: String(s.NAME ?? s.STATUS_ID), semantics: semantics(s) }));
  const entities: Record<string, EntityModel> = {};
  for (const e of LEGACY) {
    const fields = ok(a[`${e.key}_fields`], `crm.${e.key}.fields`) as Record<string, Row> | undefined;
    if (!fields) continue;
    let pipelines: PipelineModel[] = [];
    if (e.key === 'lead') pipelines = [{ id: 0, name: 'Lead statuses', isDefault: true, stages: stagesOf('STATUS') }];
    if (e.key === 'deal') pipelines = categories(ok(a.deal_categories, 'crm.category.list (deals)'), (id) => stagesOf(id === 0 ? 'DEAL_STAGE' : `DEAL_STAGE_${id}`));
    entities[e.key] = { entityTypeId: e.entityTypeId, title: e.title, fields: legacyFields(fields), pipelines };
  }
  for (const t of [...types, INVOICE]) {
    const fields = (ok(b[`fields_${t.entityTypeId}`], `crm.item.fields (entityTypeId ${t.entityTypeId})`) as { fields?: Record<string, Row> } | undefined)?.fields;
    if (!fields) continue;
    const prefix = t.entityTypeId === 31 ? 'SMART_INVOICE_STAGE_' : `DYNAMIC_${t.entityTypeId}_STAGE_`;
    const pipelines = categories(ok(b[`categories_${t.entityTypeId}`], `crm.category.list (entityTypeId ${t.entityTypeId})`), (id) => stagesOf(`${prefix}${id}`));
    entities[t.entityTypeId === 31 ? 'smart_invoice' : `dynamic_${t.entityTypeId}`] = { entityTypeId: t.entityTypeId, title: t.title, fields: itemFields(fields), pipelines };
  }
  if (Object.keys(entities).length === 0) throw new B24RulesError('B24_API_ERROR', `the portal answered none of the field lists: ${notes.join('; ')}`);

  const statuses: Record<string, ListValue[]> = {};
  for (const s of statusRows) {
    const list = String(s.ENTITY_ID);
    if (list === 'STATUS' || /STAGE/.test(list)) continue;
    (statuses[list] ??= []).push({ id: String(s.STATUS_ID), name: String(s.NAME ?? s.STATUS_ID) });
  }
  const users: UserModel[] = userRows
    .filter((u) => u.ACTIVE === true || u.ACTIVE === 'Y' || u.ACTIVE === undefined)
    .map((u) => {
      const user: UserModel = { id: String(u.ID), name: [u.NAME, u.LAST_NAME].filter((x) => typeof x === 'string' && x.trim() !== '').join(' ') || String(u.EMAIL ?? `user ${String(u.ID)}`) };
      if (typeof u.EMAIL === 'string' && u.EMAIL) user.email = u.EMAIL;
      if (typeof u.WORK_POSITION === 'string' && u.WORK_POSITION) user.position = u.WORK_POSITION;
      return user;
    })
    .sort((x, y) => Number(x.id) - Number(y.id));
  const snapshot: PortalSnapshot = {
    format_version: SNAPSHOT_FORMAT_VERSION,
    portal: options.portal,
    pulledAt: new Date(options.now()).toISOString(),
    entities,
    statuses,
    users: [...new Map(users.map((u) => [u.id, u])).values()],
    smartProcesses: types.sort((x, y) => x.entityTypeId - y.entityTypeId),
  };
  return { snapshot, notes, requests };
}

function semantics(s: Row): StageModel['semantics'] {
  const sem = s.SEMANTICS ?? (s.EXTRA as Row | undefined)?.SEMANTICS;
  if (sem === 'S' || sem === 'success') return 'success';
  if (sem === 'F' || sem === 'failure' || sem === 'apology') return 'failure';
  return 'process';
}

function categories(result: unknown, stages: (id: number) => StageModel[]): PipelineModel[] {
  const rows = ((result as { categories?: Row[] } | undefined)?.categories ?? []).slice();
  // A portal without pipelines enabled for a type still has its default one (id 0).
  if (rows.length === 0) rows.push({ id: 0, name: 'Default', isDefault: 'Y' });
  return rows
    .sort((x, y) => Number(x.sort ?? 0) - Number(y.sort ?? 0) || Number(x.id) - Number(y.id))
    .map((c) => ({ id: Number(c.id), name: String(c.name), isDefault: c.isDefault === 'Y' || c.isDefault === true, stages: stages(Number(c.id)) }));
}

function label(f: Row, code: string): string {
  for (const k of ['formLabel', 'listLabel', 'filterLabel', 'title']) {
    const v = f[k];
    if (typeof v === 'string' && v.trim() !== '' && v !== code) return v;
  }
  return code;
}

function field(code: string, f: Row): FieldModel {
  const out: FieldModel = { code, label: label(f, code), type: String(f.type ?? 'string') };
  if (f.isMultiple === true) out.multiple = true;
  if (f.isReadOnly === true) out.readOnly = true;
  if (typeof f.statusType === 'string' && f.statusType) out.statusType = f.statusType;
  if (Array.isArray(f.items)) out.items = (f.items as Row[]).map((i) => ({ id: String(i.ID), name: String(i.VALUE ?? i.ID) }));
  return out;
}

function legacyFields(fields: Record<string, Row>): Record<string, FieldModel> {
  const out: Record<string, FieldModel> = {};
  for (const [code, f] of Object.entries(fields)) out[code] = field(code, f);
  return out;
}

/** crm.item.fields (camelCase keys, `upperName` the legacy code). */
function itemFields(fields: Record<string, Row>): Record<string, FieldModel> {
  const out: Record<string, FieldModel> = {};
  for (const [name, f] of Object.entries(fields)) {
    const code = typeof f.upperName === 'string' && f.upperName ? f.upperName : name;
    const model = field(code, f);
    if (name !== code) model.camel = name;
    out[code] = model;
  }
  return out;
}
