/**
 * Names to IDs on the configured portal, with read-only calls: users (active,
 * by name or e-mail), pipelines (crm.category.list), stages (crm.status.list,
 * with their pipeline) and fields with user fields and their list values
 * (crm.<entity>.fields). What portal_lookup answers, so an agent writes
 * `STAGE_ID: C1:WON` having looked it up rather than guessed it.
 */
import type { B24ClientApi } from '../client/index.js';

/** What to look up. */
export type LookupKind = 'user' | 'pipeline' | 'stage' | 'field';
/** The CRM entities with pipelines, stages and fields here. */
export type LookupEntity = 'lead' | 'deal' | 'contact' | 'company';

/** One match: its ID (what a rule writes), its name, and what else tells it apart. */
export interface LookupMatch {
  kind: LookupKind;
  id: string;
  name: string;
  [more: string]: unknown;
}

const ENTITY_TYPE_ID: Record<LookupEntity, number> = { lead: 1, deal: 2, contact: 3, company: 4 };

type Row = Record<string, unknown>;
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** How well `query` names a match (higher is better; 0: not at all). */
function rank(query: string, names: string[]): number {
  const q = query.trim().toLowerCase();
  let best = 0;
  for (const raw of names) {
    const n = raw.toLowerCase();
    if (n === '') continue;
    best = Math.max(best, n === q ? 3 : n.startsWith(q) ? 2 : n.includes(q) ? 1 : 0);
  }
  return best;
}

function pick(matches: Array<{ m: LookupMatch; names: string[] }>, query: string | undefined, limit: number): LookupMatch[] {
  if (!query) return matches.slice(0, limit).map((x) => x.m);
  return matches
    .map((x) => ({ ...x, r: rank(query, x.names) }))
    .filter((x) => x.r > 0)
    .sort((a, b) => b.r - a.r)
    .slice(0, limit)
    .map((x) => x.m);
}

async function users(client: B24ClientApi): Promise<Array<{ m: LookupMatch; names: string[] }>> {
  const out: Array<{ m: LookupMatch; names: string[] }> = [];
  for await (const u of client.listAll<Row>('user.get', { filter: { ACTIVE: true }, limit: 5000 })) {
    const name = [str(u.NAME), str(u.LAST_NAME)].filter((s) => s !== '').join(' ');
    out.push({ m: { kind: 'user', id: str(u.ID), name, email: str(u.EMAIL), position: str(u.WORK_POSITION) }, names: [name, str(u.LAST_NAME), str(u.EMAIL), `${str(u.LAST_NAME)} ${str(u.NAME)}`] });
  }
  return out;
}

async function pipelines(client: B24ClientApi, entity: LookupEntity): Promise<Array<{ id: string; name: string }>> {
  const env = await client.call<{ categories?: Row[] }>('crm.category.list', { entityTypeId: ENTITY_TYPE_ID[entity] });
  return (env.result?.categories ?? []).map((c) => ({ id: str(c.id), name: str(c.name) }));
}

function isStageOf(entityId: string, entity: LookupEntity): boolean {
  return entity === 'lead' ? entityId === 'STATUS' : entity === 'deal' ? entityId === 'DEAL_STAGE' || entityId.startsWith('DEAL_STAGE_') : false;
}

async function stages(client: B24ClientApi, entity: LookupEntity): Promise<Array<{ m: LookupMatch; names: string[] }>> {
  if (entity !== 'lead' && entity !== 'deal') return [];
  const cats = entity === 'deal' ? await pipelines(client, 'deal') : [];
  const env = await client.call<Row[]>('crm.status.list', { filter: entity === 'lead' ? { ENTITY_ID: 'STATUS' } : {} });
  const out: Array<{ m: LookupMatch; names: string[] }> = [];
  for (const s of env.result ?? []) {
    const entityId = str(s.ENTITY_ID);
    if (!isStageOf(entityId, entity)) continue;
    const catId = entityId === 'DEAL_STAGE' ? '0' : entityId.replace('DEAL_STAGE_', '');
    const pipeline = entity === 'deal' ? (cats.find((c) => c.id === catId) ?? { id: catId, name: '' }) : undefined;
    const semantics = str(s.SEMANTICS) === 'S' ? 'success' : str(s.SEMANTICS) === 'F' ? 'failure' : 'process';
    const field = entity === 'lead' ? 'STATUS_ID' : 'STAGE_ID';
    out.push({ m: { kind: 'stage', id: str(s.STATUS_ID), name: str(s.NAME), field, semantics, ...(pipeline ? { pipeline } : {}) }, names: [str(s.NAME), str(s.STATUS_ID), pipeline ? `${pipeline.name} ${str(s.NAME)}` : ''] });
  }
  return out;
}

async function fields(client: B24ClientApi, entity: LookupEntity): Promise<Array<{ m: LookupMatch; names: string[] }>> {
  const env = await client.call<Record<string, Row>>(`crm.${entity}.fields`, {});
  const out: Array<{ m: LookupMatch; names: string[] }> = [];
  for (const [code, f] of Object.entries(env.result ?? {})) {
    const title = str(f.listLabel) || str(f.formLabel) || str(f.title) || code;
    const items = Array.isArray(f.items) ? (f.items as Row[]).map((i) => ({ id: str(i.ID), value: str(i.VALUE) })) : undefined;
    out.push({
      m: { kind: 'field', id: code, name: title, type: str(f.type), multiple: f.isMultiple === true, user_field: code.startsWith('UF_'), ...(items ? { items } : {}) },
      names: [code, title, str(f.title), str(f.formLabel), ...(items ?? []).map((i) => i.value)],
    });
  }
  return out;
}

/** Look `query` up among the portal's `kind` (all of them, up to `limit`, without a query). */
export async function portalLookup(client: B24ClientApi, request: { kind: LookupKind; entity?: LookupEntity; query?: string; limit?: number }): Promise<LookupMatch[]> {
  const entity = request.entity ?? 'deal';
  const limit = request.limit ?? 20;
  switch (request.kind) {
    case 'user':
      return pick(await users(client), request.query, limit);
    case 'pipeline':
      return pick((await pipelines(client, entity)).map((p) => ({ m: { kind: 'pipeline' as const, id: p.id, name: p.name, entity }, names: [p.name, p.id] })), request.query, limit);
    case 'stage':
      return pick(await stages(client, entity), request.query, limit);
    default:
      return pick(await fields(client, entity), request.query, limit);
  }
}
