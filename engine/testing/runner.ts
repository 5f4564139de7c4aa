/**
 * The rule-test runner: for each case of each `*.test.yaml`, load the rules
 * under test, turn the case's event or time into inbox items, plan them on the
 * case's fixtures (through the injected planner: the real one runs the engine
 * in plan mode against an in-process emulator, read-only) and check the
 * expectation. With `update`, failing call expectations are rewritten with
 * what is planned now.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { eventItems, formItem, InputFileError, manualItem, parseAt, scheduleItem, scheduleItemsAt, type PlanDocument } from '../plan/index.js';
import type { CompiledRule, Diagnostic, LoadResult } from '../rules/index.js';
import type { InboxItemInput } from '../store/index.js';
import { checkLoadErrors, checkPlan, plannedWrites } from './check.js';
import type { CoverageRecorder } from './coverage.js';
import { readFixturesFile } from './fixtures.js';
import { loadTestFile } from './load-test-file.js';
import type { Simulation, SimulationInput } from './simulate.js';
import { eventInput, runSteps } from './steps.js';
import type { ExpectedCall, FixtureData, RuleTestCase, RuleTestFile, TestResult } from './types.js';
import { parseYamlSource } from './yaml-source.js';

/** What planning one case needs. */
export interface CasePlanInput {
  rules: CompiledRule[];
  ruleFiles: string[];
  at: number;
  items: InboxItemInput[];
  events: number;
  scheduleTicks: Array<{ rule: string; at: string }>;
  fixtures: FixtureData;
  fixturesLabel: string;
  snapshots?: Record<string, Record<string, Record<string, unknown>>>;
  /** Dedupe keys already used (rule id → keys). */
  dedupe?: Record<string, string[]>;
  env: Record<string, string>;
}

export interface RunnerDeps {
  loadRules(paths: string[]): Promise<LoadResult> | LoadResult;
  formatDiagnostics(diagnostics: Diagnostic[]): string;
  plan(input: CasePlanInput): Promise<PlanDocument>;
  /** Cases with `steps:`: the engine in run mode on the case's fixtures, with a clock the steps move. */
  simulate?(input: SimulationInput): Promise<Simulation>;
}

export interface RunOptions {
  /** Rewrite failing call expectations with the current plan. @default false */
  update?: boolean;
  /** Base for relative paths in output. @default process.cwd() */
  cwd?: string;
  /** Called with each result as soon as it is known. */
  onResult?(result: TestResult): void;
  /** Record what the cases exercise (`rules test --coverage`): the rules are planned through it. */
  coverage?: CoverageRecorder;
}

function errorsOf(load: LoadResult): Diagnostic[] {
  return load.diagnostics.filter((d) => d.severity === 'error');
}

/** Run every case of the given test files, in order. */
export async function runTests(files: string[], deps: RunnerDeps, options: RunOptions = {}): Promise<TestResult[]> {
  const cwd = options.cwd ?? process.cwd();
  const results: TestResult[] = [];
  const emit = (r: TestResult): void => {
    results.push(r);
    options.onResult?.(r);
  };
  const fixtureCache = new Map<string, FixtureData>();
  for (const path of files) {
    let file: RuleTestFile;
    try {
      file = loadTestFile(path, cwd);
    } catch (err) {
      const e = err as Error;
      emit({ file: relative(cwd, path) || path, name: '(test file)', line: err instanceof InputFileError ? (err.line ?? 1) : 1, status: 'error', failure: e.message, duration: 0 });
      continue;
    }
    let fileLoad = await deps.loadRules(file.rules);
    if (options.coverage && errorsOf(fileLoad).length === 0) fileLoad = { ...fileLoad, rules: options.coverage.instrument(fileLoad.rules) };
    const updates: Array<{ index: number; calls: ExpectedCall[] }> = [];
    for (const c of file.cases) {
      const started = performance.now();
      const base = { file: file.display, name: c.name, line: c.line };
      if (c.skip) {
        emit({ ...base, status: 'skipped', duration: 0 });
        continue;
      }
      try {
        const { failure, actual } = await runCase(c, file, fileLoad, deps, fixtureCache, cwd, options.coverage);
        const result: TestResult = { ...base, status: failure ? 'failed' : 'passed', duration: performance.now() - started };
        if (failure) result.failure = failure;
        if (actual) result.actualCalls = actual;
        if (failure && actual && options.update && !c.expect.error) updates.push({ index: c.index, calls: actual });
        emit(result);
      } catch (err) {
        const e = err as Error & { code?: string };
        emit({ ...base, status: 'error', failure: `${e.code ? `${e.code}: ` : ''}${e.message}`, duration: performance.now() - started });
      }
    }
    if (updates.length > 0) writeUpdates(file.file, updates);
  }
  return results;
}

