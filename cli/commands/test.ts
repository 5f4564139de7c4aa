/** `rules test [PATHS...]`: run rule tests (*.test.yaml) on fixtures, read-only; exit 1 on any failure. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import {
  coverageJson,
  coverageSummaryLine,
  coverageTotals,
  CoverageRecorder,
  DEFAULT_MUTATE_LIMIT,
  defaultRunnerDeps,
  formatCoverage,
  discoverTestFiles,
  formatMutationReport,
  formatResult,
  mutateTests,
  mutationSummaryLine,
  mutationTotals,
  renderJunit,
  runTests,
  summaryLine,
  testAnnotations,
  testStepSummary,
} from '../../engine/testing/index.js';
import { startFixturePortal } from '../fixture-portal.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules test [PATHS...] [--junit FILE] [--update] [--format text|github|json]
                  [--coverage] [--coverage-min N]
       rules test --mutate [PATHS...] [--mutate-limit N]

Run rule tests: *.test.yaml files beside the rules (format: docs/rule-tests.md,
schema: schemas/rule-test.schema.json). Each case plans its event or time on its
fixtures with the engine, through an in-process emulator and a read-only client,
and compares the planned calls with the expected ones (subset match on params).

PATHS are test files or directories searched for *.test.yaml (default: ./rules).

Options:
  --junit FILE  also write the results as JUnit XML
  --format FORMAT  text (default), github: the same output with an
                ::error annotation on the line of each failed case before
                the last line (GitHub Actions), and a table of the results
                appended to $GITHUB_STEP_SUMMARY when set; or json: one
                document { format_version, results, summary, coverage }
  --coverage    also report what the tests exercised: per rule the runs
                that acted and were skipped, each condition clause found
                true and false, each when: taken and passed over; then what
                was never reached with file:line:col, and the line
                'coverage: ... total N%'
  --coverage-min N  with --coverage (implied): exit 1 when the total is
                under N %
  --update      rewrite the expected calls of failing cases with what is
                planned now (review the diff before committing)
  --mutate      mutation testing: change each tested rule in small ways
                (thresholds up and down, >= and >, == and !=, and and or, a
                dropped clause, a changed literal, an env default used
                regardless of the environment), rerun its tests on each
                mutant, and list the mutants no test notices (survivors)
                with file:line:col; last line 'mutants N, killed K,
                survivors S'; exit 1 when one survives that its test
                file does not accept (mutations.accept, with a reason)
  --mutate-limit N  at most N mutants per rule (default ${DEFAULT_MUTATE_LIMIT})

Prints a line per case, a diff under each failure, and last the line
'N passed, N failed'. Exit codes: 0 all passed, 1 any failed, 2 bad usage.
`;

const command: Command = {
  summary: 'run rule tests (*.test.yaml)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      junit: { type: 'string' },
      update: { type: 'boolean' },
      mutate: { type: 'boolean' },
      'mutate-limit': { type: 'string' },
      coverage: { type: 'boolean' },
      'coverage-min': { type: 'string' },
      ...FORMAT_OPTIONS,
    });
    const format = outputFormat(values, ['text', 'github', 'json'] as const, 'text');
    const coverageMin = percentOption(values['coverage-min']);
    const coverage = values.coverage === true || coverageMin !== undefined ? new CoverageRecorder() : undefined;
    const mutate = values.mutate === true;
    if (mutate && format !== 'text') throw new UsageError('--mutate prints text only: leave out --format');
    const limit = intOption('mutate-limit', values['mutate-limit'], 1);
    if (!mutate && limit !== undefined) throw new UsageError('--mutate-limit goes with --mutate');
    if (mutate && (values.update === true || values.junit !== undefined || coverage)) throw new UsageError('--mutate cannot go with --update, --junit or --coverage');
    const paths = positionals.length > 0 ? positionals : [resolve('rules')];
    const files = discoverTestFiles(paths);
    if (files.length === 0) {
      process.stderr.write(`rules test: no *.test.yaml files in ${paths.join(', ')}\n`);
      process.stdout.write(mutate ? 'mutants 0, killed 0, survivors 0\n' : format === 'json' ? `${JSON.stringify({ format_version: TEST_FORMAT_VERSION, results: [], summary: { passed: 0, failed: 0, skipped: 0 } }, null, 2)}\n` : '0 passed, 0 failed\n');
      return EXIT.ERROR;
    }
    if (mutate) {
      const reports = await mutateTests(files, defaultRunnerDeps({ startFixturePortal }), {
        limit: limit ?? DEFAULT_MUTATE_LIMIT,
        onFile: (r) => process.stdout.write(formatMutationReport(r)),
      });
      process.stdout.write(`${mutationSummaryLine(reports)}\n`);
      const t = mutationTotals(reports);
      return t.survivors > t.accepted || t.errors > 0 ? EXIT.ERROR : EXIT.OK;
    }
    let current = '';
    const results = await runTests(files, defaultRunnerDeps({ startFixturePortal }), {
      update: values.update === true,
      ...(coverage ? { coverage } : {}),
      onResult(r) {
        if (format === 'json') return;
        if (r.file !== current) {
          current = r.file;
          process.stdout.write(`${r.file}\n`);
        }
        process.stdout.write(formatResult(r));
      },
    });
    if (values.junit) writeFileSync(values.junit, renderJunit(results));
    const failed = results.some((r) => r.status === 'failed' || r.status === 'error');
    const covered = coverage ? coverage.report() : undefined;
    const total = covered ? coverageTotals(covered).percent : undefined;
    const underMin = coverageMin !== undefined && total !== undefined && total < coverageMin;
    if (format === 'json') {
      const doc: Record<string, unknown> = {
        format_version: TEST_FORMAT_VERSION,
        results: results.map((r) => ({ file: r.file, name: r.name, line: r.line, status: r.status, ...(r.failure !== undefined ? { failure: r.failure } : {}) })),
        summary: { passed: results.filter((r) => r.status === 'passed').length, failed: results.filter((r) => r.status === 'failed' || r.status === 'error').length, skipped: results.filter((r) => r.status === 'skipped').length },
      };
      if (covered) doc.coverage = { ...coverageJson(covered), ...(coverageMin !== undefined ? { min: coverageMin, below_min: underMin } : {}) };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return failed || underMin ? EXIT.ERROR : EXIT.OK;
    }
    if (values.update) {
      const updated = results.filter((r) => r.status === 'failed' && r.actualCalls).length;
      if (updated > 0) process.stdout.write(`Updated the expected calls of ${updated} case${updated === 1 ? '' : 's'}; run again to check.\n`);
    }
    if (covered) {
      process.stdout.write(formatCoverage(covered));
      process.stdout.write(`${coverageSummaryLine(coverageTotals(covered))}\n`);
      if (underMin) process.stdout.write(`coverage ${total}% is under --coverage-min ${coverageMin}%\n`);
    }
    if (format === 'github') {
      process.stdout.write(testAnnotations(results));
      if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, testStepSummary(results));
    }
    process.stdout.write(`${summaryLine(results)}\n`);
    return failed || underMin ? EXIT.ERROR : EXIT.OK;
  },
};

/** Version of `rules test --format json`; bumped on incompatible changes. */
const TEST_FORMAT_VERSION = 1;

/** `--coverage-min N`: a percentage, 0 to 100. */
function percentOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--coverage-min must be a percentage from 0 to 100; got '${value}'`);
  return n;
}

export default command;
