/**
 * `rules test --coverage` as a user runs it (the CLI as a subprocess): which
 * rules acted, which condition clauses were found true and false and which
 * `when:` branches were taken, with the file:line:col of what was never
 * reached. Scenario 9 with some of its own cases: the clauses those cases do
 * not reach are listed (worked out below from what each case does), and
 * adding a case that reaches one takes it off the list.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES_DIR } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-coverage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Uncovered {
  file: string;
  line: number;
  col: number;
  rule: string;
  kind: string;
  what: string;
  missing: string;
}
interface CoverageDoc {
  results: Array<{ status: string }>;
  coverage: { rules: Array<{ id: string; acted: number; skipped: number; clauses: Array<{ text: string; true: number; false: number }> }>; uncovered: Uncovered[]; totals: { percent: number } };
}

const RULE = 'rules/09-lead-scoring.yaml';
const ruleLines = readFileSync(join(RULES_DIR, '09-lead-scoring.yaml'), 'utf8').split('\n');
const realTests = parse(readFileSync(join(RULES_DIR, '09-lead-scoring.test.yaml'), 'utf8')) as { fixtures: string; at: string; tests: Array<{ name: string }> };

/** Where `text` is written in the rule file: the nth line holding it (1-based), and its column. */
function at(text: string, nth = 1): { line: number; col: number } {
  const hits = ruleLines.flatMap((l, i) => (l.includes(text) ? [{ line: i + 1, col: l.indexOf(text) + 1 }] : []));
  const hit = hits[nth - 1];
  if (!hit) throw new Error(`'${text}' is not written ${nth} times in ${RULE}`);
  return hit;
}

/** A copy of scenario 9 whose test file holds the named cases of the real one, in a folder of its own. */
function scenario9(caseNames: string[]): string {
  const root = mkdtempSync(join(tmp, 'run-'));
  mkdirSync(join(root, 'rules', 'fixtures'), { recursive: true });
  cpSync(join(RULES_DIR, '09-lead-scoring.yaml'), join(root, RULE));
  cpSync(join(RULES_DIR, realTests.fixtures), join(root, 'rules', realTests.fixtures));
  const tests = caseNames.map((name) => {
    const c = realTests.tests.find((t) => t.name === name);
    if (!c) throw new Error(`no case '${name}' in rules/09-lead-scoring.test.yaml`);
    return c;
  });
  writeFileSync(join(root, 'rules', '09-lead-scoring.test.yaml'), stringify({ fixtures: realTests.fixtures, at: realTests.at, tests }));
  return root;
}

async function coverage(root: string, extra: string[] = []): Promise<{ code: number | null; doc: CoverageDoc }> {
  const r = await runCli(['test', '--coverage', '--format', 'json', ...extra, 'rules/09-lead-scoring.test.yaml'], { cwd: root });
  expect(r.stderr).toBe('');
  return { code: r.code, doc: JSON.parse(r.stdout) as CoverageDoc };
}

const HOT_NEW = 'a partner lead with everything scores 90 and is announced as hot';
const JUNK = 'junk leads are not re-scored';
const SOURCE_ALONE = 'a change of SOURCE_ID alone re-scores the lead (its score stays 30, so nothing is written)';
const OR_FIELDS = ['SOURCE_ID', 'HAS_PHONE', 'HAS_EMAIL', 'OPPORTUNITY', 'COMPANY_TITLE'];

const entry = (rule: string, where: { line: number; col: number }, kind: string, what: string, missing: string): Uncovered => ({ file: RULE, ...where, rule, kind, what, missing });
const status = (rule: string, missing: string) => entry(rule, at(`id: ${rule}`), 'rule', 'the rule', missing);
const statusClause = (missing: string) => entry('lead-score-update', at('"==": [{ var: lead.STATUS_SEMANTIC_ID }, P]'), 'clause', 'condition lead.STATUS_SEMANTIC_ID == "P"', missing);
const changedClause = (field: string, missing: string) => entry('lead-score-update', at(`changed: [${field}]`), 'clause', `condition changed("${field}")`, missing);
// Each rule has `when: { var: became_hot }` on its notify (actions[1]) and its task (actions[2]): lead-score-new's first.
const when = (rule: string, action: 1 | 2, missing: string) =>
  entry(rule, at('when: { var: became_hot }', (rule === 'lead-score-new' ? 0 : 2) + action), 'when', `actions[${action}] (${action === 1 ? 'notify' : 'task'}) when became_hot`, missing);

