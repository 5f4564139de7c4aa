/** Read and validate a `*.test.yaml` file into test cases with resolved paths and defaults. */
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { stringify } from 'yaml';
import { SCHEMAS_DIR } from '../paths.js';
import { InputFileError, parseAt } from '../plan/index.js';
import { DurationError, parseDuration } from '../time/index.js';
import { checkFixtures } from './fixtures.js';
import type { RuleTestCase, RuleTestFile, StepExpectation, TestEvent, TestExpectation, TestStep } from './types.js';
import { parseYamlSource } from './yaml-source.js';

let validator: ReturnType<Ajv2020['compile']> | undefined;

function validate(value: unknown): ErrorObject[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, 'rule-test.schema.json'), 'utf8')) as Record<string, unknown>;
    validator = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(value) ? [] : (validator.errors ?? []);
}

/** The most useful of ajv's errors: the deepest path; `oneOf` noise dropped when a deeper error exists. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const sorted = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length || (a.keyword === 'oneOf' ? 1 : 0) - (b.keyword === 'oneOf' ? 1 : 0));
  return sorted[0] as ErrorObject;
}

function describeAjv(e: ErrorObject): string {
  const where = e.instancePath || '(top level)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`;
  if (e.keyword === 'required') return `${where}: missing '${String((e.params as { missingProperty?: string }).missingProperty)}'`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Default rule file for a test file: `03-x.test.yaml` → `03-x.yaml` (or .yml). */
function defaultRuleFile(file: string): string {
  const base = basename(file).replace(/\.test\.ya?ml$/, '');
  const yaml = join(dirname(file), `${base}.yaml`);
  return existsSync(yaml) || !existsSync(join(dirname(file), `${base}.yml`)) ? yaml : join(dirname(file), `${base}.yml`);
}

function eventOf(e: TestEvent): TestEvent {
  return { ...e, name: e.name.toUpperCase() };
}

