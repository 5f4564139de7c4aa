/**
 * Legacy list methods: filter prefixes, select masks, order, paging. Doc pages: api-reference/crm/leads/crm-lead-list.md
 * (prefixes, select "*" / "UF_*", PHONE filter), api-reference/crm/deals/crm-deal-list.md (default select * + UF_*),
 * settings/how-to-call-rest-api/list-methods-pecularities.md and settings/performance/huge-data.md (start, start=-1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, PortalData } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, type Row } from './helpers.js';

const data: PortalData = {
  portal: { utcOffset: '+03:00', currency: 'EUR' },
  users: [{ ID: 1, NAME: 'Admin' }, { ID: 2, NAME: 'Bea' }, { ID: 6, NAME: 'Cid' }],
  userfields: [
    { ENTITY_ID: 'CRM_LEAD', FIELD_NAME: 'UF_CRM_REGION', USER_TYPE_ID: 'string' },
    { ENTITY_ID: 'CRM_LEAD', FIELD_NAME: 'UF_CRM_TAGS', USER_TYPE_ID: 'string', MULTIPLE: 'Y' },
    { ENTITY_ID: 'CRM_DEAL', FIELD_NAME: 'UF_CRM_REGION', USER_TYPE_ID: 'string' },
  ],
  leads: [
    { ID: 1, TITLE: 'Molotok order', STATUS_ID: 'NEW', OPPORTUNITY: 15000, ASSIGNED_BY_ID: 1, SOURCE_ID: 'WEB', DATE_CREATE: '2023-09-30T23:00:00+03:00', UF_CRM_REGION: 'North', PHONE: [{ VALUE: '+7 (555) 888', VALUE_TYPE: 'WORK' }] },
    { ID: 2, TITLE: 'Hammer request', STATUS_ID: 'IN_PROCESS', OPPORTUNITY: 0, ASSIGNED_BY_ID: 6, SOURCE_ID: 'CALL', DATE_CREATE: '2023-10-01T00:00:00+03:00', UF_CRM_REGION: 'South', EMAIL: [{ VALUE: 'Buyer@Example.com' }] },
    { ID: 3, TITLE: 'mol supply', STATUS_ID: 'CONVERTED', OPPORTUNITY: 2500.5, ASSIGNED_BY_ID: 2, SOURCE_ID: 'WEB', DATE_CREATE: '2023-10-15T12:00:00+03:00' },
    { ID: 4, TITLE: 'Drill', STATUS_ID: 'JUNK', OPPORTUNITY: 100, ASSIGNED_BY_ID: 6, DATE_CREATE: '2023-10-31T23:59:59+03:00', UF_CRM_TAGS: ['a', 'b'] },
    { ID: 5, TITLE: 'Saw', STATUS_ID: 'NEW', ASSIGNED_BY_ID: 1, DATE_CREATE: '2023-11-01T00:00:00+03:00' },
  ],
  deals: Array.from({ length: 120 }, (_, i) => ({ ID: i + 1, TITLE: `Deal ${i + 1}`, OPPORTUNITY: (i % 7) * 1000, STAGE_ID: i % 2 ? 'NEW' : 'WON', UF_CRM_REGION: i % 3 ? 'East' : 'West' })),
};

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ data, limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

async function ids(filter: Row, extra: Row = {}): Promise<string[]> {
  const a = await hook(emu, 'crm.lead.list', { filter, select: ['ID'], ...extra });
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return (a.body.result as Row[]).map((r) => r.ID as string);
}

describe('filter prefixes (crm-lead-list.md)', () => {
  it.each([
    [{ STATUS_ID: 'NEW' }, ['1', '5']],
    [{ '=STATUS_ID': 'NEW' }, ['1', '5']],
    [{ '!STATUS_ID': 'NEW' }, ['2', '3', '4']],
    [{ '!=STATUS_ID': 'NEW' }, ['2', '3', '4']],
    [{ '>OPPORTUNITY': 0 }, ['1', '3', '4']],
    [{ '>=OPPORTUNITY': 2500.5 }, ['1', '3']],
    [{ '<OPPORTUNITY': 2500.5 }, ['2', '4']],
    [{ '<=OPPORTUNITY': '100' }, ['2', '4']],
    [{ '@ASSIGNED_BY_ID': [1, 6] }, ['1', '2', '4', '5']],
    [{ '!@ASSIGNED_BY_ID': [1, 6] }, ['3']],
    [{ ASSIGNED_BY_ID: [2, 6] }, ['2', '3', '4']],
    [{ '%TITLE': 'mol' }, ['1', '3']],
    [{ '!%TITLE': 'mol' }, ['2', '4', '5']],
    // LIKE is case-insensitive, as MySQL's default collation is: 'Molotok order' starts with 'mol'.
    [{ '=%TITLE': 'mol%' }, ['1', '3']],
    [{ '=%TITLE': 'mol %' }, ['3']],
    [{ '%=TITLE': '%request' }, ['2']],
    [{ '!=%TITLE': 'mol%' }, ['2', '4', '5']],
    [{ '!%=TITLE': '%order' }, ['2', '3', '4', '5']],
    [{ '>OPPORTUNITY': 0, '!STATUS_ID': 'CONVERTED' }, ['1', '4']],
    [{ SOURCE_ID: '' }, ['4', '5']],
    [{ '!SOURCE_ID': '' }, ['1', '2', '3']],
    [{ UF_CRM_REGION: 'north' }, ['1']],
    [{ UF_CRM_TAGS: 'b' }, ['4']],
    [{ NO_SUCH_FIELD: 'x' }, ['1', '2', '3', '4', '5']],
  ])('%j', async (filter, expected) => {
    expect(await ids(filter)).toEqual(expected);
  });

  it('dates compare as instants; a date without offset is portal local time', async () => {
    expect(await ids({ '>=DATE_CREATE': '2023-10-01T00:00:00', '<DATE_CREATE': '2023-10-31T23:59:59' })).toEqual(['2', '3']);
    expect(await ids({ '>=DATE_CREATE': '2023-10-01', '<=DATE_CREATE': '2023-10-31T23:59:59+03:00' })).toEqual(['2', '3', '4']);
    expect(await ids({ '<DATE_CREATE': '2023-09-30T20:30:00Z' })).toEqual(['1']);
  });

  it('phone and e-mail filters match any value of the multifield (PHONE digits, e-mail case-insensitively)', async () => {
    expect(await ids({ PHONE: '+7555888' })).toEqual(['1']);
    expect(await ids({ EMAIL: 'buyer@example.com' })).toEqual(['2']);
  });

  it('accepts FILTER/SELECT/ORDER in upper case (crm-deal-list.md example)', async () => {
    const a = await hook(emu, 'crm.lead.list', { FILTER: { STATUS_ID: 'NEW' }, SELECT: ['ID', 'TITLE'], ORDER: { ID: 'DESC' } });
    expect(a.body.result).toEqual([{ ID: '5', TITLE: 'Saw' }, { ID: '1', TITLE: 'Molotok order' }]);
  });

  it("a filter that is not a map: 400 \"Parameter 'filter' must be array.\"", async () => {
    expect(await hook(emu, 'crm.lead.list', { filter: 'x' })).toEqual({ status: 400, body: { error: '', error_description: "Parameter 'filter' must be array." } });
  });
});

describe('select', () => {
  it('"*" gives standard fields without UF and multifields; "UF_*" adds single user fields; PHONE must be named', async () => {
    const star = ((await hook(emu, 'crm.lead.list', { filter: { ID: 1 }, select: ['*'] })).body.result as Row[])[0] as Row;
    expect(star.TITLE).toBe('Molotok order');
    expect('UF_CRM_REGION' in star).toBe(false);
    expect('PHONE' in star).toBe(false);
    const uf = ((await hook(emu, 'crm.lead.list', { filter: { ID: 1 }, select: ['ID', 'UF_*', 'PHONE'] })).body.result as Row[])[0] as Row;
    expect(Object.keys(uf).sort()).toEqual(['ID', 'PHONE', 'UF_CRM_REGION']);
    expect(uf.PHONE).toEqual([{ ID: expect.any(String), VALUE_TYPE: 'WORK', VALUE: '+7 (555) 888', TYPE_ID: 'PHONE' }]);
  });

  it('without select: leads give "*", deals give "*" + "UF_*" (crm-deal-list.md)', async () => {
    const lead = ((await hook(emu, 'crm.lead.list', { filter: { ID: 1 } })).body.result as Row[])[0] as Row;
    expect('UF_CRM_REGION' in lead).toBe(false);
    const deal = ((await hook(emu, 'crm.deal.list', { filter: { ID: 1 } })).body.result as Row[])[0] as Row;
    expect(deal.UF_CRM_REGION).toBe('West');
    expect(deal.STAGE_SEMANTIC_ID).toBe('S');
  });

  it('CONTACT_IDS is not part of "*" or get, only returned when named', async () => {
    const star = ((await hook(emu, 'crm.lead.list', { filter: { ID: 1 }, select: ['*'] })).body.result as Row[])[0] as Row;
    expect('CONTACT_IDS' in star).toBe(false);
    expect('CONTACT_IDS' in ((await hook(emu, 'crm.lead.get', { id: 1 })).body.result as Row)).toBe(false);
    const named = ((await hook(emu, 'crm.lead.list', { filter: { ID: 1 }, select: ['CONTACT_IDS'] })).body.result as Row[])[0];
    expect(named).toEqual({ ID: '1', CONTACT_IDS: [] });
  });

  it('ID is always returned; IDs and numbers are strings', async () => {
    const r = ((await hook(emu, 'crm.lead.list', { filter: { ID: 3 }, select: ['OPPORTUNITY'] })).body.result as Row[])[0];
    expect(r).toEqual({ ID: '3', OPPORTUNITY: '2500.50' });
  });
});

describe('order and paging', () => {
  it('orders by any field, ASC or DESC, then by ID', async () => {
    expect(await ids({}, { order: { OPPORTUNITY: 'DESC' } })).toEqual(['1', '3', '4', '2', '5']);
    expect(await ids({}, { order: { STATUS_ID: 'ASC' } })).toEqual(['3', '2', '4', '1', '5']);
  });

  it('pages of 50 with total and next; the last page has no next', async () => {
    const p1 = await hook(emu, 'crm.deal.list', { select: ['ID'] });
    expect((p1.body.result as Row[]).length).toBe(50);
    expect([p1.body.total, p1.body.next]).toEqual([120, 50]);
    const p3 = await hook(emu, 'crm.deal.list', { select: ['ID'], start: 100 });
    expect((p3.body.result as Row[]).map((r) => r.ID)).toEqual(Array.from({ length: 20 }, (_, i) => String(101 + i)));
    expect(p3.body.total).toBe(120);
    expect('next' in p3.body).toBe(false);
  });

  it('start=-1 skips the count: total 0 and no next (huge-data.md)', async () => {
    const a = await hook(emu, 'crm.deal.list', { select: ['ID'], start: -1, order: { ID: 'ASC' }, filter: { '>ID': 60 } });
    expect((a.body.result as Row[])[0]?.ID).toBe('61');
    expect((a.body.result as Row[]).length).toBe(50);
    expect(a.body.total).toBe(0);
    expect('next' in a.body).toBe(false);
  });
});