describe('rules test --coverage', () => {
  it('lists the clauses of scenario 9 its cases do not reach, and a case that reaches one takes it off', async () => {
    // The hot partner lead: lead-score-new acts and takes both when: branches, never passes one over.
    // The junk lead: lead-score-update's condition is false at its first clause (STATUS_SEMANTIC_ID is not P),
    // so its or: of changed fields is never reached, nor are its when:s; the rule never acts.
    const before = await coverage(scenario9([HOT_NEW, JUNK]));
    expect(before.doc.results.map((r) => r.status)).toEqual(['passed', 'passed']);
    expect(before.doc.coverage.uncovered).toEqual([
      when('lead-score-new', 1, 'never passed over'),
      when('lead-score-new', 2, 'never passed over'),
      status('lead-score-update', 'never acted'),
      statusClause('never true'),
      ...OR_FIELDS.map((f) => changedClause(f, 'not reached')),
      when('lead-score-update', 1, 'not reached'),
      when('lead-score-update', 2, 'not reached'),
    ]);
    expect(before.code).toBe(0);

    // A change of SOURCE_ID alone: the lead is open (the status clause is now seen true too, so it leaves
    // the list), the first changed: is true and the or: stops there; the score stays 30, not hot.
    const after = await coverage(scenario9([HOT_NEW, JUNK, SOURCE_ALONE]));
    expect(after.doc.results.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
    expect(after.doc.coverage.uncovered).toEqual([
      when('lead-score-new', 1, 'never passed over'),
      when('lead-score-new', 2, 'never passed over'),
      changedClause('SOURCE_ID', 'never false'),
      ...OR_FIELDS.slice(1).map((f) => changedClause(f, 'not reached')),
      when('lead-score-update', 1, 'never taken'),
      when('lead-score-update', 2, 'never taken'),
    ]);
    expect(after.doc.coverage.totals.percent).toBeGreaterThan(before.doc.coverage.totals.percent);
  });

  it('prints the table, what was not reached with file:line:col, and the summary line; --coverage-min fails under it', async () => {
    const root = scenario9([HOT_NEW, JUNK]);
    const r = await runCli(['test', '--coverage', 'rules/09-lead-scoring.test.yaml'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^coverage\n {2}rule +file +acted +skipped +clauses +when$/m);
    expect(out).toMatch(new RegExp(`^  lead-score-update +${RULE}:${at('id: lead-score-update').line} +0 +1 +1/12 +0/4$`, 'm'));
    const s = at('"==": [{ var: lead.STATUS_SEMANTIC_ID }, P]');
    expect(out).toContain(`\nnot covered\n`);
    expect(out).toContain(`  ${RULE}:${s.line}:${s.col} lead-score-update: condition lead.STATUS_SEMANTIC_ID == "P": never true\n`);
    // 1 of 2 rules acted, 1 of 12 clause outcomes, 2 of 8 when outcomes: 4 of 22.
    expect(out).toContain('coverage: rules acted 1/2 (50%), clause outcomes 1/12 (8.3%), when branches 2/8 (25%); total 18.2%\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe('2 passed, 0 failed');

    const under = await runCli(['test', '--coverage-min', '20', 'rules/09-lead-scoring.test.yaml'], { cwd: root });
    expect(under.code).toBe(1);
    expect(under.stdout).toContain('coverage 18.2% is under --coverage-min 20%\n');
    const over = await coverage(root, ['--coverage-min', '18']);
    expect(over.code).toBe(0);
    const bad = await runCli(['test', '--coverage-min', '120', 'rules/09-lead-scoring.test.yaml'], { cwd: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--coverage-min must be a percentage from 0 to 100');
    const plain = await runCli(['test', '--format', 'json', 'rules/09-lead-scoring.test.yaml'], { cwd: root });
    expect(JSON.parse(plain.stdout)).toEqual({ format_version: 1, results: [expect.objectContaining({ status: 'passed' }), expect.objectContaining({ status: 'passed' })], summary: { passed: 2, failed: 0, skipped: 0 } });
  });

  it('counts a run outside its rollout: as skipped, though its condition held', async () => {
    // lead-score-update at 0 %: the SOURCE_ID change holds its condition, and the rollout skips the run.
    const root = scenario9([HOT_NEW, JUNK, SOURCE_ALONE]);
    const file = join(root, RULE);
    writeFileSync(file, readFileSync(file, 'utf8').replace('id: lead-score-update\n', 'id: lead-score-update\nrollout: { percent: 0 }\n'));
    const { doc } = await coverage(root);
    expect(doc.results.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
    const rule = doc.coverage.rules.find((x) => x.id === 'lead-score-update')!;
    expect({ acted: rule.acted, skipped: rule.skipped }).toEqual({ acted: 0, skipped: 2 });
    expect(doc.coverage.uncovered).toContainEqual(status('lead-score-update', 'never acted'));
  });

  it('counts the runs of a case in steps: scenario 16 acts, then its recheck finds the lead taken into work', async () => {
    const root = mkdtempSync(join(tmp, 'steps-'));
    mkdirSync(join(root, 'rules', 'fixtures'), { recursive: true });
    for (const f of ['16-lead-not-contacted.yaml', 'calendars.yaml', 'fixtures/16-lead-not-contacted.fixtures.yaml']) cpSync(join(RULES_DIR, f), join(root, 'rules', f));
    const real = parse(readFileSync(join(RULES_DIR, '16-lead-not-contacted.test.yaml'), 'utf8')) as { tests: Array<{ name: string; steps?: unknown }> } & Record<string, unknown>;
    const tests = real.tests.filter((t) => t.name === 'taken into work within 2 business hours → nothing happens');
    expect(tests[0]?.steps).toBeDefined();
    writeFileSync(join(root, 'rules', '16-lead-not-contacted.test.yaml'), stringify({ ...real, tests, mutations: undefined }));
    const r = await runCli(['test', '--coverage', '--format', 'json', 'rules/16-lead-not-contacted.test.yaml'], { cwd: root });
    const doc = JSON.parse(r.stdout) as CoverageDoc;
    expect(doc.results.map((x) => x.status)).toEqual(['passed']);
    const rule = doc.coverage.rules.find((x) => x.id === 'lead-not-contacted')!;
    // One run: it notified and waited (acted); at the recheck the lead is no longer NEW.
    expect({ acted: rule.acted, skipped: rule.skipped }).toEqual({ acted: 1, skipped: 0 });
    expect(rule.clauses.map((c) => [c.text, c.true, c.false])).toEqual([
      ['lead.STATUS_ID == "NEW"', 1, 1],
      ['activities.0.ID', 0, 1],
    ]);
  });
});