/** Load one test file. Throws InputFileError (RULE_TEST_INVALID) with file:line on any problem. */
export function loadTestFile(file: string, cwd = process.cwd()): RuleTestFile {
  const abs = resolve(cwd, file);
  const display = relative(cwd, abs) || abs;
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new InputFileError('RULE_TEST_INVALID', display, undefined, `cannot read the test file: ${(err as Error).message}`, { cause: err });
  }
  const src = parseYamlSource(text);
  const yamlErr = src.doc.errors[0];
  if (yamlErr) {
    const line = src.lines.linePos(yamlErr.pos[0]).line;
    throw new InputFileError('RULE_TEST_INVALID', display, line, `YAML syntax: ${yamlErr.message.split('\n')[0] ?? ''}`);
  }
  const value = src.doc.toJS() as unknown;
  const errors = validate(value);
  if (errors.length > 0) {
    const e = pickError(errors);
    const extra = e.keyword === 'additionalProperties' ? `/${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
    throw new InputFileError('RULE_TEST_INVALID', display, src.lineOf(`${e.instancePath}${extra}`), `${describeAjv(e)} (see docs/rule-tests.md)`);
  }
  const doc = value as {
    rules?: string | string[];
    fixtures?: string | Record<string, unknown>;
    at?: string;
    env?: Record<string, string>;
    tests: Array<Record<string, unknown>>;
  };
  const dir = dirname(abs);
  const rules = (doc.rules === undefined ? [defaultRuleFile(abs)] : ([] as string[]).concat(doc.rules).map((r) => resolve(dir, r)));
  if (!doc.rules) {
    const r = rules[0] as string;
    if (!existsSync(r)) throw new InputFileError('RULE_TEST_INVALID', display, 1, `no rule file ${relative(cwd, r)} beside the test; name the rules under test with 'rules: FILE'`);
  }
  const fixturesOf = (f: unknown, pointer: string): RuleTestCase['fixtures'] => {
    if (f === undefined) return undefined;
    if (typeof f === 'string') {
      const path = resolve(dir, f);
      if (!existsSync(path)) throw new InputFileError('RULE_TEST_INVALID', display, src.lineOf(pointer), `fixtures file not found: ${relative(cwd, path)}`);
      return { file: path };
    }
    return { inline: checkFixtures(f, display, (p) => src.lineOf(`${pointer}${p}`)) };
  };
  const fileFixtures = fixturesOf(doc.fixtures, '/fixtures');
  const cases = doc.tests.map((t, index): RuleTestCase => {
    const pointer = `/tests/${index}`;
    const line = src.lineOf(pointer);
    const at = (t.at as string | undefined) ?? doc.at;
    const triggers = ['event', 'events', 'schedule', 'tick', 'webhook', 'manual'].filter((k) => t[k] !== undefined);
    const expect = (t.expect as TestExpectation | undefined) ?? {};
    if (t.steps !== undefined) {
      if (triggers.length > 0 || t.expect !== undefined || t.rule !== undefined) {
        throw new InputFileError('RULE_TEST_INVALID', display, line, `test '${String(t.name)}': a case with steps: gives its events and expectations in the steps, not ${[...triggers, ...(t.expect !== undefined ? ['expect'] : []), ...(t.rule !== undefined ? ['rule'] : [])].join(' and ')}`);
      }
      if (!at) throw new InputFileError('RULE_TEST_INVALID', display, line, `test '${String(t.name)}': no clock; set 'at:' on the test or at the top of the file (e.g. at: "2026-11-24T09:00:00+03:00")`);
    } else if (triggers.length > 1) throw new InputFileError('RULE_TEST_INVALID', display, line, `test '${String(t.name)}': give one of event, events, schedule, tick, webhook or manual, not ${triggers.join(' and ')}`);
    else if (triggers.length === 0 && !expect.error) throw new InputFileError('RULE_TEST_INVALID', display, line, `test '${String(t.name)}': give what happens: event, events, schedule, tick, webhook or manual (or expect an error)`);
    else if (!at && triggers.length > 0) throw new InputFileError('RULE_TEST_INVALID', display, line, `test '${String(t.name)}': no clock; set 'at:' on the test or at the top of the file (e.g. at: "2026-11-24T09:00:00+03:00")`);
    const c: RuleTestCase = {
      name: String(t.name),
      line,
      skip: t.skip === true,
      at: at ?? '2026-01-01T00:00:00Z',
      events: t.event ? [eventOf(t.event as TestEvent)] : ((t.events as TestEvent[] | undefined) ?? []).map(eventOf),
      tick: t.tick === true,
      env: { ...(doc.env ?? {}), ...((t.env as Record<string, string> | undefined) ?? {}) },
      expect,
      index,
    };
    const fx = t.fixtures !== undefined ? fixturesOf(t.fixtures, `${pointer}/fixtures`) : fileFixtures;
    if (fx) c.fixtures = fx;
    if (typeof t.schedule === 'string') c.schedule = t.schedule;
    if (t.rule !== undefined) c.rule = typeof t.rule === 'string' ? t.rule : stringify(t.rule);
    if (t.snapshots) c.snapshots = t.snapshots as RuleTestCase['snapshots'];
    if (t.webhook) c.webhook = t.webhook as RuleTestCase['webhook'];
    if (t.manual) c.manual = t.manual as RuleTestCase['manual'];
    if (t.dedupe) c.dedupe = t.dedupe as RuleTestCase['dedupe'];
    if (Array.isArray(t.steps)) c.steps = (t.steps as Array<Record<string, unknown>>).map((st, k) => stepOf(st, `${pointer}/steps/${k}`));
    return c;
  });
  return { file: abs, display, rules, cases };

  function stepOf(st: Record<string, unknown>, pointer: string): TestStep {
    const line = src.lineOf(pointer);
    const step: TestStep = { line, events: st.event ? [eventOf(st.event as TestEvent)] : ((st.events as TestEvent[] | undefined) ?? []).map(eventOf), expect: st.expect as StepExpectation };
    if (st.advance !== undefined && st.advance_to !== undefined) throw new InputFileError('RULE_TEST_INVALID', display, line, 'a step gives advance or advance_to, not both');
    if (st.advance !== undefined) {
      try {
        step.advance = parseDuration(st.advance);
      } catch (err) {
        if (!(err instanceof DurationError)) throw err;
        throw new InputFileError('RULE_TEST_INVALID', display, src.lineOf(`${pointer}/advance`), `advance: ${err.message}`);
      }
    }
    if (typeof st.advance_to === 'string') step.advanceTo = parseAt(st.advance_to) ?? Number.NaN;
    if (st.portal) step.portal = st.portal as TestStep['portal'];
    for (const t of step.expect.timers ?? []) {
      if (t.fires_at !== undefined && parseAt(t.fires_at) === null) throw new InputFileError('RULE_TEST_INVALID', display, line, `timers: fires_at '${t.fires_at}' is not an ISO 8601 time with an offset`);
    }
    return step;
  }
}
