/**
 * List queries read through the table indexes (emulator/table-index.ts, emulator/crm/list-query.ts) and must
 * answer exactly what filtering and sorting the whole table answers: every query of the table below goes over
 * HTTP and is compared with the plain way (listQueryReference) on the same store, before and after writes that
 * the indexes must follow (adds, stage and owner changes, deletes, an id seeded out of order).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRM_ENTITIES, type CrmEntity } from '../../emulator/crm/entities.js';
import type { FilterSchema } from '../../emulator/crm/filter.js';
import { listQueryReference, type ListQuery } from '../../emulator/crm/list-query.js';
import { itemSchema, legacySchema } from '../../emulator/crm/views.js';
import type { Emulator, PortalData } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, type Row } from './helpers.js';

const STAGES = ['NEW', 'PREPARATION', 'WON', 'LOSE'];
const data: PortalData = {
  portal: { utcOffset: '+03:00' },
  users: [1, 2, 3, 4].map((id) => ({ ID: id, NAME: `User ${id}`, ACTIVE: true, ADMIN: id === 1 })),
  categories: [{ ID: 1, NAME: 'Wholesale', SORT: 20 }],
  // Ids from 1 to 260, with a gap (100-109) and two deals seeded after higher ids.
  deals: [
    ...Array.from({ length: 260 }, (_, i) => i + 1)
      .filter((id) => (id < 100 || id > 109) && id !== 7 && id !== 150)
      .map((id) => ({
        ID: id,
        TITLE: `${id % 5 === 0 ? 'Big' : 'small'} deal ${id}`,
        STAGE_ID: STAGES[id % 4],
        CATEGORY_ID: id % 6 === 0 ? 1 : 0,
        OPPORTUNITY: (id * 37) % 1000,
        ASSIGNED_BY_ID: id % 9 === 0 ? null : 1 + (id % 4),
        DATE_CREATE: `2026-0${1 + (id % 9)}-1${id % 10}T10:00:00+03:00`,
      })),
    { ID: 150, TITLE: 'late deal 150', STAGE_ID: 'WON', ASSIGNED_BY_ID: 2, OPPORTUNITY: 5 },
    { ID: 7, TITLE: 'late deal 7', STAGE_ID: 'won', ASSIGNED_BY_ID: '3', OPPORTUNITY: 5 },
  ],
  leads: Array.from({ length: 120 }, (_, i) => ({ TITLE: `Lead ${i + 1}`, STATUS_ID: i % 3 ? 'NEW' : 'IN_PROCESS', ASSIGNED_BY_ID: 1 + (i % 2) })),
};

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ data, limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

const deal = CRM_ENTITIES.deal as CrmEntity;
const lead = CRM_ENTITIES.lead as CrmEntity;

interface Case {
  filter?: unknown;
  order?: unknown;
  start?: unknown;
}

const FILTERS: unknown[] = [
  undefined,
  {},
  { '>ID': 0 },
  { '>ID': 99 },
  { '>=ID': 100, '<ID': 140 },
  { '>ID': '120', '<=ID': 200.5 },
  { '<ID': 3 },
  { '>ID': 'abc' },
  { '>ID': 5000 },
  { ID: 42 },
  { ID: '0042' },
  { ID: [5, '6', 7, 105, 999, 6] },
  { '@ID': [260, 1, 150] },
  { '@ID': [] },
  { ID: [3, ''] },
  { '!ID': 5 },
  { '!@ID': [1, 2, 3] },
  { STAGE_ID: 'WON' },
  { STAGE_ID: 'won' },
  { stage_id: 'C1:WON' },
  { '=STAGE_ID': 'LOSE', '>ID': 100 },
  { '@STAGE_ID': ['NEW', 'LOSE'] },
  { STAGE_ID: ['WON', 'C1:NEW'], '<ID': 200 },
  { STAGE_ID: '' },
  { '!STAGE_ID': 'WON' },
  { CATEGORY_ID: 1 },
  { CATEGORY_ID: '0', STAGE_ID: 'WON' },
  { ASSIGNED_BY_ID: 2 },
  { ASSIGNED_BY_ID: '3', '>ID': 50 },
  { ASSIGNED_BY_ID: '' },
  { ASSIGNED_BY_ID: [2, '4'] },
  { ASSIGNED_BY_ID: 'x' },
  { '>OPPORTUNITY': 500 },
  { '%TITLE': 'big', '>ID': 30 },
  { '>=DATE_CREATE': '2026-05-01', STAGE_ID: 'NEW' },
];
const ORDERS: unknown[] = [undefined, { ID: 'ASC' }, { ID: 'DESC' }, { id: 'desc' }, { OPPORTUNITY: 'DESC' }, { TITLE: 'ASC', ID: 'DESC' }, { DATE_CREATE: 'ASC' }, { STAGE_ID: 'ASC' }];
const STARTS: unknown[] = [undefined, 0, 50, 100, 249, -1, 'abc', 49.5];

/** Every filter with the default order and every start; every order with a few filters and starts. */
function cases(): Case[] {
  const out: Case[] = [];
  for (const filter of FILTERS) for (const start of STARTS) out.push({ filter, start });
  for (const order of ORDERS) for (const filter of FILTERS.filter((_, i) => i % 4 === 0)) for (const start of [undefined, 50, -1]) out.push({ filter, order, start });
  return out;
}

