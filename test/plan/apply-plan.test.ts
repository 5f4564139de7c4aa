/** `rules apply --plan`: a saved plan is carried out exactly, and refused when the portal changed since. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type PortalData } from '../../emulator/index.js';
import { createClient } from '../../engine/client/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { RULES_DIR } from '../../engine/paths.js';
import { applyPlan, notApplicable, readPlanFile } from '../../engine/plan/apply-plan.js';
import { dryRun } from '../../engine/plan/dry-run.js';
import { PlanStaleError } from '../../engine/plan/errors.js';
import { eventItems } from '../../engine/plan/inputs.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { loadRules } from '../../engine/rules/load-rules.js';
import { portalDataOf, readFixturesFile } from '../../engine/testing/fixtures.js';

const AT = Date.parse('2026-11-24T09:00:00+03:00');
let emulator: Emulator;

function config(e: Emulator) {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(e.webhookUrl) as RegExpExecArray;
  return { baseUrl: m[1] as string, plan: 'standard' as const, auth: { mode: 'webhook' as const, userId: m[2] as string, code: m[3] as string } };
}

async function makePlan(): Promise<PlanDocument> {
  const loaded = await loadRules([join(RULES_DIR, '03-route-leads.yaml')]);
  const { plan } = await dryRun({
    rules: loaded.rules,
    ruleFiles: loaded.files.map((f) => f.file),
    items: eventItems([{ name: 'ONCRMLEADADD', data: { FIELDS: { ID: '301' } } }, { name: 'ONCRMLEADADD', data: { FIELDS: { ID: '302' } } }], AT),
    at: AT,
    events: 2,
    scheduleTicks: [],
    portal: { kind: 'live', config: config(emulator), label: emulator.url },
    ratePlan: 'standard',
  });
  return plan;
}

beforeEach(async () => {
  const data = portalDataOf(readFixturesFile(join(RULES_DIR, 'fixtures', '03-route-leads.fixtures.yaml'))) as PortalData;
  emulator = await startEmulator({ port: 0, data, limits: { burst: 1e6, drainPerSec: 1e6 } });
});
afterEach(async () => {
  await emulator.close();
});

describe('apply --plan', () => {
  it('carries out exactly the planned calls, in the planned batch', async () => {
    const plan = await makePlan();
    expect(plan.summary.writes).toBe(4);
    emulator.calls.clear();
    const client = createClient(config(emulator), { rateLimit: false });
    try {
      const result = await applyPlan(client, plan);
      expect(result).toMatchObject({ sent: 4, failed: 0 });
      expect(result.calls.map((c) => c.method)).toEqual(['crm.lead.update', 'im.notify.system.add', 'crm.lead.update', 'im.notify.system.add']);
    } finally {
      await client.close();
    }
    expect(emulator.store.get('lead', '301')?.ASSIGNED_BY_ID).toBe('12');
    expect(emulator.store.get('lead', '302')?.ASSIGNED_BY_ID).toBe('9');
    const writes = emulator.calls.records.filter((r) => r.method !== 'batch' && methodKind(r.method) === 'write');
    expect(writes.map((r) => [r.method, r.params])).toEqual([
      ['crm.lead.update', { fields: { ASSIGNED_BY_ID: '12' }, id: '301' }],
      ['im.notify.system.add', expect.objectContaining({ USER_ID: '12' })],
      ['crm.lead.update', { fields: { ASSIGNED_BY_ID: '9' }, id: '302' }],
      ['im.notify.system.add', expect.objectContaining({ USER_ID: '9' })],
    ]);
  });

  it('refuses the whole plan, sending nothing, when a record it read changed since', async () => {
    const plan = await makePlan();
    const client = createClient(config(emulator), { rateLimit: false });
    try {
      await client.call('crm.lead.update', { id: 302, fields: { TITLE: 'Changed by a colleague' } });
      emulator.calls.clear();
      const err = await applyPlan(client, plan).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlanStaleError);
      expect((err as PlanStaleError).changed).toEqual([{ entity: 'lead', id: '302', reason: expect.stringMatching(/^DATE_MODIFY 2026-11-24T08:41:00\+03:00 → /) }]);
      expect((err as Error).message).toContain('Nothing was sent');
      expect(emulator.calls.records.filter((r) => r.method !== 'batch' && methodKind(r.method) === 'write')).toEqual([]);
      expect(emulator.store.get('lead', '301')?.ASSIGNED_BY_ID).toBe('1');
    } finally {
      await client.close();
    }
  });

  it('refuses plans with external http calls or failed runs, and files that are not plans', async () => {
    const plan = await makePlan();
    const withHttp: PlanDocument = structuredClone(plan);
    withHttp.firings[0]!.calls.push({ method: 'http', kind: 'write', params: { url: 'https://erp.example/x', method: 'POST' } });
    expect(notApplicable(withHttp)).toContain('makes an external http call');
    const stopped: PlanDocument = structuredClone(plan);
    stopped.firings[0]!.stopped_at_action = 2;
    stopped.firings[0]!.skipped = 'planning stops at action 2: needs the answer of an http call';
    expect(notApplicable(stopped)).toContain('planning stops at action 2');
    expect(notApplicable(plan)).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'plan-file-'));
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...plan, format_version: 0 }));
    expect(() => readPlanFile(join(dir, 'old.json'))).toThrow(/format_version 0 is not 1/);
    writeFileSync(join(dir, 'junk.json'), '{');
    expect(() => readPlanFile(join(dir, 'junk.json'))).toThrow(/cannot read the plan/);
  });
});
