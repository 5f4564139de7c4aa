/**
 * Legacy list `select` as the docs give it, where the engine's reads by ID
 * rely on it: `*` without user and multiple fields, `UF_*` without multiple
 * user fields, multiple ones and multi-fields only when named
 * (crm-lead-list.md, crm-contact-list.md), the default `*` + `UF_*` of
 * contacts and deals (crm-contact-list.md, crm-deal-list.md), and an `@ID`
 * filter with `start: -1` (huge-data.md). A lead listed with every field named
 * is the lead `get` gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, PortalData } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, type Row } from './helpers.js';

const data: PortalData = {
  portal: { utcOffset: '+03:00', currency: 'EUR' },
  users: [{ ID: 1, NAME: 'Admin' }],
  userfields: [
    { ENTITY_ID: 'CRM_LEAD', FIELD_NAME: 'UF_CRM_REGION', USER_TYPE_ID: 'string' },
    { ENTITY_ID: 'CRM_LEAD', FIELD_NAME: 'UF_CRM_TAGS', USER_TYPE_ID: 'string', MULTIPLE: 'Y' },
    { ENTITY_ID: 'CRM_CONTACT', FIELD_NAME: 'UF_CRM_NEWSLETTER', USER_TYPE_ID: 'boolean' },
  ],
  leads: [
    { ID: 1, TITLE: 'Phone only', UF_CRM_REGION: 'North', UF_CRM_TAGS: ['a', 'b'], PHONE: [{ VALUE: '+7 555', VALUE_TYPE: 'WORK' }] },
    { ID: 2, TITLE: 'Everything', EMAIL: [{ VALUE: 'x@example.com' }], WEB: [{ VALUE: 'example.com' }], IM: [{ VALUE: 'tg', VALUE_TYPE: 'TELEGRAM' }] },
    { ID: 3, TITLE: 'Nothing' },
  ],
  contacts: [{ ID: 1, NAME: 'Ann', UF_CRM_NEWSLETTER: 'Y', PHONE: [{ VALUE: '+7 556' }] }],
};

const EVERY_FIELD = ['*', 'UF_*', 'PHONE', 'EMAIL', 'WEB', 'IM', 'LINK', 'UF_CRM_TAGS'];

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ data, limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

async function list(method: string, params: Row): Promise<Row[]> {
  const a = await hook(emu, method, params);
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return a.body.result as Row[];
}

describe('legacy list select', () => {
  it('UF_* leaves out a multiple user field; named, it comes', async () => {
    const [masked] = await list('crm.lead.list', { filter: { ID: 1 }, select: ['ID', 'UF_*'] });
    expect(masked).toEqual({ ID: '1', UF_CRM_REGION: 'North' });
    const [named] = await list('crm.lead.list', { filter: { ID: 1 }, select: ['ID', 'UF_*', 'UF_CRM_TAGS'] });
    expect(named).toEqual({ ID: '1', UF_CRM_REGION: 'North', UF_CRM_TAGS: ['a', 'b'] });
  });

  it('contacts without select give "*" + "UF_*", no multi-fields (crm-contact-list.md)', async () => {
    const [c] = await list('crm.contact.list', { filter: { ID: 1 } });
    expect(c).toMatchObject({ ID: '1', NAME: 'Ann', UF_CRM_NEWSLETTER: true });
    expect('PHONE' in c!).toBe(false);
  });

  it('by an @ID set with start -1: exactly those records, each as get gives it when every field is named', async () => {
    const rows = await list('crm.lead.list', { filter: { '@ID': ['3', '1', '2', '999'] }, select: EVERY_FIELD, start: -1 });
    expect(rows.map((r) => r.ID).sort()).toEqual(['1', '2', '3']);
    for (const row of rows) {
      const get = await hook(emu, 'crm.lead.get', { id: row.ID });
      expect(row).toEqual(get.body.result);
    }
    // A multi-field without a value is left out, by get as by list.
    expect(Object.keys(rows.find((r) => r.ID === '3')!)).not.toContain('PHONE');
  });
});
