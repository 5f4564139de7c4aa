/**
 * crm.lead/deal/contact/company add, get, update, delete, fields. Doc pages: api-reference/crm/leads/crm-lead-add.md,
 * crm-lead-get.md, crm-lead-update.md, crm-lead-delete.md, crm-lead-fields.md, api-reference/crm/deals/crm-deal-add.md,
 * api-reference/crm/contacts/crm-contact-update.md (multifield ID/DELETE), api-reference/crm/leads/events/on-crm-lead-add.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, oauth, type Clock, type Row } from './helpers.js';

let emu: Emulator;
let clock: Clock;
beforeAll(async () => {
  ({ emu, clock } = await emulator({ limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

async function getRow(method: string, id: unknown): Promise<Row> {
  return (await hook(emu, method, { id })).body.result as Row;
}

describe('legacy CRM writes', () => {
  it('add returns the new ID as a number; get returns string values, DATE_CREATE in portal time, the creator', async () => {
    const a = await hook(emu, 'crm.lead.add', { fields: { TITLE: 'Inbound call', OPPORTUNITY: 15000, SOURCE_ID: 'CALL', NAME: 'Ann', UNKNOWN_KEY: 'ignored' } });
    expect(a.status).toBe(200);
    expect(typeof a.body.result).toBe('number');
    const lead = await getRow('crm.lead.get', a.body.result);
    expect(lead).toMatchObject({
      ID: String(a.body.result),
      TITLE: 'Inbound call',
      OPPORTUNITY: '15000.00',
      STATUS_ID: 'NEW',
      STATUS_SEMANTIC_ID: 'P',
      SOURCE_ID: 'CALL',
      ASSIGNED_BY_ID: '1',
      CREATED_BY_ID: '1',
      MODIFY_BY_ID: '1',
      DATE_CREATE: '2026-11-24T09:00:00+03:00',
      DATE_MODIFY: '2026-11-24T09:00:00+03:00',
      OPENED: 'Y',
      HAS_PHONE: 'N',
      BIRTHDATE: '',
      HONORIFIC: null,
    });
    expect('UNKNOWN_KEY' in lead).toBe(false);
  });

  it('update changes only the given fields and maintains DATE_MODIFY / MODIFY_BY_ID (token of user 3)', async () => {
    const id = (await hook(emu, 'crm.deal.add', { fields: { TITLE: 'Pilot', OPPORTUNITY: '900' } })).body.result;
    clock.advance(3_600_000);
    const token = emu.issueTokens(3).access_token;
    const u = await oauth(emu, 'crm.deal.update', { id, fields: { STAGE_ID: 'WON' } }, token);
    expect(u.body.result).toBe(true);
    const deal = await getRow('crm.deal.get', id);
    expect(deal).toMatchObject({ TITLE: 'Pilot', OPPORTUNITY: '900.00', STAGE_ID: 'WON', STAGE_SEMANTIC_ID: 'S', CLOSED: 'Y', MODIFY_BY_ID: '3', CREATED_BY_ID: '1', MOVED_BY_ID: '3' });
    expect(deal.DATE_CREATE).toBe('2026-11-24T09:00:00+03:00');
    expect(deal.DATE_MODIFY).toBe('2026-11-24T10:00:00+03:00');
    clock.advance(-3_600_000);
  });

  it('a deal in pipeline 1 gets that pipeline first stage; a bare stage code gets the C1: prefix', async () => {
    const id = (await hook(emu, 'crm.deal.add', { fields: { TITLE: 'Renewal', CATEGORY_ID: 1 } })).body.result;
    expect(await getRow('crm.deal.get', id)).toMatchObject({ CATEGORY_ID: '1', STAGE_ID: 'C1:NEW' });
    await hook(emu, 'crm.deal.update', { id, fields: { STAGE_ID: 'NEGOTIATION', CATEGORY_ID: 0 } });
    expect(await getRow('crm.deal.get', id)).toMatchObject({ CATEGORY_ID: '1', STAGE_ID: 'C1:NEGOTIATION' });
    expect((await hook(emu, 'crm.deal.add', { fields: { CATEGORY_ID: 77 } })).status).toBe(400);
  });

  it('a lead with a company or contact becomes IS_RETURN_CUSTOMER=Y, which cannot be written directly (crm-lead-add.md)', async () => {
    const plain = (await hook(emu, 'crm.lead.add', { fields: { TITLE: 'New', IS_RETURN_CUSTOMER: 'Y' } })).body.result;
    expect((await getRow('crm.lead.get', plain)).IS_RETURN_CUSTOMER).toBe('N');
    const repeat = (await hook(emu, 'crm.lead.add', { fields: { TITLE: 'Repeat', CONTACT_ID: 2 } })).body.result;
    expect((await getRow('crm.lead.get', repeat)).IS_RETURN_CUSTOMER).toBe('Y');
  });

  it('date fields hold a day at local midnight; a new deal begins today and closes in 7 days (crm-deal-add.md)', async () => {
    const id = (await hook(emu, 'crm.deal.add', { fields: { TITLE: 'Dated' } })).body.result;
    expect(await getRow('crm.deal.get', id)).toMatchObject({ BEGINDATE: '2026-11-24T00:00:00+03:00', CLOSEDATE: '2026-12-01T00:00:00+03:00' });
    await hook(emu, 'crm.deal.update', { id, fields: { CLOSEDATE: '2026-12-24T17:45:00' } });
    expect((await getRow('crm.deal.get', id)).CLOSEDATE).toBe('2026-12-24T00:00:00+03:00');
  });

  it('an untitled lead or deal is titled "{Entity} #{id}"', async () => {
    const id = (await hook(emu, 'crm.deal.add', { fields: { OPPORTUNITY: 1 } })).body.result;
    expect((await getRow('crm.deal.get', id)).TITLE).toBe(`Deal #${String(id)}`);
  });

  it('multifields: no ID adds, ID + VALUE changes, ID + DELETE=Y removes, others untouched (crm-contact-update.md)', async () => {
    const id = (await hook(emu, 'crm.contact.add', { fields: { NAME: 'Mia', PHONE: [{ VALUE: '+49 30 1234', VALUE_TYPE: 'WORK' }, { VALUE: '0151 999', VALUE_TYPE: 'MOBILE' }], EMAIL: [{ VALUE: 'mia@example.com' }] } })).body.result;
    const before = await getRow('crm.contact.get', id);
    const [work, mobile] = before.PHONE as Row[];
    expect(before.HAS_PHONE).toBe('Y');
    expect((before.EMAIL as Row[])[0]).toMatchObject({ VALUE: 'mia@example.com', VALUE_TYPE: 'WORK', TYPE_ID: 'EMAIL' });
    await hook(emu, 'crm.contact.update', { id, fields: { PHONE: [{ ID: work?.ID, VALUE: '+49 30 5555' }, { ID: mobile?.ID, DELETE: 'Y' }, { VALUE: '+1 202 555 0100', VALUE_TYPE: 'HOME' }] } });
    const after = await getRow('crm.contact.get', id);
    expect((after.PHONE as Row[]).map((p) => [p.ID === work?.ID, p.VALUE, p.VALUE_TYPE])).toEqual([
      [true, '+49 30 5555', 'WORK'],
      [false, '+1 202 555 0100', 'HOME'],
    ]);
    expect(after.EMAIL).toEqual(before.EMAIL);
    await hook(emu, 'crm.contact.update', { id, fields: { EMAIL: [{ ID: (before.EMAIL as Row[])[0]?.ID, VALUE: '' }] } });
    const noMail = await getRow('crm.contact.get', id);
    expect(noMail.EMAIL).toBeUndefined();
    expect(noMail.HAS_EMAIL).toBe('N');
  });

  it('user fields: only declared UF_CRM_ fields are stored (crm.deal.userfield.add declares one)', async () => {
    const added = await hook(emu, 'crm.deal.userfield.add', { fields: { FIELD_NAME: 'budget_code', USER_TYPE_ID: 'string' } });
    expect(typeof added.body.result).toBe('number');
    const id = (await hook(emu, 'crm.deal.add', { fields: { TITLE: 'UF', UF_CRM_BUDGET_CODE: 'B-7', UF_CRM_NOT_DECLARED: 'x' } })).body.result;
    const deal = await getRow('crm.deal.get', id);
    expect(deal.UF_CRM_BUDGET_CODE).toBe('B-7');
    expect('UF_CRM_NOT_DECLARED' in deal).toBe(false);
    const fields = (await hook(emu, 'crm.deal.fields')).body.result as Record<string, Row>;
    expect(fields.UF_CRM_BUDGET_CODE).toMatchObject({ type: 'string', isDynamic: true });
    const list = (await hook(emu, 'crm.deal.userfield.list', { filter: { FIELD_NAME: 'UF_CRM_BUDGET_CODE' } })).body.result as Row[];
    expect(list).toHaveLength(1);
    expect((await hook(emu, 'crm.deal.userfield.add', { fields: { FIELD_NAME: 'budget_code' } })).body.error).toBe('ERROR_CORE');
  });

  it("a deal's contacts: crm.deal.contact.items.set/get, contact.add/delete keep CONTACT_ID as the primary (api-reference/crm/deals/contacts/)", async () => {
    const id = (await hook(emu, 'crm.deal.add', { fields: { TITLE: 'With contacts', CONTACT_ID: 1 } })).body.result;
    expect((await hook(emu, 'crm.deal.contact.items.get', { id })).body.result).toEqual([{ CONTACT_ID: 1, SORT: 10, ROLE_ID: 0, IS_PRIMARY: 'Y' }]);
    await hook(emu, 'crm.deal.contact.items.set', { id, items: [{ CONTACT_ID: 2, SORT: 10 }, { CONTACT_ID: 3, SORT: 20, IS_PRIMARY: 'Y' }] });
    expect((await hook(emu, 'crm.deal.contact.items.get', { id })).body.result).toEqual([
      { CONTACT_ID: 3, SORT: 10, ROLE_ID: 0, IS_PRIMARY: 'Y' },
      { CONTACT_ID: 2, SORT: 20, ROLE_ID: 0, IS_PRIMARY: 'N' },
    ]);
    expect((await getRow('crm.deal.get', id)).CONTACT_ID).toBe('3');
    await hook(emu, 'crm.deal.contact.delete', { id, fields: { CONTACT_ID: 3 } });
    expect((await getRow('crm.deal.get', id)).CONTACT_ID).toBe('2');
    await hook(emu, 'crm.deal.contact.add', { id, fields: { CONTACT_ID: 4, IS_PRIMARY: 'Y' } });
    expect((await hook(emu, 'crm.deal.contact.items.get', { id })).body.result).toMatchObject([{ CONTACT_ID: 4, IS_PRIMARY: 'Y' }, { CONTACT_ID: 2, IS_PRIMARY: 'N' }]);
    expect((await hook(emu, 'crm.deal.contact.add', { id, fields: { CONTACT_ID: 9999 } })).status).toBe(400);
    await hook(emu, 'crm.deal.contact.items.delete', { id });
    expect((await getRow('crm.deal.get', id)).CONTACT_ID).toBeNull();
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONCRMDEALUPDATE', data: { FIELDS: { ID: String(id) } } });
  });

  it('fields describes types and flags (crm-lead-fields.md)', async () => {
    const f = (await hook(emu, 'crm.lead.fields')).body.result as Record<string, Row>;
    expect(f.ID).toEqual({ type: 'integer', isRequired: false, isReadOnly: true, isImmutable: false, isMultiple: false, isDynamic: false, title: 'ID' });
    expect(f.STATUS_ID).toMatchObject({ type: 'crm_status', statusType: 'STATUS' });
    expect(f.PHONE).toMatchObject({ type: 'crm_multifield', isMultiple: true });
  });

  it('delete returns true, then get is "Not found"; update of a missing record is "Not found"', async () => {
    const id = (await hook(emu, 'crm.company.add', { fields: { TITLE: 'Gone Ltd' } })).body.result;
    expect((await hook(emu, 'crm.company.delete', { id })).body.result).toBe(true);
    expect(await hook(emu, 'crm.company.get', { id })).toEqual({ status: 400, body: { error: '', error_description: 'Not found' } });
    expect((await hook(emu, 'crm.company.update', { id, fields: { TITLE: 'x' } })).body.error_description).toBe('Not found');
    expect((await hook(emu, 'crm.company.add', {})).body).toEqual({ error: '', error_description: "Parameter 'fields' must be array." });
  });

  it('writes raise ONCRM{TYPE}ADD/UPDATE/DELETE with {FIELDS: {ID}} (on-crm-lead-add.md)', async () => {
    const start = emu.events.emitted.length;
    const id = String((await hook(emu, 'crm.company.add', { fields: { TITLE: 'Evented' } })).body.result);
    await hook(emu, 'crm.company.update', { id, fields: { TITLE: 'Evented 2' } });
    await hook(emu, 'crm.company.delete', { id });
    expect(emu.events.emitted.slice(start).map((e) => [e.event, e.data, e.auth.userId])).toEqual([
      ['ONCRMCOMPANYADD', { FIELDS: { ID: id } }, 1],
      ['ONCRMCOMPANYUPDATE', { FIELDS: { ID: id } }, 1],
      ['ONCRMCOMPANYDELETE', { FIELDS: { ID: id } }, 1],
    ]);
  });

  it('auth_connector of the call travels with the event', async () => {
    await oauth(emu, 'crm.lead.add', { fields: { TITLE: 'from connector' }, auth_connector: 'sync1' });
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONCRMLEADADD', authConnector: 'sync1' });
  });
});
