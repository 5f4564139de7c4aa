/** Rule tests (`*.test.yaml`): loading, running, checking, reporting; and `rules record`. Format: docs/rule-tests.md. */
export { loadTestFile } from './load-test-file.js';
export { discoverTestFiles } from './discover.js';
export { runTests, summaryLine, type RunnerDeps, type RunOptions, type CasePlanInput } from './runner.js';
export { defaultRunnerDeps, type DefaultRunnerDepsOptions } from './default-deps.js';
export { checkPlan, checkLoadErrors, plannedWrites, stoppedByDedupe } from './check.js';
export { subsetMismatches, callMismatches, type Mismatch } from './match.js';
export { diffCalls } from './diff.js';
export { renderJunit, xmlEscape } from './junit.js';
export { formatResult } from './report.js';
export { testAnnotations, testStepSummary } from './report-github.js';
export { readFixturesFile, checkFixtures, portalDataOf, fixtureEvents } from './fixtures.js';
export { recordIncident, recordOfEvent, DEFAULTS as RECORD_DEFAULTS, type RecordOptions, type RecordedFixture } from './record.js';
export type { RuleTestFile, RuleTestCase, TestEvent, ExpectedCall, TestExpectation, TestResult, TestStatus, FixtureData } from './types.js';
export { CoverageRecorder, type RuleCoverage, type ClauseCoverage, type WhenCoverage } from './coverage.js';
export { coverageJson, coverageSummaryLine, coverageTotals, formatCoverage, uncovered, type CoverageTotals, type Uncovered } from './coverage-report.js';
export { mutateTests, mutationTotals, formatMutationReport, mutationSummaryLine, DEFAULT_MUTATE_LIMIT, type RuleFileMutation, type MutantResult, type MutantStatus, type MutateOptions } from './mutate.js';
export { readAccepts, acceptOf, acceptMatches, type MutantAccept } from './mutate-accept.js';
export { mutantsOf, applyMutant, numberMutations, envDefaultMutation, type Mutant, type MutationOperator } from './mutate-operators.js';
