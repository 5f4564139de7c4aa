/**
 * `rules dry-run --state postgres://... --portal ID` (a subprocess) against the throwaway PostgreSQL: the plan
 * starts from that portal's state (named by member_id or domain), read from one snapshot into a private copy;
 * nothing is written to the database (the portal's rows, and no schema created for a portal never served);
 * usage errors exit 2, an unknown portal 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../engine/plan/index.js';
import { openControlPlane, PortalRegistry, type ControlPlane } from '../../engine/portals/index.js';
import { openPgStateStore, portalSchema } from '../../engine/store/index.js';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, pgUrl } from '../helpers/pg.js';

const RULE = `id: greet
trigger: { event: ONCRMLEADADD }
dedupe: "greet:{{ lead.ID }}"
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "hello {{ lead.TITLE }}" }
`;
const FIXTURES = `leads:
- {ID: '301', TITLE: First, STATUS_ID: NEW}
- {ID: '302', TITLE: Second, STATUS_ID: NEW}
events:
- {ID: '1', TIMESTAMP_X: '2026-11-24T08:40:00+03:00', EVENT_NAME: ONCRMLEADADD, EVENT_DATA: {FIELDS: {ID: '301'}}, EVENT_ADDITIONAL: false, MESSAGE_ID: m-301}
- {ID: '2', TIMESTAMP_X: '2026-11-24T08:41:00+03:00', EVENT_NAME: ONCRMLEADADD, EVENT_DATA: {FIELDS: {ID: '302'}}, EVENT_ADDITIONAL: false, MESSAGE_ID: m-302}
`;
/** No portal in the environment: fixtures mode needs none; no database from the environment either. */
const ENV = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '', GITHUB_STEP_SUMMARY: '', B24_RULES_DATABASE_URL: undefined };

describe.skipIf(!pgUrl())('rules dry-run with a portal\'s state in PostgreSQL', () => {
  let url: string;
  let cp: ControlPlane;
  let dir: string;
  let args: string[];

  /** Every row of the portal's state and every schema of the database: what a dry-run must leave as it was. */
  const snapshot = async (): Promise<string> => {
    const schemas = (await cp.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'portal_%' ORDER BY 1`)).rows.map((r) => r.nspname);
    const tables = ['inbox', 'runs', 'effects', 'dedupe', 'snapshots', 'positions', 'schedules', 'timers', 'dlq', 'counters'];
    const rows: Record<string, unknown> = {};
    for (const t of tables) rows[t] = (await cp.pool.query(`SELECT * FROM "${portalSchema('acme01')}"."${t}" ORDER BY 1`)).rows;
    return JSON.stringify({ schemas, rows });
  };
  const greetOf = (plan: PlanDocument, id: string) => plan.firings.find((f) => f.rule === 'greet' && f.record?.id === id);

  beforeAll(async () => {
    url = await freshDatabase('dry_run_pg');
    cp = await openControlPlane(url);
    const registry = new PortalRegistry(cp.pool);
    await registry.addWebhook({ webhookUrl: 'https://acme.bitrix24.com/rest/1/acmec0de0001/', memberId: 'acme01' });
    await registry.addWebhook({ webhookUrl: 'https://beta.bitrix24.com/rest/1/betac0de0001/', memberId: 'beta01' });
    // acme01 was served: its effect for lead 301 is done (the dedupe key used). beta01 never was: no state schema.
    const store = openPgStateStore({ url, portal: 'acme01' });
    store.dedupe.put('greet', 'greet:301');
    store.close();
    dir = await mkdtemp(join(tmpdir(), 'dry-run-pg-'));
    await writeFile(join(dir, 'greet.yaml'), RULE);
    await writeFile(join(dir, 'fixtures.yaml'), FIXTURES);
    args = ['dry-run', join(dir, 'greet.yaml'), '--fixtures', join(dir, 'fixtures.yaml'), '--format', 'json', '--state', url];
  });
  afterAll(async () => {
    await cp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('plans from the named portal\'s state (by member_id or domain) and writes nothing to the database', async () => {
    const before = await snapshot();
    for (const name of ['acme01', 'acme.bitrix24.com']) {
      const r = await runCli([...args, '--portal', name], { env: ENV });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.stdout) as PlanDocument;
      expect(greetOf(plan, '301')?.calls).toEqual([]);
      expect(greetOf(plan, '301')?.skipped).toMatch(/^dedupe: key "greet:301" was used by an earlier run/);
      expect(greetOf(plan, '302')?.calls.map((c) => c.method)).toEqual(['crm.timeline.comment.add']);
    }
    // A portal never served plans from an empty state; its schema is not created.
    const beta = await runCli([...args, '--portal', 'beta01'], { env: ENV });
    expect(beta.code).toBe(0);
    expect(greetOf(JSON.parse(beta.stdout) as PlanDocument, '301')?.calls.map((c) => c.method)).toEqual(['crm.timeline.comment.add']);
    expect(await snapshot()).toBe(before);
  });

  it('usage: a postgres state needs --portal, --portal needs a postgres state (exit 2); an unknown portal exits 1', async () => {
    const none = await runCli(args, { env: ENV });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name the portal with --portal MEMBER_ID');
    const file = await runCli([...args.slice(0, -1), join(dir, 'state.db'), '--portal', 'acme01'], { env: ENV });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('--portal picks a portal\'s state in a worker deployment');
    const unknown = await runCli([...args, '--portal', 'nope'], { env: ENV });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("PORTAL_NOT_FOUND: no portal 'nope'; list them with: rules portals list");
    // rules apply does not take a postgres state as a file path.
    const apply = await runCli(['apply', 'greet', '--rules', dir, '--state', url], { env: ENV });
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain('rules dry-run --state postgres://... --portal ID');
  });
});
