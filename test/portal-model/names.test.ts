/**
 * Names in rules (issue 15): `{ name: ... }`, `{ pipeline: ..., name: ... }`
 * and `label:...` resolve to IDs at load time from the snapshot `rules portal
 * pull` wrote, the dry-run plan shows both, an unknown name has a
 * did-you-mean, and without a snapshot a name says to pull one. The CLI runs
 * as a subprocess against the emulator's demo portal.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import type { PlanDocument } from '../../engine/plan/index.js';
import { runCli } from '../helpers/cli.js';

let emulator: Emulator;
let repo: string;
const env = (): Record<string, string> => ({ B24_WEBHOOK_URL: emulator.webhookUrl, B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '', B24_PLAN: '' });

const NAMED = `id: renewal-named
trigger: { event: ONCRMDEALUPDATE }
condition:
  "==": [{ var: deal.CATEGORY_ID }, { name: Renewals }]
dedupe: "renewal:{{ deal.ID }}"
actions:
  - update:
      entity: deal
      id: "{{ deal.ID }}"
      fields:
        STAGE_ID: { pipeline: Renewals, name: Renewed }
        ASSIGNED_BY_ID: { name: Ivan Sokolov }
        "label:Next step": Call the client
  - notify: { user: { name: Helen Price }, message: "Renewed: {{ deal.TITLE }}" }
`;

function writeRule(dir: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'rule.yaml');
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 10_000, drainPerSec: 10_000 } });
  repo = mkdtempSync(join(tmpdir(), 'portal-names-'));
  const pull = await runCli(['portal', 'pull'], { env: env(), cwd: repo });
  expect(pull.code, pull.stderr).toBe(0);
});
afterAll(async () => {
  await emulator.close();
  rmSync(repo, { recursive: true, force: true });
});

describe('names in rules', () => {
  it('resolve to IDs at load time; the dry-run plan shows each name with its ID and the calls carry the IDs', async () => {
    const rule = writeRule(join(repo, 'named'), NAMED);
    // Deal 12 of the demo portal is in the Renewals pipeline (C1:NEW), owned by user 5.
    const events = join(repo, 'events.jsonl');
    writeFileSync(events, `${JSON.stringify({ event: 'ONCRMDEALUPDATE', data: { FIELDS: { ID: '12' } }, ts: '1790000000' })}\n`);
    const r = await runCli(['dry-run', rule, '--events', events, '--format', 'json'], { env: env(), cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    const [firing] = plan.firings;
    expect(firing?.names).toEqual([
      { kind: 'pipeline', name: 'Renewals', id: 1, path: '/condition/==/1', line: 4 },
      { kind: 'stage', name: 'Renewals / Renewed', id: 'C1:WON', path: '/actions/0/update/fields/STAGE_ID', line: 11 },
      { kind: 'user', name: 'Ivan Sokolov', id: 9, path: '/actions/0/update/fields/ASSIGNED_BY_ID', line: 12 },
      { kind: 'field', name: 'Next step', id: 'UF_CRM_NEXT_STEP', path: '/actions/0/update/fields/label:Next step', line: 13 },
      { kind: 'user', name: 'Helen Price', id: 12, path: '/actions/1/notify/user', line: 14 },
    ]);
    expect(firing?.condition).toEqual({ value: true });
    expect(firing?.calls.map((c) => [c.method, c.params])).toEqual([
      ['crm.deal.update', { id: '12', fields: { ASSIGNED_BY_ID: 9, STAGE_ID: 'C1:WON', UF_CRM_NEXT_STEP: 'Call the client' } }],
      ['im.notify.system.add', { MESSAGE: 'Renewed: License expansion — Blue Harbor Foods', USER_ID: 12 }],
    ]);
    const text = await runCli(['dry-run', rule, '--events', events], { env: env(), cwd: repo });
    expect(text.stdout).toContain('      name       stage "Renewals / Renewed" = "C1:WON" (line 11)');
    expect(text.stdout).toContain('      name       user "Ivan Sokolov" = 9 (line 12)');
  });

  it('an unknown name is an error at its place with a did-you-mean on the names the portal has', async () => {
    const rule = writeRule(
      join(repo, 'typos'),
      NAMED.replace('name: Renewed', 'name: Renewd').replace('name: Ivan Sokolov', 'name: Ivan Sokolow').replace('label:Next step', 'label:Next stp').replace('name: Renewals }]', 'name: Renewal }]'),
    );
    const r = await runCli(['validate', rule], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => / error /.test(l))).toEqual([
      `${rule}:4:37: error PORTAL_PIPELINE_UNKNOWN [renewal-named] deals have no pipeline 'Renewal'; did you mean 'Renewals'?`,
      `${rule}:11:19: error PORTAL_STAGE_UNKNOWN [renewal-named] no stage is named 'Renewd' in pipeline 'Renewals'; did you mean 'Renewed' (C1:WON)?`,
      `${rule}:12:25: error PORTAL_USER_UNKNOWN [renewal-named] no active user of the portal is named 'Ivan Sokolow'; did you mean 'Ivan Sokolov'?`,
      `${rule}:13:9: error PORTAL_FIELD_UNKNOWN [renewal-named] no field of deals is labelled 'Next stp'; did you mean 'Next step' (UF_CRM_NEXT_STEP)?`,
    ]);
  });

  it('a stage name without its pipeline is looked up in every pipeline of the entity', async () => {
    const rule = writeRule(join(repo, 'any-pipeline'), NAMED.replace('{ pipeline: Renewals, name: Renewed }', '{ name: Negotiation }'));
    const r = await runCli(['validate', '--format', 'json', rule], { cwd: repo });
    expect(r.code).toBe(0);
  });

  it('without a snapshot every name is an error that says to run rules portal pull', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'portal-names-none-'));
    try {
      const rule = writeRule(elsewhere, NAMED);
      const r = await runCli(['validate', rule], { cwd: elsewhere });
      expect(r.code).toBe(1);
      const errors = r.stdout.split('\n').filter((l) => / error /.test(l));
      expect(errors).toHaveLength(5);
      expect(errors[1]).toBe(`${rule}:11:19: error PORTAL_SNAPSHOT_MISSING [renewal-named] 'Renewals / Renewed' is a name: names need the portal's snapshot, and there is none`);
      expect(r.stdout).toContain("hint: run 'rules portal pull' to write .rules/portal.json beside the rules (or pass --portal-snapshot FILE), or write the ID");
      // The same rule with the snapshot given explicitly is valid.
      const given = await runCli(['validate', '--portal-snapshot', join(repo, '.rules', 'portal.json'), rule], { cwd: elsewhere });
      expect(given.code).toBe(0);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
