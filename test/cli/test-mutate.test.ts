/**
 * `rules test --mutate` as a subprocess: a planted weak test (one case far
 * above a threshold, one far below) lets the threshold and comparison mutants
 * survive, reported with file:line:col, exit 1; cases at and just above the
 * threshold kill them, exit 0.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const RULE = `id: big-deal
description: Notify the director of a deal above 5,000,000.
trigger:
  event: ONCRMDEALADD
condition:
  ">": [{ var: deal.OPPORTUNITY }, 5000000]
actions:
  - notify: { user: 1, message: "Big deal {{ deal.ID }}" }
`;

const deal = (id: string, amount: string): string => `    - { ID: "${id}", TITLE: Deal ${id}, STAGE_SEMANTIC_ID: P, CATEGORY_ID: "0", OPPORTUNITY: "${amount}", CURRENCY_ID: RUB, ASSIGNED_BY_ID: "1" }\n`;

/** Cases far from the threshold only: every one passes whatever the threshold is, within a fifth. */
const WEAK_TESTS = `rules: [big-deal.yaml]
at: "2026-11-24T09:00:00+03:00"
fixtures:
  users:
    - { ID: "1", NAME: Anna, LAST_NAME: Titova, ACTIVE: true }
  deals:
${deal('1', '9000000.00')}${deal('2', '100000.00')}${deal('3', '5000000.00')}${deal('4', '5000001.00')}
tests:
  - name: a deal of 9 million is reported
    event: { name: ONCRMDEALADD, id: 1 }
    expect:
      calls: [{ method: im.notify.system.add, params: { USER_ID: 1 } }]
  - name: a small deal is not
    event: { name: ONCRMDEALADD, id: 2 }
    expect: { no_calls: true, conditions: { big-deal: false } }
`;

const BOUNDARY_CASES = `  - name: a deal of exactly 5 million is not reported
    event: { name: ONCRMDEALADD, id: 3 }
    expect: { no_calls: true, conditions: { big-deal: false } }
  - name: a deal just above 5 million is reported
    event: { name: ONCRMDEALADD, id: 4 }
    expect:
      calls: [{ method: im.notify.system.add, params: { USER_ID: 1 } }]
`;

/** `mutations:` in test files needs its place in the test-file schema (added separately from this test). */
const SCHEMA_HAS_MUTATIONS = 'mutations' in ((JSON.parse(readFileSync(`${SCHEMAS_DIR}/rule-test.schema.json`, 'utf8')) as { properties?: object }).properties ?? {});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'rules-test-mutate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function project(name: string, tests: string): Promise<string> {
  const dir = join(tmp, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'big-deal.yaml'), RULE);
  await writeFile(join(dir, 'big-deal.test.yaml'), tests);
  return dir;
}

