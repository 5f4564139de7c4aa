/** The rule-test runner's real dependencies: the rule loader and the dry-run harness on fixtures (in-process emulator). */
import { dryRun } from '../plan/dry-run.js';
import { formatDiagnostics } from '../rules/format-diagnostics.js';
import { loadRules } from '../rules/load-rules.js';
import type { RunnerDeps } from './runner.js';

export function defaultRunnerDeps(): RunnerDeps {
  return {
    loadRules: (paths) => loadRules(paths),
    formatDiagnostics: (d) => formatDiagnostics(d, 'text').trimEnd(),
    async plan(input) {
      const { plan } = await dryRun({
        rules: input.rules,
        ruleFiles: input.ruleFiles,
        items: input.items,
        at: input.at,
        events: input.events,
        scheduleTicks: input.scheduleTicks,
        portal: { kind: 'fixtures', data: input.fixtures, label: input.fixturesLabel },
        ratePlan: 'standard',
        env: input.env,
        ...(input.snapshots ? { snapshots: input.snapshots } : {}),
        ...(input.dedupe ? { dedupe: input.dedupe } : {}),
      });
      return plan;
    },
  };
}
