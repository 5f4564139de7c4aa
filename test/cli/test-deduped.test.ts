/**
 * `rules test` as a subprocess: `expect.deduped` says a run was stopped by its
 * dedupe key. The engine checks the key before the condition, so a case that
 * claims the key stopped the run fails when the condition stopped it, and a
 * case that claims a condition value fails when the key stopped the run
 * before the condition was evaluated.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const RULE = `id: big-deal
description: Notify the director of a deal above 5,000,000, once per deal.
trigger:
  event: ONCRMDEALADD
condition:
  ">": [{ var: deal.OPPORTUNITY }, 5000000]
dedupe: "big-deal:{{ deal.ID }}"
actions:
  - notify: { user: 1, message: "Big deal {{ deal.ID }}" }
`;

const deal = (id: string, amount: string): string => `    - { ID: "${id}", TITLE: Deal ${id}, STAGE_SEMANTIC_ID: P, CATEGORY_ID: "0", OPPORTUNITY: "${amount}", CURRENCY_ID: RUB, ASSIGNED_BY_ID: "1" }\n`;

const TESTS = `rules: [big-deal.yaml]
at: "2026-11-24T09:00:00+03:00"
fixtures:
  users:
    - { ID: "1", NAME: Anna, LAST_NAME: Titova, ACTIVE: true }
  deals:
${deal('1', '9000000.00')}${deal('2', '100000.00')}
tests:
  - name: a big deal already reported is stopped by its key
    event: { name: ONCRMDEALADD, id: 1 }
    dedupe: { big-deal: ["big-deal:1"] }
    expect: { no_calls: true, deduped: [big-deal] }
  - name: a small deal is stopped by the condition
    event: { name: ONCRMDEALADD, id: 2 }
    expect: { no_calls: true, conditions: { big-deal: { value: false, reason: OPPORTUNITY } } }
  - name: claims the key, but the condition stopped it (fails on purpose)
    event: { name: ONCRMDEALADD, id: 2 }
    expect: { no_calls: true, deduped: [big-deal] }
  - name: claims the condition held, but the key stopped it first (fails on purpose)
    event: { name: ONCRMDEALADD, id: 1 }
    dedupe: { big-deal: ["big-deal:1"] }
    expect: { no_calls: true, conditions: { big-deal: true } }
  - name: claims the condition was false, but the key stopped it first (fails on purpose)
    event: { name: ONCRMDEALADD, id: 2 }
    dedupe: { big-deal: ["big-deal:2"] }
    expect: { no_calls: true, conditions: { big-deal: false } }
  - name: claims the key, but the rule acted (fails on purpose)
    event: { name: ONCRMDEALADD, id: 1 }
    expect: { deduped: [big-deal] }
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rules-test-deduped-'));
  await writeFile(join(dir, 'big-deal.yaml'), RULE);
  await writeFile(join(dir, 'big-deal.test.yaml'), TESTS);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rules test: expect.deduped', () => {
  it('tells a run its dedupe key stopped from one its condition stopped, both ways', async () => {
    const r = await runCli(['test', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('  ✓ a big deal already reported is stopped by its key');
    expect(r.stdout).toContain('  ✓ a small deal is stopped by the condition');
    expect(r.stdout).toContain('  ✗ claims the key, but the condition stopped it (fails on purpose)');
    expect(r.stdout).toMatch(/expected big-deal to be stopped by its dedupe key, but it was not \(condition false \(deal\.OPPORTUNITY/);
    expect(r.stdout).toContain('  ✗ claims the condition held, but the key stopped it first (fails on purpose)');
    expect(r.stdout).toContain('condition of big-deal: expected true, but the run was stopped by its dedupe key before the condition (dedupe: key "big-deal:1" was used by an earlier run); expect deduped: [big-deal]');
    expect(r.stdout).toContain('  ✗ claims the condition was false, but the key stopped it first (fails on purpose)');
    expect(r.stdout).toContain('condition of big-deal: expected false, but the run was stopped by its dedupe key before the condition (dedupe: key "big-deal:2" was used by an earlier run)');
    expect(r.stdout).toContain('  ✗ claims the key, but the rule acted (fails on purpose)');
    expect(r.stdout).toContain('expected big-deal to be stopped by its dedupe key, but it was not (1 call planned)');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('2 passed, 4 failed');
    expect(r.code).toBe(1);
  });

  it('a misspelt key is refused by the test-file schema', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'big-deal.yaml'), RULE);
    await writeFile(join(bad, 'big-deal.test.yaml'), TESTS.replace('deduped: [big-deal] }\n  - name: a small', 'dedupe_stopped: [big-deal] }\n  - name: a small'));
    const r = await runCli(['test', bad], { cwd: bad });
    expect(r.stdout).toMatch(/big-deal\.test\.yaml:\d+: \/tests\/0\/expect: unknown key 'dedupe_stopped'/);
    expect(r.code).toBe(1);
  });
});
