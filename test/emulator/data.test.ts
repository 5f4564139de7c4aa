/** Seed data: the demo portal, the official docs simulator's sample portal as it is, YAML/JSON files, and bad files. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { EmulatorDataError, startEmulator, type Emulator } from '../../emulator/index.js';
import { emulator, hook, type Row } from './helpers.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const DAY = 86_400_000;

describe('demo portal (default data)', () => {
  it('has 10 users in 2 departments, ~20 leads from several sources, deals in two pipelines with some untouched for weeks', async () => {
    const started = await emulator();
    emu = started.emu;
    const users = emu.store.all('user');
    expect(users).toHaveLength(10);
    // The teams the scenario rules in rules/ route to and hand work to (rules/03, 08, 12).
    expect(users.map((u) => String(u.ID))).toEqual(expect.arrayContaining(['9', '12', '15', '21']));
    expect(new Set(users.flatMap((u) => u.UF_DEPARTMENT as number[]).filter((d) => d !== 1)).size).toBe(2);
    const leads = emu.store.all('lead');
    expect(leads.length).toBeGreaterThanOrEqual(20);
    expect(new Set(leads.map((l) => l.SOURCE_ID)).size).toBeGreaterThanOrEqual(5);
    const deals = emu.store.all('deal');
    expect(deals.length).toBeGreaterThanOrEqual(15);
    expect(new Set(deals.map((d) => d.CATEGORY_ID))).toEqual(new Set(['0', '1']));
    // Dates like now-21d are resolved against the emulator clock.
    const stale = (await hook(emu, 'crm.deal.list', { filter: { '<DATE_MODIFY': new Date(started.clock.now() - 14 * DAY).toISOString() }, select: ['ID'] })).body.result as Row[];
    expect(stale.length).toBeGreaterThanOrEqual(3);
    expect(emu.store.all('contact').some((c) => ((c.PHONE as Row[] | undefined) ?? []).some((p) => /[()\s-]/.test(String(p.VALUE))))).toBe(true);
    // The fields the example rules in rules/ write (region routing, enrichment, lead scoring).
    const leadFields = (await hook(emu, 'crm.lead.userfield.list')).body.result as Row[];
    expect(leadFields.map((f) => [f.FIELD_NAME, f.USER_TYPE_ID])).toEqual([['UF_CRM_REGION', 'string'], ['UF_CRM_INDUSTRY', 'string'], ['UF_CRM_LEAD_SCORE', 'integer']]);
    // The delivery pipeline rules/12 opens deals in.
    const delivery = (await hook(emu, 'crm.dealcategory.stage.list', { id: 2 })).body.result as Row[];
    expect(delivery[0]).toMatchObject({ STATUS_ID: 'C2:NEW' });
  });
});

describe('the official docs simulator sample portal', () => {
  it('loads as it is: users, pipelines with C1:/C2: stages, leads, deals, contacts, tasks', async () => {
    ({ emu } = await emulator({ data: join(PACKAGE_ROOT, 'emulator', 'data', 'official-simulator-dataset.json') }));
    expect(emu.store.count('deal')).toBe(60);
    expect(emu.store.count('lead')).toBe(25);
    expect(emu.store.count('task')).toBe(30);
    const stages = (await hook(emu, 'crm.dealcategory.stage.list', { id: 1 })).body.result as Row[];
    expect(stages.map((s) => s.STATUS_ID)).toEqual(['C1:NEW', 'C1:PREPARATION', 'C1:WON']);
    const deal2 = (await hook(emu, 'crm.deal.get', { id: 2 })).body.result as Row;
    expect(deal2).toMatchObject({ CATEGORY_ID: '2', STAGE_ID: 'C2:NEW', OPPORTUNITY: '1433000.00' });
    // The sample portal has no user 1 webhook problem: user 1 exists.
    expect((await hook(emu, 'user.current')).body.result).toMatchObject({ ID: '1', NAME: 'Анна' });
    const tasks = (await hook(emu, 'tasks.task.list', { filter: { REAL_STATUS: 5 }, select: ['ID'] })).body.result as { tasks: Row[] };
    expect(tasks.tasks.length).toBeGreaterThan(0);
  });
});

describe('data files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-data-'));

  it('reads YAML with leads, deals, categories, statuses and user fields', async () => {
    const file = join(dir, 'portal.yaml');
    writeFileSync(
      file,
      [
        "portal: { utcOffset: '+02:00', currency: EUR }",
        'users: [{ ID: 1, NAME: Root }]',
        'categories: [{ ID: 3, NAME: Wholesale, SORT: 30 }]',
        'userfields: [{ ENTITY_ID: CRM_DEAL, FIELD_NAME: UF_CRM_SCORE, USER_TYPE_ID: integer }]',
        'deals:',
        '  - { TITLE: Big one, CATEGORY_ID: 3, OPPORTUNITY: 5, UF_CRM_SCORE: 7, DATE_CREATE: "2026-01-05T10:00:00" }',
        'leads: [{ TITLE: L1, PHONE: [{ VALUE: "8 (916) 000-00-00" }] }]',
      ].join('\n'),
    );
    ({ emu } = await emulator({ data: file }));
    const deal = (await hook(emu, 'crm.deal.get', { id: 1 })).body.result as Row;
    expect(deal).toMatchObject({ TITLE: 'Big one', CATEGORY_ID: '3', STAGE_ID: 'C3:NEW', UF_CRM_SCORE: '7', CURRENCY_ID: 'EUR', DATE_CREATE: '2026-01-05T10:00:00+02:00' });
    expect((await hook(emu, 'crm.category.list', { entityTypeId: 2 })).body.result).toMatchObject({ categories: [{ id: 0 }, { id: 3, name: 'Wholesale' }] });
    expect((await hook(emu, 'crm.lead.get', { id: 1 })).body.result).toMatchObject({ PHONE: [{ VALUE: '8 (916) 000-00-00', VALUE_TYPE: 'WORK' }] });
    expect((await hook(emu, 'server.time')).body.result).toBe('2026-11-24T08:00:00+02:00');
  });

  it('bad files fail with EMULATOR_DATA_INVALID naming the file and the key', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'leads: { TITLE: not a list }\n');
    await expect(startEmulator({ data: bad })).rejects.toThrow(/bad\.yaml: 'leads' must be a list of records/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ lead: [] }));
    await expect(startEmulator({ data: unknown })).rejects.toBeInstanceOf(EmulatorDataError);
    await expect(startEmulator({ data: join(dir, 'missing.yaml') })).rejects.toThrow(/cannot read the emulator data file/);
  });

  it('store.seed shapes rows like the portal and keeps ids', async () => {
    ({ emu } = await emulator());
    const [id] = emu.store.seed('lead', [{ ID: 500, TITLE: 'Seeded', OPPORTUNITY: 10, EMAIL: [{ VALUE: 'x@example.com' }] }]);
    expect(id).toBe('500');
    expect(emu.store.get('lead', 500)).toMatchObject({ ID: '500', OPPORTUNITY: '10.00', HAS_EMAIL: 'Y', STATUS_ID: 'NEW' });
    const next = (await hook(emu, 'crm.lead.add', { fields: { TITLE: 'after' } })).body.result;
    expect(next).toBe(501);
  });
});
