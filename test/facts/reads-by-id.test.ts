/**
 * Records read by ID go as list commands with an ID set filter (up to 50 IDs
 * a command) and come out as the record `get` gives: every field, the user
 * fields (multiple ones too, which a legacy list gives only when named), the
 * multi-fields. An ID the list does not answer loads as null. Against the
 * emulator over HTTP, compared with the `get` of each record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { ENTITIES, loadFacts, RecordCache, TickReader, type LoadTarget } from '../../engine/facts/index.js';
import { recordKey, type RecordRef } from '../../engine/facts/by-id.js';
import { loadRuleSource } from '../../engine/rules/index.js';

let emulator: Emulator;
const clients: B24Client[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 1e6, drainPerSec: 1e6, operatingBudgetSec: 1e9 } });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await emulator.close();
});

/** A new client: the multiple user fields a client learnt are its own. */
function newClient(): B24Client {
  const [, , userId, code] = new URL(emulator.webhookUrl).pathname.split('/');
  const client = createClient({ baseUrl: emulator.url, plan: 'standard', auth: { mode: 'webhook', userId: userId!, code: code! } }, { rateLimit: false });
  clients.push(client);
  return client;
}

async function viaGet(client: B24Client, ref: RecordRef): Promise<unknown> {
  const g = ENTITIES[ref.entity].get(ref.id, ref.entityTypeId);
  return g.unwrap((await client.call(g.method, g.params)).result);
}

function ids(entity: string): string[] {
  return emulator.store.all(entity).map((r) => String(r.ID));
}