describe.concurrent('rules test --mutate', () => {
  it('reports the threshold and comparison mutants a weak test lets through, with file:line:col, and exits 1', async () => {
    const dir = await project('weak', WEAK_TESTS);
    const plain = await runCli(['test', dir], { cwd: dir });
    expect(plain.stdout.trimEnd().split('\n').pop()).toBe('2 passed, 0 failed');
    const r = await runCli(['test', '--mutate', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('big-deal.yaml (tests: big-deal.test.yaml)');
    expect(r.stdout).toContain('  big-deal.yaml:6:3 > → >= survived (comparison, rule big-deal)');
    expect(r.stdout).toContain('  big-deal.yaml:6:36 5000000 → 4000000 survived (threshold, rule big-deal)');
    expect(r.stdout).toContain('  big-deal.yaml:6:36 5000000 → 6000000 survived (threshold, rule big-deal)');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('mutants 3, killed 0, survivors 3');
    expect(r.code).toBe(1);
  });

  it('cases at and just above the threshold kill those mutants: exit 0', async () => {
    const dir = await project('boundary', WEAK_TESTS + BOUNDARY_CASES);
    const r = await runCli(['test', '--mutate', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('survived');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('mutants 3, killed 3, survivors 0');
    expect(r.code).toBe(0);
  });

  it('does not mutate rules whose tests already fail, and says so (exit 1)', async () => {
    const dir = await project('failing', WEAK_TESTS.replace('USER_ID: 1 }', 'USER_ID: 2 }'));
    const r = await runCli(['test', '--mutate', dir], { cwd: dir });
    expect(r.stdout).toMatch(/✗ not mutated: the tests fail before any mutation: big-deal\.test\.yaml:\d+ a deal of 9 million is reported/);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('mutants 0, killed 0, survivors 0');
    expect(r.code).toBe(1);
  });

  it('--mutate-limit caps the mutants per rule; without --mutate it is a usage error (exit 2)', async () => {
    const dir = await project('limit', WEAK_TESTS);
    const r = await runCli(['test', '--mutate', '--mutate-limit', '1', dir], { cwd: dir });
    expect(r.stdout).toContain('mutants 1, killed 0, survivors 1; 2 over the limit');
    expect(r.code).toBe(1);
    const bad = await runCli(['test', '--mutate-limit', '1', dir], { cwd: dir });
    expect(bad.stderr).toContain('--mutate-limit goes with --mutate');
    expect(bad.code).toBe(2);
  });

  it.skipIf(!SCHEMA_HAS_MUTATIONS)('a survivor the test file accepts, with a reason, is shown with it and does not fail the run; a stale entry is noted', async () => {
    const accept = `mutations:
  accept:
    - { line: 6, change: "→ 6000000", reason: "no deal between 5 and 6 million in this portal" }
    - { line: 3, reason: "nothing survives here" }
`;
    const dir = await project('accept', accept + WEAK_TESTS + BOUNDARY_CASES.split('  - name: a deal just above')[0]);
    const r = await runCli(['test', '--mutate', dir], { cwd: dir });
    expect(r.stdout).toContain('  big-deal.yaml:6:36 5000000 → 6000000 survived (threshold, rule big-deal, accepted: no deal between 5 and 6 million in this portal)');
    expect(r.stdout).toContain('  note: big-deal.test.yaml accepts a survivor at big-deal.yaml:3, but none survives there: remove the entry');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('mutants 3, killed 2, survivors 1 (1 accepted)');
    expect(r.code).toBe(0);
  });

  it("mutants of a rule that names a calendar load with the folder's calendars.yaml (not refused as invalid)", async () => {
    const dir = await project('calendar', WEAK_TESTS + BOUNDARY_CASES);
    await writeFile(join(dir, 'big-deal.yaml'), `${RULE}  - delay: { for: 1h, within: office }\n  - notify: { user: 1, message: "Still big: {{ deal.ID }}" }\n`);
    await writeFile(join(dir, 'calendars.yaml'), 'calendars:\n  office:\n    time_zone: Europe/Moscow\n    hours:\n      Mon-Fri: "09:00-18:00"\n');
    const r = await runCli(['test', '--mutate', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('invalid');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('mutants 3, killed 3, survivors 0');
    expect(r.code).toBe(0);
  });

  it('an accepted survivor whose mutant the limit left out is noted as not reached, not as unused', async () => {
    const accept = `mutations:
  accept:
    - { line: 6, change: "→ 6000000", reason: "no deal between 5 and 6 million in this portal" }
    - { line: 3, reason: "nothing survives here" }
`;
    const dir = await project('accept-limit', accept + WEAK_TESTS + BOUNDARY_CASES.split('  - name: a deal just above')[0]);
    // The comparison mutant comes first and is the only one run; both threshold mutants are cut.
    const r = await runCli(['test', '--mutate', '--mutate-limit', '1', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('  mutants 1, killed 1, survivors 0; 2 over the limit');
    expect(r.stdout).toContain('  note: big-deal.test.yaml accepts a survivor at big-deal.yaml:6, not reached within --mutate-limit 1');
    expect(r.stdout).not.toContain('big-deal.yaml:6, but none survives there');
    expect(r.stdout).toContain('  note: big-deal.test.yaml accepts a survivor at big-deal.yaml:3, but none survives there: remove the entry');
    expect(r.code).toBe(0);
  });
});