function reference(entity: CrmEntity, schema: FilterSchema, c: Case, fallback: Array<[string, 'ASC' | 'DESC']>, strictOrder = false): { ids: string[]; total: number; next?: number } {
  const q: ListQuery = { filter: c.filter, order: c.order, fallback, strictOrder, start: c.start, schema };
  const r = listQueryReference(emu.store, entity.name, q);
  return { ids: r.page.map((row) => String(row.ID)), total: r.total, ...(r.next !== undefined ? { next: r.next } : {}) };
}

async function legacyAnswer(method: string, c: Case): Promise<{ ids: string[]; total: number; next?: number }> {
  const a = await hook(emu, method, { select: ['ID'], ...c });
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return { ids: (a.body.result as Row[]).map((r) => String(r.ID)), total: a.body.total as number, ...(a.body.next !== undefined ? { next: a.body.next as number } : {}) };
}

async function itemAnswer(c: Case): Promise<{ ids: string[]; total: number; next?: number }> {
  const a = await hook(emu, 'crm.item.list', { entityTypeId: 2, select: ['id'], ...c });
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  const items = (a.body.result as { items: Row[] }).items;
  return { ids: items.map((r) => String(r.id)), total: a.body.total as number, ...(a.body.next !== undefined ? { next: a.body.next as number } : {}) };
}

/** crm.item.list takes camelCase names: the same cases, renamed. */
function itemCase(c: Case): Case {
  const rename = (o: unknown): unknown => {
    if (o === undefined || o === null || typeof o !== 'object' || Array.isArray(o)) return o;
    const names: Record<string, string> = { ID: 'id', STAGE_ID: 'stageId', CATEGORY_ID: 'categoryId', ASSIGNED_BY_ID: 'assignedById', OPPORTUNITY: 'opportunity', TITLE: 'title', DATE_CREATE: 'createdTime' };
    return Object.fromEntries(
      Object.entries(o).map(([k, v]) => {
        const m = /^([^A-Za-z_]*)(.*)$/.exec(k) as RegExpExecArray;
        const field = m[2] as string;
        return [`${m[1]}${names[field.toUpperCase()] ?? field}`, v];
      }),
    );
  };
  return { filter: rename(c.filter), order: rename(c.order), start: c.start };
}

async function checkAll(): Promise<number> {
  const offset = 180;
  const legacy = legacySchema(emu.store, deal, offset);
  const item = itemSchema(emu.store, deal, offset);
  let checked = 0;
  for (const c of cases()) {
    expect(await legacyAnswer('crm.deal.list', c), `crm.deal.list ${JSON.stringify(c)}`).toEqual(reference(deal, legacy, c, [['ID', 'ASC']]));
    const ic = itemCase(c);
    expect(await itemAnswer(ic), `crm.item.list ${JSON.stringify(ic)}`).toEqual(reference(deal, item, ic, [['id', 'ASC']], true));
    checked += 2;
  }
  // The answers above came through the index, not the whole-table fallback.
  expect(emu.store.index('deal').valid).toBe(true);
  return checked;
}

