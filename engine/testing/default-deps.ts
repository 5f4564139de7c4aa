/**
 * The rule-test runner's real dependencies: the rule loader and the dry-run
 * harness on each case's fixtures, served by a fixture portal the caller
 * provides (the CLI's in-process emulator; engine/ does not depend on it).
 */
import { dryRun, type StartFixturePortal } from '../plan/index.js';
import { formatDiagnostics, loadRules } from '../rules/index.js';
import type { RunnerDeps } from './runner.js';
import { startSimulation } from './simulate.js';

export interface DefaultRunnerDepsOptions {
  /** Starts the portal a case's fixtures are read from; one per case, closed when the case is planned. */
  startFixturePortal: StartFixturePortal;
}

export function defaultRunnerDeps(options: DefaultRunnerDepsOptions): RunnerDeps {
  return {
    simulate: (input) => startSimulation(input, options.startFixturePortal),
    loadRules: (paths) => loadRules(paths),
    formatDiagnostics: (d) => formatDiagnostics(d, 'text').trimEnd(),
    async plan(input) {
      const portal = await options.startFixturePortal(input.fixtures, { at: input.at, ratePlan: 'standard' });
      try {
        const { plan } = await dryRun({
          rules: input.rules,
          ruleFiles: input.ruleFiles,
          items: input.items,
          at: input.at,
          events: input.events,
          scheduleTicks: input.scheduleTicks,
          portal: { kind: 'fixtures', portal, label: input.fixturesLabel },
          ratePlan: 'standard',
          env: input.env,
          ...(input.snapshots ? { snapshots: input.snapshots } : {}),
          ...(input.dedupe ? { dedupe: input.dedupe } : {}),
        });
        return plan;
      } finally {
        await portal.close();
      }
    },
  };
}