async function runCase(
  c: RuleTestCase,
  file: RuleTestFile,
  fileLoad: LoadResult,
  deps: RunnerDeps,
  fixtureCache: Map<string, FixtureData>,
  cwd: string,
  fileCoverage: CoverageRecorder | undefined,
): Promise<{ failure: string | null; actual?: ExpectedCall[] }> {
  let load = fileLoad;
  // An inline rule is the case's own, not one of the rules under test.
  const coverage = c.rule === undefined ? fileCoverage : undefined;
  let ruleFiles = file.rules;
  if (c.rule !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'rules-test-'));
    try {
      const inline = join(dir, 'inline-rule.yaml');
      writeFileSync(inline, c.rule);
      load = await deps.loadRules([inline]);
      ruleFiles = [inline];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const loadErrors = errorsOf(load);
  if (loadErrors.length > 0) return { failure: checkLoadErrors(c.expect, loadErrors, deps.formatDiagnostics) };
  if (c.steps) {
    if (!deps.simulate) throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, 'this runner cannot run cases with steps');
    const at = parseAt(c.at);
    if (at === null) throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, `at '${c.at}' is not an ISO 8601 time with an offset`);
    const { fixtures } = caseFixtures(c, file, fixtureCache, cwd);
    const input: SimulationInput = { rules: load.rules, at, fixtures, env: c.env };
    if (c.snapshots) input.snapshots = c.snapshots;
    if (c.dedupe) input.dedupe = c.dedupe;
    const sim = await deps.simulate(input);
    return { failure: await runSteps(c.steps, coverage ? coverage.simulation(sim) : sim) };
  }
  if (c.events.length === 0 && !c.schedule && !c.tick && !c.webhook && !c.manual) {
    return { failure: c.expect.error ? `expected a validation error with ${JSON.stringify(c.expect.error)}, but the rules are valid` : null };
  }
  const at = parseAt(c.at);
  if (at === null) throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, `at '${c.at}' is not an ISO 8601 time with an offset`);
  let items: InboxItemInput[];
  if (c.schedule) {
    const rule = load.rules.find((r) => r.id === c.schedule);
    if (!rule || rule.trigger.kind !== 'schedule') {
      throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, `schedule: '${c.schedule}' is not a schedule rule of ${file.rules.map((r) => relative(cwd, r)).join(', ')}`);
    }
    items = [scheduleItem(rule, at, at)];
  } else if (c.tick) {
    items = scheduleItemsAt(load.rules, at);
  } else if (c.webhook) {
    const path = c.webhook.path;
    const rule = load.rules.find((r) => r.trigger.kind === 'webhook' && r.trigger.path === path);
    if (!rule) throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, `webhook: no rule under test has the webhook path '${path}'`);
    items = [formItem(rule.id, c.webhook, at)];
  } else if (c.manual) {
    const id = c.manual.rule;
    if (!load.rules.some((r) => r.id === id)) throw new InputFileError('RULE_TEST_INVALID', file.display, c.line, `manual: '${id}' is not a rule under test`);
    items = [manualItem(id, c.manual.params ?? {}, at)];
  } else {
    items = eventItems(c.events.map((e) => eventInput(e, at)), at);
  }
  const { fixtures, fixturesLabel } = caseFixtures(c, file, fixtureCache, cwd);
  const input: CasePlanInput = {
    rules: load.rules,
    ruleFiles,
    at,
    items,
    events: c.events.length,
    scheduleTicks: items.filter((i) => i.source === 'schedule').map((i) => ({ rule: i.ruleId ?? '', at: String((i.payload.schedule as { at: string }).at) })),
    fixtures,
    fixturesLabel,
    env: c.env,
  };
  if (c.snapshots) input.snapshots = c.snapshots;
  if (c.dedupe) input.dedupe = c.dedupe;
  const plan = await deps.plan(input);
  coverage?.recordPlan(plan);
  const actual = plannedWrites(plan);
  return { failure: checkPlan(c.expect, plan), actual };
}

/** A case's portal data and how to name it. */
function caseFixtures(c: RuleTestCase, file: RuleTestFile, fixtureCache: Map<string, FixtureData>, cwd: string): { fixtures: FixtureData; fixturesLabel: string } {
  if (c.fixtures && 'file' in c.fixtures) {
    const path = c.fixtures.file;
    const fixturesLabel = relative(cwd, path);
    const fixtures = fixtureCache.get(path) ?? readFixturesFile(path, fixturesLabel);
    fixtureCache.set(path, fixtures);
    return { fixtures, fixturesLabel };
  }
  if (c.fixtures) return { fixtures: c.fixtures.inline, fixturesLabel: `${file.display} (inline)` };
  return { fixtures: {}, fixturesLabel: '(none)' };
}

/** Rewrite `expect.calls` / `expect.no_calls` of the given cases, keeping comments and everything else. */
function writeUpdates(path: string, updates: Array<{ index: number; calls: ExpectedCall[] }>): void {
  const src = parseYamlSource(readFileSync(path, 'utf8'));
  for (const u of updates) {
    const expectPath = ['tests', u.index, 'expect'];
    src.doc.deleteIn([...expectPath, 'calls']);
    src.doc.deleteIn([...expectPath, 'no_calls']);
    if (u.calls.length === 0) src.doc.setIn([...expectPath, 'no_calls'], true);
    else src.doc.setIn([...expectPath, 'calls'], src.doc.createNode(u.calls.map((c) => ({ method: c.method, params: c.params }))));
  }
  writeFileSync(path, src.doc.toString({ lineWidth: 0 }));
}

/** The summary line: exactly `N passed, N failed` (errors count as failed; skipped cases are not counted). */
export function summaryLine(results: TestResult[]): string {
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'error').length;
  return `${passed} passed, ${failed} failed`;
}
