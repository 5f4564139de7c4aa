/**
 * Dry-run and the daemon are one conductor: for every case of every scenario
 * rule test in rules/, the calls a dry-run plans are the calls the daemon's
 * first tick records in its ledger (same effect keys, methods and params, in
 * the same order), on the same fixtures, at the same time. Actions a dry-run
 * stops before (they need an answer it does not make) are compared up to that
 * point; a run the daemon holds back (serial concurrency: a second event for
 * the same record in one tick) has nothing to compare yet.
 */
import { describe, expect, it } from 'vitest';
import { startFixturePortal } from '../../cli/fixture-portal.js';
import { createClient } from '../../engine/client/index.js';
import { createEngine } from '../../engine/pipeline/index.js';
import type { FetchLike } from '../../engine/pipeline/types.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { redactValue } from '../../engine/redact.js';
import { openStateStore } from '../../engine/store/index.js';
import { defaultRunnerDeps } from '../../engine/testing/default-deps.js';
import { discoverTestFiles } from '../../engine/testing/discover.js';
import { runTests, type CasePlanInput } from '../../engine/testing/runner.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';

interface Compared {
  case: string;
  firings: number;
  calls: number;
  mismatches: string[];
}

/** An http receiver that accepts everything: later rounds may use its answer; the comparison stops before them. */
const acceptAll: FetchLike = async () => ({ status: 200, headers: { get: () => 'application/json' }, text: async () => '{"ok":true,"summary":"s","id":1}' });

async function daemonFirstTick(input: CasePlanInput, plan: PlanDocument): Promise<Omit<Compared, 'case'>> {
  const portal = await startFixturePortal(input.fixtures, { at: input.at, ratePlan: 'standard' });
  const store = openStateStore(':memory:', { now: () => input.at });
  const client = createClient(portal.config, { rateLimit: false, retries: 0 });
  try {
    for (const [entity, byId] of Object.entries(input.snapshots ?? {})) for (const [id, fields] of Object.entries(byId)) store.snapshots.put(entity, id, { ID: id, ...fields });
    for (const [ruleId, keys] of Object.entries(input.dedupe ?? {})) for (const k of keys) store.dedupe.put(ruleId, k);
    const engine = createEngine({ store, client, rules: input.rules, clock: () => input.at, http: acceptAll, options: { env: input.env } });
    store.inbox.add(input.items);
    await engine.tick();

    const mismatches: string[] = [];
    let calls = 0;
    const items = new Map(store.inbox.list({ limit: 10_000 }).map((i) => [i.id, i]));
    const runs = store.runs.list({ limit: 10_000 });
    const firingOf = (ruleId: string, itemKey: string, recordKey: string) =>
      plan.firings.find((f) => f.rule === ruleId && f.trigger.key === itemKey && (f.record ? `${f.record.entity}:${f.record.id}` : '') === recordKey && !f.error);
    for (const run of runs) {
      if (run.status === 'new') continue; // held back this tick: nothing to compare yet
      const item = items.get(run.itemId)!;
      const firing = firingOf(run.ruleId, item.key, run.recordKey);
      if (!firing) {
        mismatches.push(`run of ${run.ruleId} for ${item.key} ${run.recordKey} has no firing in the dry-run`);
        continue;
      }
      const stop = firing.stopped_at_action === undefined ? Infinity : firing.stopped_at_action - 1;
      const ledger = store.effects
        .forRun(run.id)
        .filter((e) => e.actionIndex < stop)
        .map((e) => ({ key: e.effectKey, method: e.method, params: redactValue(e.params) }));
      const planned = firing.calls.map((c) => ({ key: c.key, method: c.method, params: c.params }));
      calls += planned.length;
      try {
        expect(ledger).toEqual(planned);
      } catch {
        mismatches.push(`${run.ruleId} ${item.key} ${run.recordKey}: ledger ${JSON.stringify(ledger)} != plan ${JSON.stringify(planned)}`);
      }
    }
    // Every firing without an error is a run the daemon created (a foreach row, an event's record).
    for (const f of plan.firings.filter((x) => !x.error)) {
      const found = runs.some((r) => r.ruleId === f.rule && items.get(r.itemId)?.key === f.trigger.key && r.recordKey === (f.record ? `${f.record.entity}:${f.record.id}` : ''));
      if (!found) mismatches.push(`firing of ${f.rule} for ${f.trigger.key} has no run in the daemon`);
    }
    return { firings: plan.firings.length, calls, mismatches };
  } finally {
    store.close();
    await client.close();
    await portal.close();
  }
}

describe('dry-run and the daemon plan the same calls', () => {
  it('on every case of the scenario rule tests in rules/', async () => {
    const deps = defaultRunnerDeps({ startFixturePortal });
    const compared: Compared[] = [];
    let current = '';
    const results = await runTests(discoverTestFiles(['rules'], PACKAGE_ROOT), {
      ...deps,
      async plan(input) {
        const plan = await deps.plan(input);
        compared.push({ case: current, ...(await daemonFirstTick(input, plan)) });
        return plan;
      },
    }, { cwd: PACKAGE_ROOT, onResult: (r) => (current = `${r.file} ${r.name}`) });
    expect(results.filter((r) => r.status !== 'passed').map((r) => `${r.file} ${r.name}: ${r.failure}`)).toEqual([]);
    // The comparison must have had something to compare: most cases plan calls.
    expect(compared.length).toBeGreaterThan(40);
    expect(compared.reduce((n, c) => n + c.calls, 0)).toBeGreaterThan(60);
    expect(compared.flatMap((c) => c.mismatches)).toEqual([]);
  }, 240_000);
});
