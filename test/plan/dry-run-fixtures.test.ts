/**
 * dryRun on fixtures through an injected fixture portal (the CLI's in-process
 * emulator): the plan has the writes, only reads reached the portal, and the
 * portal stays the caller's to close. The rule-test runner's default deps
 * start one portal per case and close it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFixturePortal } from '../../cli/fixture-portal.js';
import { createClient } from '../../engine/client/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { RULES_DIR } from '../../engine/paths.js';
import { dryRun } from '../../engine/plan/dry-run.js';
import type { FixturePortal, StartFixturePortal } from '../../engine/plan/fixture-portal.js';
import { eventItems } from '../../engine/plan/inputs.js';
import { loadRules } from '../../engine/rules/load-rules.js';
import { defaultRunnerDeps } from '../../engine/testing/default-deps.js';
import { discoverTestFiles } from '../../engine/testing/discover.js';
import { readFixturesFile } from '../../engine/testing/fixtures.js';
import { runTests } from '../../engine/testing/runner.js';

const AT = Date.parse('2026-11-24T09:00:00+03:00');
const FIXTURES = join(RULES_DIR, 'fixtures', '03-route-leads.fixtures.yaml');

describe('dryRun with an injected fixture portal', () => {
  it('plans the writes, only reads reach the portal, and the portal is left open for its caller', async () => {
    const loaded = await loadRules([join(RULES_DIR, '03-route-leads.yaml')]);
    const portal = await startFixturePortal(readFixturesFile(FIXTURES), { at: AT, ratePlan: 'standard' });
    try {
      const { plan, portalCalls } = await dryRun({
        rules: loaded.rules,
        ruleFiles: loaded.files.map((f) => f.file),
        items: eventItems([{ name: 'ONCRMLEADADD', data: { FIELDS: { ID: '301' } } }], AT),
        at: AT,
        events: 1,
        scheduleTicks: [],
        portal: { kind: 'fixtures', portal, label: 'route-leads fixtures' },
        ratePlan: 'standard',
        env: {},
      });
      expect(plan.source).toEqual({ mode: 'fixtures', fixtures: 'route-leads fixtures' });
      expect(plan.summary.writes).toBeGreaterThan(0);
      expect(portalCalls?.length).toBeGreaterThan(0);
      for (const c of portalCalls ?? []) if (c.method !== 'batch') expect(methodKind(c.method), c.method).toBe('read');

      // Still serving: the caller closes it, not dryRun.
      const client = createClient(portal.config, { rateLimit: false, retries: 0 });
      try {
        const lead = await client.call<{ ID: string }>('crm.lead.get', { id: 301 });
        expect(lead.result.ID).toBe('301');
      } finally {
        await client.close();
      }
    } finally {
      await portal.close();
    }
  });

  it('the rule-test runner starts a portal for each case and closes each one', async () => {
    const open = new Set<FixturePortal>();
    let started = 0;
    const counting: StartFixturePortal = async (data, options) => {
      const portal = await startFixturePortal(data, options);
      started++;
      open.add(portal);
      return {
        config: portal.config,
        calls: () => portal.calls(),
        close: async () => {
          open.delete(portal);
          await portal.close();
        },
      };
    };
    const results = await runTests(discoverTestFiles([join(RULES_DIR, '03-route-leads.test.yaml')]), defaultRunnerDeps({ startFixturePortal: counting }));
    expect(results.filter((r) => r.status !== 'passed')).toEqual([]);
    expect(started).toBe(results.length);
    expect(open.size).toBe(0);
  });
});
