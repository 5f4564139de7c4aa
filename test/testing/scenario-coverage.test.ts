/**
 * The scenario library's rule tests, run in-process: they all pass, and every
 * rule in rules/ is shown acting in at least one case and not acting in
 * another, so no scenario rule goes untested.
 */
import { describe, expect, it } from 'vitest';
import { startFixturePortal } from '../../cli/fixture-portal.js';
import { RULES_DIR } from '../../engine/paths.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { loadRules } from '../../engine/rules/load-rules.js';
import { defaultRunnerDeps } from '../../engine/testing/default-deps.js';
import { discoverTestFiles } from '../../engine/testing/discover.js';
import { runTests } from '../../engine/testing/runner.js';

describe('scenario rule tests', () => {
  it('pass, and cover every rule both acting and not acting', async () => {
    const deps = defaultRunnerDeps({ startFixturePortal });
    const plans: PlanDocument[] = [];
    const results = await runTests(discoverTestFiles([RULES_DIR]), {
      ...deps,
      async plan(input) {
        const plan = await deps.plan(input);
        plans.push(plan);
        return plan;
      },
    });
    const failures = results.filter((r) => r.status !== 'passed' && r.status !== 'skipped').map((r) => `${r.file}:${r.line} ${r.name}\n${r.failure ?? ''}`);
    expect(failures).toEqual([]);

    const { rules } = await loadRules([RULES_DIR]);
    const acting = new Set<string>();
    const idle = new Set<string>();
    for (const plan of plans) {
      const ran = new Set(plan.firings.map((f) => f.rule));
      for (const f of plan.firings) (f.calls.length > 0 ? acting : idle).add(f.rule);
      // A rule whose trigger did not match in a case counts as not acting there.
      for (const id of plan.rules.ids) if (!ran.has(id)) idle.add(id);
    }
    const ids = rules.map((r) => r.id).sort();
    expect(ids.length).toBeGreaterThanOrEqual(15);
    expect(ids.filter((id) => !acting.has(id)), 'rules never shown acting').toEqual([]);
    expect(ids.filter((id) => !idle.has(id)), 'rules never shown not acting').toEqual([]);
  });
});