describe('list queries through the indexes answer what a whole-table scan answers', () => {
  it('crm.deal.list and crm.item.list: filters (ID bounds and sets, indexed and other columns), orders and starts', async () => {
    expect(await checkAll()).toBeGreaterThan(500);
  }, 120_000);

  it('after writes the indexes follow: adds, stage, pipeline and owner changes, deletes, a re-added id', async () => {
    for (let i = 0; i < 30; i++) expect((await hook(emu, 'crm.deal.add', { fields: { TITLE: `added ${i}`, STAGE_ID: STAGES[i % 4], ASSIGNED_BY_ID: 1 + (i % 3) } })).status).toBe(200);
    for (const id of [1, 42, 150, 200, 7]) expect((await hook(emu, 'crm.deal.update', { id, fields: { STAGE_ID: 'WON', ASSIGNED_BY_ID: 4 } })).status).toBe(200);
    expect((await hook(emu, 'crm.item.update', { entityTypeId: 2, id: 60, fields: { categoryId: 0, stageId: 'NEW' } })).status).toBe(200);
    for (const id of [2, 99, 111, 260]) expect((await hook(emu, 'crm.deal.delete', { id })).status).toBe(200);
    // An id below the highest, stored after it: the table's own order is no longer the id order.
    emu.store.seed('deal', [{ ID: 105, TITLE: 'Big re-seeded', STAGE_ID: 'LOSE', ASSIGNED_BY_ID: 2 }]);
    expect(await checkAll()).toBeGreaterThan(500);
  }, 120_000);

  it('a keyset scan (start=-1, >ID) returns every row once, in id order, in pages of 50', async () => {
    const all = reference(deal, legacySchema(emu.store, deal, 180), { start: 0 }, [['ID', 'ASC']]).total;
    const seen: string[] = [];
    let last = 0;
    for (;;) {
      const page = await legacyAnswer('crm.deal.list', { filter: { '>ID': last }, order: { ID: 'ASC' }, start: -1 });
      expect(page.total).toBe(0);
      seen.push(...page.ids);
      if (page.ids.length < 50) break;
      last = Number(page.ids[page.ids.length - 1]);
    }
    expect(seen).toHaveLength(all);
    expect(seen).toEqual([...seen].sort((a, b) => Number(a) - Number(b)));
    expect(new Set(seen).size).toBe(all);
  }, 120_000);

  it('offset pages of one query are slices of its kept matches, and a write in between is seen at once', async () => {
    const schema = legacySchema(emu.store, deal, 180);
    const c: Case = { filter: { '%TITLE': 'deal' }, order: { OPPORTUNITY: 'DESC' }, start: 0 };
    const before = await legacyAnswer('crm.deal.list', c);
    expect(before).toEqual(reference(deal, schema, c, [['ID', 'ASC']]));
    expect((await legacyAnswer('crm.deal.list', { ...c, start: 50 })).ids).toEqual(reference(deal, schema, { ...c, start: 50 }, [['ID', 'ASC']]).ids);
    const last = before.ids[before.ids.length - 1] as string;
    expect((await hook(emu, 'crm.deal.update', { id: last, fields: { OPPORTUNITY: 999_999 } })).status).toBe(200);
    const after = await legacyAnswer('crm.deal.list', c);
    expect(after.ids[0]).toBe(last);
    expect(after).toEqual(reference(deal, schema, c, [['ID', 'ASC']]));
    const gone = after.ids[1] as string;
    expect((await hook(emu, 'crm.deal.delete', { id: gone })).status).toBe(200);
    const again = await legacyAnswer('crm.deal.list', c);
    expect(again.ids).not.toContain(gone);
    expect(again).toEqual(reference(deal, schema, c, [['ID', 'ASC']]));
  });

  it('crm.lead.list: STATUS_ID and ASSIGNED_BY_ID equality, ID bounds, keyset and offset pages', async () => {
    const schema = legacySchema(emu.store, lead, 180);
    const leadCases: Case[] = [
      { filter: { STATUS_ID: 'in_process' }, start: 0 },
      { filter: { STATUS_ID: 'NEW', ASSIGNED_BY_ID: 2 }, start: 50 },
      { filter: { '@STATUS_ID': ['NEW', 'IN_PROCESS'], '>ID': 60 }, start: -1 },
      { filter: { '>ID': 110 }, order: { ID: 'DESC' }, start: 0 },
      { order: { TITLE: 'DESC' }, start: 100 },
    ];
    for (const c of leadCases) expect(await legacyAnswer('crm.lead.list', c), JSON.stringify(c)).toEqual(reference(lead, schema, c, [['ID', 'ASC']]));
  });

  it('a malformed filter or a bad crm.item order is refused as before', async () => {
    expect((await hook(emu, 'crm.deal.list', { filter: 'x' })).status).toBe(400);
    const bad = await hook(emu, 'crm.item.list', { entityTypeId: 2, order: { nope: 'ASC' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('INVALID_ARG_VALUE');
  });
});
