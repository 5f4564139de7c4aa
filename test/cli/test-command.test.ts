/** `rules test` as a subprocess: the scenario library passes; failures show a diff, JUnit XML, --update. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const CASES = join(PACKAGE_ROOT, 'test', 'fixtures', 'dry-run', 'tests');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'rules-test-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of the cases, so --update can rewrite it; the fixtures path is made absolute for the new place. */
async function copyCases(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(CASES, dir, { recursive: true });
  const file = join(dir, 'route.test.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('../../../../rules/fixtures/', `${join(PACKAGE_ROOT, 'rules', 'fixtures')}/`));
  return dir;
}

describe.concurrent('rules test', () => {
  it('passes on every scenario rule test in rules/, ending with the summary line', async () => {
    const r = await runCli(['test', 'rules/']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    const last = lines.pop() as string;
    expect(last).toMatch(/^\d+ passed, 0 failed$/);
    expect(Number(last.split(' ')[0])).toBeGreaterThanOrEqual(30);
    expect(r.code).toBe(0);
    expect(lines).toContain('rules/03-route-leads.test.yaml');
  });

  it('shows a diff for a failing case, an error for a bad test file, writes JUnit, exits 1', async () => {
    const dir = await copyCases('fail');
    const junit = join(tmp, 'junit.xml');
    const r = await runCli(['test', dir, '--junit', junit]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  ✓ key accounts get the big lead');
    expect(r.stdout).toContain('  ✗ the partner lead goes to the wrong manager (fails on purpose)');
    expect(r.stdout).toContain('params.fields.ASSIGNED_BY_ID: expected 15, planned 9');
    expect(r.stdout).toMatch(/\+ 2\. im\.notify\.system\.add .*\(planned, not expected\)/);
    expect(r.stdout).toMatch(/broken\.test\.yaml:5: \/tests\/0\/expect: unknown key 'no_call'/);
    expect(r.stdout).toContain('  ✓ a rule with an unknown name in a template is refused');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('2 passed, 2 failed');
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuites name="rules test" tests="4" failures="1" errors="1" skipped="0"');
    expect(xml).toMatch(/<testcase classname="[^"]*route\.test\.yaml" name="the partner lead goes to the wrong manager \(fails on purpose\)"[^>]*>\n\s+<failure message="expected 1 call, planned 2:">/);
  });

  it('--update records the current plan as the expectation, keeping the comments', async () => {
    const dir = await copyCases('update');
    const file = join(dir, 'route.test.yaml');
    const first = await runCli(['test', file, '--update']);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('Updated the expected calls of 1 case; run again to check.');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# Test cases for test/cli/test-command.test.ts');
    expect(text).toContain('ASSIGNED_BY_ID: 9');
    const second = await runCli(['test', file]);
    expect(second.stdout.trimEnd().split('\n').pop()).toBe('3 passed, 0 failed');
    expect(second.code).toBe(0);
  });

  it('no test files: exit 1 with a message', async () => {
    const r = await runCli(['test', join(PACKAGE_ROOT, 'catalog')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no *.test.yaml files');
  });
});
