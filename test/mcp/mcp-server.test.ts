/**
 * Issue 14, done when: `rules mcp` driven over stdio by the MCP SDK's own
 * client, the built CLI as a subprocess. It lists its tools (schemas,
 * annotations), validates a broken rule and its fix, dry-runs scenario 03 on
 * its fixtures and gets the plan `rules dry-run --format json` writes, looks
 * up crm.deal.update and ONCRMDEALUPDATE, and refuses apply_plan and
 * dlq_retry without --allow-writes, with nothing written to the portal;
 * portal_lookup names the portal it read; with --allow-writes a live plan is
 * carried out.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type PortalData } from '../../emulator/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { portalDataOf, readFixturesFile } from '../../engine/testing/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { startMcp, textOf, type McpSession } from './mcp-client.js';

const RULES = join(PACKAGE_ROOT, 'rules');
const RULE_03 = join(RULES, '03-route-leads.yaml');
const FIXTURES_03 = join(RULES, 'fixtures', '03-route-leads.fixtures.yaml');
const AT = '2026-11-24T09:00:00+03:00';
const TOOLS = ['apply_plan', 'catalog_search', 'dlq_list', 'dlq_retry', 'dry_run', 'list_events', 'method_info', 'portal_lookup', 'run_tests', 'runs', 'trace', 'validate'];

const BROKEN = `id: big-deal-comment
description: Comment on deals of a million and more.
trigger:
  event: ONCRMDEALUPDATE
condition: { ">=": [{ var: deal.OPPORTUNITY }, 1000000] }
actions:
  - coment: { entity: deal, id: "{{ deal.ID }}", text: "A big deal: {{ deal.TITLE }}" }
`;

let emulator: Emulator;
let tmp: string;
let mcp: McpSession;

const env = (): Record<string, string> => ({ B24_WEBHOOK_URL: emulator.webhookUrl });
const writesSeen = () => emulator.calls.records.filter((r) => r.method !== 'batch' && methodKind(r.method) === 'write').map((r) => r.method);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcp-'));
  emulator = await startEmulator({ port: 0, data: portalDataOf(readFixturesFile(FIXTURES_03)) as PortalData, limits: { burst: 10_000, drainPerSec: 10_000 } });
  mcp = await startMcp(['--rules', RULES], { cwd: tmp, env: env() });
});
afterAll(async () => {
  await mcp?.close();
  await emulator?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('rules mcp over stdio, with the SDK client', () => {
  it('lists its tools with input and output schemas and honest annotations', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
      expect(t.description?.length ?? 0, t.name).toBeGreaterThan(40);
      const writes = t.name === 'apply_plan' || t.name === 'dlq_retry';
      expect(t.annotations?.readOnlyHint, t.name).toBe(!writes);
      expect(t.annotations?.destructiveHint, t.name).toBe(writes);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('apply_plan')?.annotations?.idempotentHint).toBe(false);
    expect(byName.get('portal_lookup')?.annotations?.openWorldHint).toBe(true);
    expect(byName.get('method_info')?.annotations?.openWorldHint).toBe(false);
    expect(Object.keys((byName.get('dry_run')?.inputSchema.properties ?? {}) as object)).toEqual(expect.arrayContaining(['paths', 'text', 'fixtures', 'events', 'at']));
  });

  it('validates a broken rule (file:line:col, rule id, did-you-mean) and then its fix', async () => {
    const broken = await mcp.call('validate', { text: BROKEN, file_name: 'big-deal.yaml' });
    expect(broken.isError).toBeFalsy();
    const b = broken.structuredContent as { valid: boolean; diagnostics: Array<Record<string, unknown>> };
    expect(b.valid).toBe(false);
    expect(b.diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'SCHEMA', file: join(tmp, 'big-deal.yaml'), line: 7, col: 5, ruleId: 'big-deal-comment' })]);
    expect(String(b.diagnostics[0]?.message)).toContain("did you mean 'comment'?");
    expect(textOf(broken)).toContain(`${join(tmp, 'big-deal.yaml')}:7:5 error SCHEMA [big-deal-comment]`);

    const fixed = await mcp.call('validate', { text: BROKEN.replace('coment:', 'comment:'), file_name: 'big-deal.yaml' });
    expect(fixed.structuredContent).toMatchObject({ valid: true, diagnostics: [], summary: { rules: 1, rules_ok: 1, errors: 0 } });

    const files = await mcp.call('validate', {});
    expect(files.structuredContent).toMatchObject({ valid: true, summary: { errors: 0 } });
  });

  it('dry-runs scenario 03 on its fixtures: the plan rules dry-run --format json writes, with the expected calls', async () => {
    const r = await mcp.call('dry_run', { paths: [RULE_03], fixtures: FIXTURES_03, at: AT });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { portal: string; plan: PlanDocument };
    expect(s.portal).toContain(`fixtures ${FIXTURES_03}`);

    const cli = await runCli(['dry-run', RULE_03, '--fixtures', FIXTURES_03, '--at', AT, '--format', 'json'], { cwd: tmp, env: env() });
    expect(cli.code).toBe(0);
    expect(s.plan).toEqual(JSON.parse(cli.stdout));

    const writesOf = (id: string) => s.plan.firings.filter((f) => f.record?.id === id).flatMap((f) => f.calls.filter((c) => c.kind === 'write').map((c) => [f.rule, c.method, c.params]));
    expect(writesOf('301')).toEqual([
      ['route-leads-key-accounts', 'crm.lead.update', { id: '301', fields: { ASSIGNED_BY_ID: 12 } }],
      ['route-leads-key-accounts', 'im.notify.system.add', expect.objectContaining({ USER_ID: 12 })],
    ]);
    expect(writesOf('302').map((w) => w.slice(0, 2))).toEqual([['route-leads-partners', 'crm.lead.update'], ['route-leads-partners', 'im.notify.system.add']]);
    expect(writesOf('306')).toEqual([]);
    expect(writesOf('307')).toEqual([]);
    expect(writesSeen()).toEqual([]);
  });

  it('looks up crm.deal.update and ONCRMDEALUPDATE in the catalog', async () => {
    const m = await mcp.call('method_info', { method: 'crm.deal.update' });
    expect(m.structuredContent).toMatchObject({ found: true, method: 'crm.deal.update', scope: 'crm', kind: 'write', clientKind: 'write', url: 'https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-update.html' });
    expect((m.structuredContent as { params: Array<{ name: string; required: boolean }> }).params).toEqual(expect.arrayContaining([{ name: 'id', type: 'integer', required: true }, expect.objectContaining({ name: 'fields' })]));
    expect((await mcp.call('method_info', { method: 'crm.deal.updat' })).structuredContent).toEqual({ found: false, suggestion: 'crm.deal.update' });

    const e = await mcp.call('list_events', { query: 'ONCRMDEALUPDATE' });
    expect(e.structuredContent).toEqual({ events: [{ event: 'ONCRMDEALUPDATE', scope: 'crm', scopes: ['crm'], entity: 'deal', autoload: true }] });
    const hits = (await mcp.call('catalog_search', { query: 'deal update', limit: 5 })).structuredContent as { hits: Array<{ method?: string; event?: string }> };
    expect(hits.hits.map((h) => h.method ?? h.event)).toEqual(expect.arrayContaining(['crm.deal.update', 'ONCRMDEALUPDATE']));
  });

  it('runs the rule tests of scenario 03, per case', async () => {
    const r = await mcp.call('run_tests', { paths: [join(RULES, '03-route-leads.test.yaml')] });
    const s = r.structuredContent as { passed: number; failed: number; summary: string; cases: Array<{ status: string }> };
    expect(s.failed).toBe(0);
    expect(s.passed).toBe(s.cases.length);
    expect(s.summary).toBe(`${s.passed} passed, 0 failed`);
  });

  it('looks names up on the configured portal, read-only, naming the portal by its domain', async () => {
    emulator.calls.clear();
    const r = await mcp.call('portal_lookup', { kind: 'user', name: 'Морозова' });
    const host = new URL(emulator.url).host;
    expect(r.structuredContent).toMatchObject({ portal: host, matches: [expect.objectContaining({ kind: 'user', id: '12', name: 'Сергей Морозова' })] });
    expect(textOf(r)).not.toContain(emulator.webhookUrl.split('/rest/')[1] as string);
    const fields = await mcp.call('portal_lookup', { kind: 'field', entity: 'lead', name: 'UF_CRM_REGION' });
    expect((fields.structuredContent as { matches: Array<{ id: string }> }).matches[0]?.id).toBe('UF_CRM_REGION');
    const stage = await mcp.call('portal_lookup', { kind: 'stage', entity: 'deal', name: 'Prepare documents' });
    expect(stage.structuredContent).toMatchObject({ portal: host, matches: [{ kind: 'stage', id: 'PREPARATION', field: 'STAGE_ID', pipeline: { id: '0', name: 'General' } }] });
    const pipelines = await mcp.call('portal_lookup', { kind: 'pipeline', entity: 'deal' });
    expect((pipelines.structuredContent as { matches: unknown[] }).matches).toEqual([{ kind: 'pipeline', id: '0', name: 'General', entity: 'deal' }]);
    expect(emulator.calls.records.length).toBeGreaterThan(0);
    expect(writesSeen()).toEqual([]);
  });

  it('refuses apply_plan and dlq_retry without --allow-writes, and nothing reaches the portal', async () => {
    emulator.calls.clear();
    const plan = ((await mcp.call('dry_run', { paths: [RULE_03], fixtures: FIXTURES_03, at: AT })).structuredContent as { plan: unknown }).plan;
    const r = await mcp.call('apply_plan', { plan });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(textOf(r)).toMatch(/^WRITES_NOT_ALLOWED: apply_plan .* without --allow-writes: nothing was done/);
    const d = await mcp.call('dlq_retry', { id: 'all' });
    expect(d.isError).toBe(true);
    expect(textOf(d)).toContain('WRITES_NOT_ALLOWED');
    expect(emulator.calls.records).toEqual([]);
  });

  it('serves the schemas, the rule format and the scenario rules as resources', async () => {
    const { resources } = await mcp.client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['b24-rules://schemas/rule.schema.json', 'b24-rules://docs/rule-format.md', 'b24-rules://rules/03-route-leads.yaml', 'b24-rules://rules/03-route-leads.test.yaml']));
    const read = await mcp.client.readResource({ uri: 'b24-rules://rules/03-route-leads.yaml' });
    expect((read.contents[0] as { text: string }).text).toBe(await readFile(RULE_03, 'utf8'));
    const schema = await mcp.client.readResource({ uri: 'b24-rules://schemas/rule.schema.json' });
    expect(JSON.parse((schema.contents[0] as { text: string }).text)).toHaveProperty('$schema');
  });

  it('with --allow-writes carries out a live plan on the portal, naming it', async () => {
    const writer = await startMcp(['--rules', RULES, '--allow-writes'], { cwd: tmp, env: env() });
    try {
      const events = JSON.stringify({ EVENT_NAME: 'ONCRMLEADADD', EVENT_DATA: { FIELDS: { ID: '301' } }, MESSAGE_ID: 'm-301', TIMESTAMP_X: '2026-11-24T08:40:00+03:00' });
      const planned = await writer.call('dry_run', { paths: [RULE_03], events, at: AT });
      const s = planned.structuredContent as { portal: string; plan: PlanDocument };
      expect(s.portal).toBe(new URL(emulator.url).host);
      expect(s.plan.summary.writes).toBe(2);
      expect(writesSeen()).toEqual([]);
      const applied = await writer.call('apply_plan', { plan: s.plan });
      expect(applied.structuredContent).toMatchObject({ portal: new URL(emulator.url).host, sent: 2, failed: 0 });
      expect(String(emulator.store.get('lead', 301)?.ASSIGNED_BY_ID)).toBe('12');
    } finally {
      await writer.close();
    }
  });
});
