/**
 * Issue 15, done when: on the emulator's demo portal `rules portal pull` then
 * `rules validate` finds a planted wrong stage ID, a wrong user ID and a wrong
 * field code in a copy of the scenarios, each with file:line:col and a
 * did-you-mean. The CLI runs as a subprocess against an emulator over HTTP.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { methodKind } from '../../engine/client/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PortalSnapshot } from '../../engine/portal-model/index.js';
import { runCli } from '../helpers/cli.js';

let emulator: Emulator;
let repo: string;
const env = (): Record<string, string> => ({ B24_WEBHOOK_URL: emulator.webhookUrl, B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '', B24_PLAN: '' });

/** Replace `from` by `to` on the line of `file` that holds `from` (exactly once in the file). */
function plant(file: string, from: string, to: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(from));
  expect(at, `${from} in ${file}`).toBeGreaterThanOrEqual(0);
  lines[at] = lines[at]!.replace(from, to);
  writeFileSync(file, lines.join('\n'));
  return at + 1;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 10_000, drainPerSec: 10_000 } });
  // A list field with values, as portals have them (the demo portal's user fields are plain).
  const add = await fetch(`${emulator.webhookUrl}crm.deal.userfield.add.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fields: { FIELD_NAME: 'DELIVERY_PRIORITY', USER_TYPE_ID: 'enumeration', EDIT_FORM_LABEL: 'Delivery priority', LIST: [{ VALUE: 'Urgent' }, { VALUE: 'Normal' }] } }),
  });
  expect(add.status).toBe(200);
  repo = mkdtempSync(join(tmpdir(), 'portal-pull-'));
  cpSync(join(PACKAGE_ROOT, 'rules'), join(repo, 'rules'), { recursive: true });
});
afterAll(async () => {
  await emulator.close();
  rmSync(repo, { recursive: true, force: true });
});

describe('rules portal pull', () => {
  it('reads the demo portal with read-only calls in two batches into a snapshot and an editor overlay', async () => {
    emulator.calls.clear();
    const r = await runCli(['portal', 'pull'], { env: env(), cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('in 2 HTTP requests: Leads, Deals, Contacts, Companies');
    expect(r.stdout).toContain('10 active users');
    expect(r.stdout).toContain('Wrote .rules/portal.json; wrote .rules/schema.json.');
    const calls = emulator.calls.records;
    expect(emulator.calls.httpRequests).toBe(2);
    expect(calls.filter((c) => c.method === 'batch')).toHaveLength(2);
    expect(calls.map((c) => c.method).filter((m) => m !== 'batch' && methodKind(m) !== 'read')).toEqual([]);
    expect(new Set(calls.map((c) => c.method))).toEqual(new Set(['batch', 'crm.lead.fields', 'crm.deal.fields', 'crm.contact.fields', 'crm.company.fields', 'crm.status.list', 'crm.category.list', 'crm.type.list', 'user.get', 'crm.item.fields']));

    const snap = JSON.parse(readFileSync(join(repo, '.rules', 'portal.json'), 'utf8')) as PortalSnapshot;
    const deal = snap.entities.deal!;
    expect(deal.pipelines.map((p) => `${p.id} ${p.name}`)).toEqual(['0 Sales', '1 Renewals', '2 Service']);
    expect(deal.pipelines[1]!.stages.find((s) => s.id === 'C1:WON')).toEqual({ id: 'C1:WON', name: 'Renewed', semantics: 'success' });
    expect(deal.fields.UF_CRM_REGION).toMatchObject({ code: 'UF_CRM_REGION', label: 'Region', type: 'string' });
    expect(deal.fields.UF_CRM_DELIVERY_PRIORITY).toMatchObject({ label: 'Delivery priority', type: 'enumeration', items: [{ id: '1', name: 'Urgent' }, { id: '2', name: 'Normal' }] });
    expect(snap.entities.lead!.pipelines[0]!.stages.map((s) => s.id)).toContain('CONVERTED');
    expect(snap.statuses.SOURCE).toContainEqual({ id: 'PARTNER', name: 'Existing client' });
    expect(snap.users).toContainEqual({ id: '9', name: 'Ivan Sokolov', email: 'ivan.sokolov@acme.example', position: 'Inbound Sales Manager' });
    expect(snap.portal).toBe(new URL(emulator.url).origin);
    expect(JSON.stringify(snap)).not.toContain(emulator.webhookUrl.split('/')[5]);

    const overlay = JSON.parse(readFileSync(join(repo, '.rules', 'schema.json'), 'utf8')) as { allOf: Array<{ $ref: string }> };
    expect(existsIn(join(repo, '.rules'), overlay.allOf[0]!.$ref)).toBe(true);
  });

  it('is deterministic: pulled again from an unchanged portal, the snapshot stays byte for byte (pulledAt too)', async () => {
    const before = readFileSync(join(repo, '.rules', 'portal.json'), 'utf8');
    const r = await runCli(['portal', 'pull', '--format', 'json'], { env: env(), cwd: repo });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: false, requests: 2, users: 10 });
    expect(readFileSync(join(repo, '.rules', 'portal.json'), 'utf8')).toBe(before);
    const keys = [...before.matchAll(/^ {2}"([^"]+)"/gm)].map((m) => m[1]);
    expect(keys).toEqual([...keys].sort());
  });
});

describe('rules validate with the snapshot', () => {
  it('passes the scenario rules as they are', async () => {
    const r = await runCli(['validate', 'rules'], { cwd: repo });
    // Every scenario file and rule is counted and valid; the counts follow rules/ as scenarios are added.
    const files = readdirSync(join(repo, 'rules')).filter((f) => /^\d\d-.*\.ya?ml$/.test(f) && !f.endsWith('.test.yaml')).length;
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    expect(last).toMatch(new RegExp(`^${files} files, (\\d+) rules: \\1 valid, 0 invalid; 0 errors, 0 warnings$`));
    expect(r.code).toBe(0);
  });

  it('finds a wrong stage ID, a wrong user ID and a wrong field code, each with file:line:col and a did-you-mean', async () => {
    const stageLine = plant(join(repo, 'rules', '12-won-handoff.yaml'), 'STAGE_ID: { to: [WON, C1:WON] }', 'STAGE_ID: { to: [WON, C1:WONN] }');
    const userLine = plant(join(repo, 'rules', '03-route-leads.yaml'), 'users: [9]', 'users: [99]');
    const fieldLine = plant(join(repo, 'rules', '02-enrich-leads.yaml'), 'UF_CRM_INDUSTRY: "{{', 'UF_CRM_INDUSTRI: "{{');
    const r = await runCli(['validate', 'rules'], { cwd: repo });
    expect(r.code).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => / error /.test(l));
    expect(errors).toEqual([
      `rules/02-enrich-leads.yaml:${fieldLine}:9: error PORTAL_FIELD_UNKNOWN [enrich-leads] field 'UF_CRM_INDUSTRI' does not exist on leads; did you mean 'UF_CRM_INDUSTRY' (Industry)?`,
      `rules/03-route-leads.yaml:${userLine}:15: error PORTAL_USER_UNKNOWN [route-leads-partners] user 99 is not an active user of the portal; did you mean 9 (Ivan Sokolov)?`,
      `rules/12-won-handoff.yaml:${stageLine}:27: error PORTAL_STAGE_UNKNOWN [won-handoff] stage 'C1:WONN' does not exist in pipeline 'Renewals'; did you mean 'C1:WON' (Renewed)?`,
    ]);
    expect(r.stdout).toContain('hint: its stages: C1:NEW (Renewal due), C1:NEGOTIATION (Negotiation), C1:WON (Renewed), C1:LOSE (Churned)');

    const gh = await runCli(['validate', '--format', 'github', 'rules'], { cwd: repo });
    expect(gh.stdout).toContain(`::error file=rules/12-won-handoff.yaml,line=${stageLine},col=27,title=PORTAL_STAGE_UNKNOWN [won-handoff]::`);

    // Without a snapshot: exactly as before, the planted mistakes pass.
    const none = await runCli(['validate', '--no-portal-snapshot', 'rules'], { cwd: repo });
    expect(none.code).toBe(0);
    const elsewhere = await runCli(['validate', '--portal-snapshot', join(repo, 'nope.json'), 'rules'], { cwd: repo });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("'rules portal pull --out");
  });

  it('checks list values, pipelines and conditions too, and reports a broken snapshot as PORTAL_SNAPSHOT_INVALID', async () => {
    const dir = mkdtempSync(join(repo, 'more-'));
    writeFileSync(
      join(dir, 'deals.yaml'),
      [
        'id: deal-checks',
        'trigger: { event: ONCRMDEALUPDATE }',
        'condition: { "==": [{ var: deal.SOURCE_ID }, PARTNR] }',
        'actions:',
        '  - update: { entity: deal, id: "{{ deal.ID }}", fields: { CATEGORY_ID: 7, UF_CRM_DELIVERY_PRIORITY: "9", STAGE_ID: "C2:NEW" } }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', '--format', 'json', dir], { cwd: repo });
    const doc = JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; line: number; col: number; message: string }> };
    expect(doc.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`)).toEqual([
      "3:46 PORTAL_VALUE_UNKNOWN 'PARTNR' is not a value of SOURCE_ID (SOURCE); did you mean 'PARTNER' (Existing client)?",
      '5:73 PORTAL_PIPELINE_UNKNOWN deals have no pipeline 7',
      "5:102 PORTAL_VALUE_UNKNOWN '9' is not a value of UF_CRM_DELIVERY_PRIORITY (Delivery priority); did you mean '1' (Urgent)?",
    ]);
    writeFileSync(join(repo, '.rules', 'broken.json'), '{"format_version": 99}');
    const broken = await runCli(['validate', '--portal-snapshot', join(repo, '.rules', 'broken.json'), dir], { cwd: repo });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('error PORTAL_SNAPSHOT_INVALID');
    expect(broken.stdout).toContain("run 'rules portal pull' to write it again");
  });
});

function existsIn(dir: string, rel: string): boolean {
  try {
    readFileSync(join(dir, rel));
    return true;
  } catch {
    return false;
  }
}