describe('records read by ID', () => {
  it('are the records get gives: standard, user (multiple too) and multi-fields, for each entity with a list', async () => {
    const client = newClient();
    await client.call('crm.lead.userfield.add', { fields: { FIELD_NAME: 'UF_CRM_TAGS', USER_TYPE_ID: 'string', MULTIPLE: 'Y' } });
    await client.call('crm.lead.update', { id: 2, fields: { UF_CRM_TAGS: ['vip', 'fair'], UF_CRM_LEAD_SCORE: 70 } });
    const refs: RecordRef[] = [
      ...ids('lead').map((id) => ({ entity: 'lead' as const, id })),
      ...ids('deal').map((id) => ({ entity: 'deal' as const, id })),
      ...ids('contact').map((id) => ({ entity: 'contact' as const, id })),
      ...ids('company').map((id) => ({ entity: 'company' as const, id })),
      ...ids('user').map((id) => ({ entity: 'user' as const, id })),
      ...ids('deal').map((id) => ({ entity: 'item' as const, id, entityTypeId: 2 })),
      ...ids('contact').map((id) => ({ entity: 'item' as const, id, entityTypeId: 3 })),
    ];
    const reader = new TickReader(client);
    const { records } = await reader.read([], refs);
    for (const ref of refs) {
      const got = records.get(recordKey(ref));
      expect(got, recordKey(ref)).toEqual({ ok: true, result: await viaGet(client, ref) });
    }
    const lead2 = records.get(recordKey({ entity: 'lead', id: '2' }));
    expect(lead2).toMatchObject({ ok: true, result: { UF_CRM_TAGS: ['vip', 'fair'], UF_CRM_LEAD_SCORE: '70', PHONE: [expect.objectContaining({ VALUE_TYPE: 'WORK' })], EMAIL: [expect.anything()] } });
    // A multi-field with no value is left out, as get leaves it out.
    const lead1 = records.get(recordKey({ entity: 'lead', id: '1' }));
    expect(lead1?.ok && Object.keys(lead1.result as object)).not.toContain('EMAIL');
    const contactFm = records.get(recordKey({ entity: 'item', id: ids('contact')[0]!, entityTypeId: 3 }));
    expect(contactFm).toMatchObject({ ok: true, result: { fm: expect.any(Array) } });
    // The multiple user field was new to this client: its leads were read once more, naming it.
    const leadLists = emulator.calls.of('crm.lead.list', { batch: true }).slice(-2);
    expect(leadLists.map((r) => r.params.select)).toEqual([
      ['*', 'UF_*', 'PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'],
      ['*', 'UF_*', 'PHONE', 'EMAIL', 'WEB', 'IM', 'LINK', 'UF_CRM_TAGS'],
    ]);
    expect(reader.requests).toBe(2);
    // Tasks are read by get: tasks.task.list does not give the record tasks.task.get gives.
    expect(ENTITIES.task.byIds).toBeUndefined();
  });

  it('50 IDs a command, 50 commands a request: 2,500 records in one HTTP request', async () => {
    const client = newClient();
    const seeded = emulator.store.seed('lead', Array.from({ length: 2_450 }, (_, i) => ({ TITLE: `Bulk ${i}`, STATUS_ID: 'NEW' })));
    // A first tick learns the lead's multiple user field (UF_CRM_TAGS, above).
    await new TickReader(client).read([], [{ entity: 'lead', id: '1' }]);
    const reader = new TickReader(client);
    emulator.calls.clear();
    const { records } = await reader.read([], seeded.map((id) => ({ entity: 'lead', id })));
    expect([...records.values()].every((r) => r.ok && (r.result as { TITLE: string }).TITLE.startsWith('Bulk '))).toBe(true);
    // 49 lists of 50 IDs and the user-field read: one batch.
    expect(emulator.calls.of('crm.lead.list', { batch: true })).toHaveLength(49);
    expect(emulator.calls.of('crm.lead.userfield.list', { batch: true })).toHaveLength(1);
    expect(emulator.calls.httpRequests).toBe(1);
    expect(reader.requests).toBe(1);
    expect(reader.commands).toBe(50);
  });

  it('the multiple user fields a client learnt are named from the next tick on; a new one costs one more request, once', async () => {
    const client = newClient();
    const tick = async (): Promise<number> => {
      const reader = new TickReader(client);
      await reader.read([], [{ entity: 'lead', id: '2' }]);
      return reader.requests;
    };
    expect(await tick()).toBe(2);
    expect(await tick()).toBe(1);
    await client.call('crm.lead.userfield.add', { fields: { FIELD_NAME: 'UF_CRM_CHANNELS', USER_TYPE_ID: 'string', MULTIPLE: 'Y' } });
    await client.call('crm.lead.update', { id: 2, fields: { UF_CRM_CHANNELS: ['web'] } });
    const reader = new TickReader(client);
    const { records } = await reader.read([], [{ entity: 'lead', id: '2' }]);
    expect(reader.requests).toBe(2);
    expect(records.get('lead::2')).toMatchObject({ ok: true, result: { UF_CRM_CHANNELS: ['web'], UF_CRM_TAGS: ['vip', 'fair'] } });
    expect(await tick()).toBe(1);
  });

  it('an ID the portal does not have loads as null; one that is no ID loads as null unasked', async () => {
    const client = newClient();
    const reader = new TickReader(client);
    emulator.calls.clear();
    const { records } = await reader.read([], [
      { entity: 'deal', id: '999999' },
      { entity: 'deal', id: '1' },
      { entity: 'user', id: '424242' },
      { entity: 'item', id: '999999', entityTypeId: 2 },
      { entity: 'deal', id: 'abc' },
    ]);
    expect(records.get('deal::999999')).toEqual({ ok: true, result: null });
    expect(records.get('deal::1')).toMatchObject({ ok: true, result: { ID: '1' } });
    expect(records.get('user::424242')).toEqual({ ok: true, result: null });
    expect(records.get('item:2:999999')).toEqual({ ok: true, result: null });
    expect(records.get('deal::abc')).toEqual({ ok: true, result: null });
    const asked = emulator.calls.of('crm.deal.list', { batch: true }).flatMap((r) => (r.params.filter as Record<string, string[]>)['@ID']);
    expect(asked.sort()).toEqual(['1', '999999']);
  });

  it('a failed command fails the reads of its IDs only, as a failed get did', async () => {
    const client = newClient();
    const reader = new TickReader(client);
    // crm.item.list without entityTypeId is refused (400 "Expected one of the following parameters: entityTypeId"), as crm.item.get is.
    const { records } = await reader.read([], [
      { entity: 'item', id: '1' },
      { entity: 'lead', id: '1' },
    ]);
    const item = records.get('item::1');
    expect(item).toMatchObject({ ok: false, notFound: false, error: expect.stringContaining('entityTypeId') });
    const get = await client.call('crm.item.get', { id: 1 }).catch((err: Error) => err);
    expect(get).toBeInstanceOf(Error);
    expect(records.get('lead::1')).toMatchObject({ ok: true, result: { ID: '1' } });
  });

  it('through the loader: the event record and loads by ID, a missing one as null, one request a round', async () => {
    const client = newClient();
    const compiled = loadRuleSource(
      `
id: by-id
trigger: { event: ONCRMDEALUPDATE }
load:
  company: { entity: company, id: "{{ deal.COMPANY_ID }}" }
  nobody: { entity: contact, id: "999999" }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "x" }
`,
      'by-id.yaml',
    ).rules[0]!;
    const deal = emulator.store.all('deal').find((d) => d.COMPANY_ID && d.COMPANY_ID !== '0')!;
    // The event's record is the rule's first load (`deal` from `event.id`).
    const target: LoadTarget = { rule: compiled, facts: { event: { id: String(deal.ID) } }, loaded: [] };
    const reader = new TickReader(client);
    const records = new RecordCache();
    await loadFacts([target], reader, records);
    expect(target.error).toBeUndefined();
    expect(target.facts.deal).toEqual(await viaGet(client, { entity: 'deal', id: String(deal.ID) }));
    expect(target.facts.company).toEqual(await viaGet(client, { entity: 'company', id: String(deal.COMPANY_ID) }));
    expect(target.facts.nobody).toBeNull();
    // The record an update diffs against is the one loaded.
    expect(records.get('deal', String(deal.ID))).toBe(target.facts.deal);
    // Round 1: the deal and the contact; round 2: the company (its ID comes from the deal).
    expect(reader.requests).toBe(2);
  });
});
