/**
 * Rule tests (`*.test.yaml` beside the rules; format in docs/rule-tests.md,
 * schema in schemas/rule-test.schema.json) as loaded, and their results.
 */

/** An event in a test: a Bitrix24 event code and its data (or the ID shorthand). */
export interface TestEvent {
  name: string;
  id?: string | number;
  data?: Record<string, unknown>;
  ts?: string | number;
}

export interface ExpectedCall {
  method: string;
  params?: Record<string, unknown>;
  rule?: string;
  /** The call of a shadow rule (journaled, never sent); compared only when an expectation gives it. */
  shadow?: boolean;
}

export interface TestExpectation {
  calls?: ExpectedCall[];
  no_calls?: true;
  conditions?: Record<string, boolean | { value: boolean; reason?: string }>;
  not_triggered?: string[];
  /** Rule ids whose run was stopped by its dedupe key (a key already used), before the condition. */
  deduped?: string[];
  error?: { code?: string; message?: string; line?: number };
}

/** What one step of a case must have fired, and the timers left pending after it. */
export interface StepExpectation {
  calls?: ExpectedCall[];
  no_calls?: true;
  /** The pending timers after the step, earliest first: same count, each matching the given keys. */
  timers?: Array<{ rule?: string; kind?: string; fires_at?: string }>;
}

/**
 * One step of a case with `steps:`: time passes (`advance`), a person changes the
 * portal (`portal`), events arrive; the engine works until it is quiet.
 */
export interface TestStep {
  /** 1-based line of the step in its file. */
  line: number;
  /** Milliseconds to let pass, or the moment to move to (ms since epoch). */
  advance?: number;
  advanceTo?: number;
  portal?: Array<{ method: string; params?: Record<string, unknown> }>;
  events: TestEvent[];
  expect: StepExpectation;
}

/** Portal data for a test: entity name → records (see engine/testing/fixtures.ts). */
export type FixtureData = Record<string, unknown>;

export interface RuleTestCase {
  name: string;
  /** 1-based line of the case in its file. */
  line: number;
  skip: boolean;
  at: string;
  /** Resolved fixtures: a file path (absolute) or inline data; undefined = empty portal. */
  fixtures?: { file: string } | { inline: FixtureData };
  /** Inline rule source (YAML text) replacing the file's rules. */
  rule?: string;
  events: TestEvent[];
  schedule?: string;
  tick: boolean;
  snapshots?: Record<string, Record<string, Record<string, unknown>>>;
  /** A form-webhook request. */
  webhook?: { path: string; body?: unknown; query?: Record<string, unknown>; headers?: Record<string, unknown> };
  /** A manual run. */
  manual?: { rule: string; params?: Record<string, unknown> };
  /** Dedupe keys already used (rule id → keys). */
  dedupe?: Record<string, string[]>;
  /** Values for env.NAME (file's merged with the case's). */
  env: Record<string, string>;
  expect: TestExpectation;
  /** A case in steps, run by the engine in run mode with a clock the steps move (docs/rule-tests.md, Steps and time). */
  steps?: TestStep[];
  /** YAML path of `expect` in the file (for --update). */
  index: number;
}

export interface RuleTestFile {
  /** Absolute path. */
  file: string;
  /** Path as given/shown (relative to cwd). */
  display: string;
  /** Rule files under test (absolute). */
  rules: string[];
  cases: RuleTestCase[];
}

export type TestStatus = 'passed' | 'failed' | 'skipped' | 'error';

export interface TestResult {
  file: string;
  name: string;
  line: number;
  status: TestStatus;
  /** Readable explanation of a failure (a diff of expected and planned calls). */
  failure?: string;
  /** Milliseconds. */
  duration: number;
  /** The planned write calls (for --update). */
  actualCalls?: ExpectedCall[];
}
