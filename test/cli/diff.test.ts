/**
 * `rules diff` as a subprocess in a temporary git repository holding a copy of
 * rules/ (issue 16, done when): a change of the lead-scoring thresholds, diffed
 * against HEAD~1 over scenario 9's fixtures, shows exactly the leads whose
 * score (or hot alert) changes, with the score before and after; the expected
 * leads are computed here from the fixture leads and the two weight tables.
 * Also: an unchanged tree, the formats, a folder base, a bad ref and rules
 * that do not load on one side.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PlanDiff } from '../../engine/plan/index.js';
import { openStateStore } from '../../engine/store/index.js';
import { runCli } from '../helpers/cli.js';

const SCORING = 'rules/09-lead-scoring.yaml';
const FIXTURES = 'rules/fixtures/09-lead-scoring.fixtures.yaml';
const AT = '2026-11-24T09:00:00+03:00';
/** No portal (fixtures only), and the values the scenario rules read as env.NAME (docs/ci.md): a plan never calls those URLs. */
const ENV = {
  B24_WEBHOOK_URL: '',
  B24_DOMAIN: '',
  GITHUB_STEP_SUMMARY: '',
  FORM_SECRET: 'ci-dummy',
  ENRICH_URL: 'https://enrich.invalid/lookup',
  ENRICH_API_KEY: 'ci-dummy',
  AI_API_URL: 'https://ai.invalid/v1/chat/completions',
  AI_API_KEY: 'ci-dummy',
  AI_MODEL: 'gpt-4o-mini',
  SYNC_URL: 'https://sync.invalid/api',
  SYNC_TOKEN: 'ci-dummy',
  APPROVAL_TEMPLATE_ID: '17',
  TASKS_SYNC_URL: 'https://tasks.invalid/api',
  TASKS_SYNC_TOKEN: 'ci-dummy',
  INVOICING_URL: 'https://erp.invalid',
  INVOICING_TOKEN: 'ci-dummy',
};

type Lead = Record<string, unknown> & { ID: string };

/** The score of rules/09 with a given middle amount step (300,000 in the base, 500,000 in the change). */
function score(lead: Lead, amountStep: number): number {
  const source: Record<string, number> = { PARTNER: 25, WEB: 20, CALL: 15, EMAIL: 10, ADVERTISING: 5 };
  const amount = Number(lead.OPPORTUNITY);
  return (
    (source[String(lead.SOURCE_ID)] ?? 0) +
    (lead.HAS_PHONE === 'Y' ? 15 : 0) +
    (lead.HAS_EMAIL === 'Y' ? 10 : 0) +
    (amount >= 1_000_000 ? 30 : amount >= amountStep ? 20 : amount > 0 ? 10 : 0) +
    (lead.COMPANY_TITLE ? 10 : 0)
  );
}

/** became_hot: the score reaches the threshold and the stored one was below it (an empty one counts as 0). */
function hot(lead: Lead, s: number, threshold: number): boolean {
  return s >= threshold && Number(lead.UF_CRM_LEAD_SCORE || 0) < threshold;
}

const BASE = { step: 300_000, hot: 70 };
const CHANGE = { step: 500_000, hot: 75 };

/** The change: the middle amount step 300,000 → 500,000 and the hot threshold 70 → 75, in both rules of the file. */
function changeThresholds(text: string): string {
  const out = text
    .replaceAll('{ var: lead.OPPORTUNITY }, 300000]', '{ var: lead.OPPORTUNITY }, 500000]')
    .replaceAll('[{ var: score }, 70]', '[{ var: score }, 75]')
    .replaceAll('[{ var: previous_score }, 70]', '[{ var: previous_score }, 75]');
  if (out.split('500000]').length !== 3 || out.split(', 75]').length !== 5) throw new Error('rules/09-lead-scoring.yaml no longer has the thresholds this test changes');
  return out;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

let tmp: string;
let repo: string;
let leads: Lead[];
/** The line of the first difference in rules/09 between the two commits (where the annotation goes). */
let firstChange: number;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rules-diff-'));
  repo = join(tmp, 'repo');
  mkdirSync(repo);
  cpSync(join(PACKAGE_ROOT, 'rules'), join(repo, 'rules'), { recursive: true });
  cpSync(join(PACKAGE_ROOT, 'rules'), join(tmp, 'base-rules'), { recursive: true });
  git(repo, 'init', '-q');
  git(repo, 'add', 'rules');
  git(repo, 'commit', '-q', '-m', 'the scenario rules');
  const before = readFileSync(join(repo, SCORING), 'utf8');
  const after = changeThresholds(before);
  writeFileSync(join(repo, SCORING), after);
  git(repo, 'commit', '-q', '-a', '-m', 'lead scoring: 500,000 for 20 points, hot from 75');
  const a = before.split('\n');
  const b = after.split('\n');
  firstChange = b.findIndex((line, i) => line !== a[i]) + 1;
  leads = (parse(readFileSync(join(repo, FIXTURES), 'utf8')) as { leads: Lead[] }).leads;
  // Every fixture lead arrives as a new lead (the fixtures' own events are five).
  writeFileSync(join(repo, 'new-leads.jsonl'), leads.map((l, i) => JSON.stringify({ event: 'ONCRMLEADADD', data: { FIELDS: { ID: l.ID } }, ts: String(1_795_000_000 + i) })).join('\n'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const OVER_SCENARIO_9 = ['--fixtures', FIXTURES, '--events', 'new-leads.jsonl', '--at', AT];

/** Leads the change treats otherwise: the score, or the hot alert. */
function expectedLeads() {
  const changed = leads.map((l) => ({ id: l.ID, base: score(l, BASE.step), head: score(l, CHANGE.step), hotBase: hot(l, score(l, BASE.step), BASE.hot), hotHead: hot(l, score(l, CHANGE.step), CHANGE.hot) }));
  return { scores: changed.filter((c) => c.base !== c.head), any: changed.filter((c) => c.base !== c.head || c.hotBase !== c.hotHead) };
}

describe('rules diff --base HEAD~1 on a change of the scoring thresholds (issue 16, done when)', () => {
  it('shows exactly the leads whose score or hot alert changes, with UF_CRM_LEAD_SCORE before and after; exit 2 with --detailed-exitcode', async () => {
    const r = await runCli(['diff', '--base', 'HEAD~1', ...OVER_SCENARIO_9, '--format', 'json', '--detailed-exitcode'], { cwd: repo, env: ENV });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    const diff = JSON.parse(r.stdout) as PlanDiff;
    const expected = expectedLeads();
    expect(expected.scores.length).toBeGreaterThan(0);
    expect(expected.any.length).toBeGreaterThan(expected.scores.length);

    // Only the new-lead rule differs (the update rule changed too, but no update event reaches it).
    expect(diff.rules.map((x) => [x.rule, x.change, x.file])).toEqual([['lead-score-new', 'changed', SCORING]]);
    expect(diff.no_effect.map((x) => x.rule)).toEqual(['lead-score-update']);
    const runs = diff.rules[0]?.runs ?? [];
    expect(runs.map((x) => x.record?.id).sort()).toEqual(expected.any.map((c) => c.id).sort());
    expect(runs.every((x) => x.change === 'changed' && x.record?.entity === 'lead')).toBe(true);

    // The score each lead is left with: the base's and the change's.
    const scores = runs.flatMap((x) => (x.fields ?? []).filter((f) => f.field === 'UF_CRM_LEAD_SCORE').map((f) => ({ id: x.record?.id, target: f.target, base: Number(f.base), head: Number(f.head) })));
    expect(scores.sort((x, y) => Number(x.id) - Number(y.id))).toEqual(expected.scores.map((c) => ({ id: c.id, target: `lead ${c.id}`, base: c.base, head: c.head })).sort((x, y) => Number(x.id) - Number(y.id)));
    // A changed score is one changed update call, not a removal and an addition; a side whose score equals the stored one sends none.
    for (const c of expected.scores) {
      const stored = leads.find((l) => l.ID === c.id)?.UF_CRM_LEAD_SCORE;
      const want = stored !== '' && Number(stored) === c.base ? 'added' : stored !== '' && Number(stored) === c.head ? 'removed' : 'changed';
      const run = runs.find((x) => x.record?.id === c.id);
      expect(run?.calls.filter((k) => k.method === 'crm.lead.update').map((k) => k.change)).toEqual([want]);
    }
    // A lead whose hot alert changes gains or loses the notification and the call-back task.
    for (const c of expected.any.filter((x) => x.hotBase !== x.hotHead)) {
      const run = runs.find((x) => x.record?.id === c.id);
      const want = c.hotHead ? 'added' : 'removed';
      expect(run?.calls.filter((k) => k.method !== 'crm.lead.update').map((k) => [k.method, k.change])).toEqual([
        ['im.notify.system.add', want],
        ['tasks.task.add', want],
      ]);
    }
    expect(diff.totals).toMatchObject({ rules_changed: 1, rules_added: 0, rules_removed: 0, runs_added: 0, runs_removed: 0, runs_changed: expected.any.length });
  });

  it('an unchanged tree: no differences, exit 0 with --detailed-exitcode', async () => {
    const r = await runCli(['diff', '--base', 'HEAD', ...OVER_SCENARIO_9, '--detailed-exitcode'], { cwd: repo, env: ENV });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^No differences: the change plans the same \d+ runs as HEAD \([0-9a-f]{7}\)\.$/);
  });

  it('without --at both sides plan at one clock: a rule writing "now + 2 hours" shows no difference on an unchanged tree', async () => {
    const r = await runCli(['diff', '--base', 'HEAD', '--fixtures', FIXTURES, '--events', 'new-leads.jsonl', '--detailed-exitcode', '--format', 'json'], { cwd: repo, env: ENV });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const diff = JSON.parse(r.stdout) as PlanDiff;
    expect(diff.rules).toEqual([]);
    // The hot leads' call-back tasks (DEADLINE: now + 2 h) are planned on both sides.
    expect(diff.head.writes).toBeGreaterThan(0);
  });

  it('markdown: the table row of the rule and the scores as - and + lines', async () => {
    const r = await runCli(['diff', '--base', 'HEAD~1', SCORING, ...OVER_SCENARIO_9, '--format', 'markdown'], { cwd: repo, env: ENV });
    expect(r.code).toBe(0);
    const expected = expectedLeads();
    expect(r.stdout).toMatch(new RegExp(`^\\| \`lead-score-new\` <sub>rules/09-lead-scoring\\.yaml:${firstChange}</sub> \\| changed \\| 0 / 0 / ${expected.any.length} \\|`, 'm'));
    for (const c of expected.scores) {
      expect(r.stdout).toContain(`-   lead ${c.id} UF_CRM_LEAD_SCORE: ${c.base}\n+   lead ${c.id} UF_CRM_LEAD_SCORE: ${c.head}\n`);
    }
  });

  it('github: a notice on the first changed line of the rule, the text diff, and the Markdown in the step summary', async () => {
    const summary = join(tmp, 'summary.md');
    writeFileSync(summary, '');
    const r = await runCli(['diff', '--base', 'HEAD~1', SCORING, ...OVER_SCENARIO_9, '--format', 'github'], { cwd: repo, env: { ...ENV, GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(0);
    const notices = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(notices[0]).toMatch(new RegExp(`^::notice file=rules/09-lead-scoring\\.yaml,line=${firstChange},title=lead-score-new%3A ${expectedLeads().any.length} runs differ::`));
    expect(notices[1]).toMatch(/^::notice file=rules\/09-lead-scoring\.yaml,line=\d+,title=lead-score-update%3A changed%2C no run differs::/);
    expect(notices).toHaveLength(2);
    expect(r.stdout).toContain('~ rule lead-score-new  (rules/09-lead-scoring.yaml:');
    expect(readFileSync(summary, 'utf8')).toContain('### b24-rules diff');
  });

  it('a folder as the base compares with the rules in it', async () => {
    const changed = await runCli(['diff', '--base', join(tmp, 'base-rules'), ...OVER_SCENARIO_9, '--format', 'json', '--detailed-exitcode'], { cwd: repo, env: ENV });
    expect(changed.stderr).toBe('');
    expect(changed.code).toBe(2);
    const diff = JSON.parse(changed.stdout) as PlanDiff;
    expect(diff.base.label).toBe(join(tmp, 'base-rules'));
    expect(diff.rules.map((x) => x.rule)).toEqual(['lead-score-new']);
    expect((diff.rules[0]?.runs ?? []).map((x) => x.record?.id).sort()).toEqual(expectedLeads().any.map((c) => c.id).sort());

    const same = await runCli(['diff', '--base', 'rules', ...OVER_SCENARIO_9, '--detailed-exitcode'], { cwd: repo, env: ENV });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('No differences');
  });

  it('--journal: the events the daemon journaled (not its schedule ticks), planned on both sides; an outgoing webhook\'s token stays in the store', async () => {
    const state = join(tmp, 'state.db');
    const store = openStateStore(state);
    const now = Date.parse(AT);
    store.inbox.add([
      { source: 'outgoing', key: 'o-1', event: 'ONCRMLEADADD', ruleId: null, payload: { event: 'ONCRMLEADADD', data: { FIELDS: { ID: '922' } }, ts: '1795000000', auth: { application_token: 'journal-secret-token' } }, receivedAt: now - 60_000 },
      { source: 'schedule', key: 'stale-deals@x', event: null, ruleId: 'stale-deals', payload: { schedule: { at: AT } }, receivedAt: now - 30_000 },
      { source: 'offline', key: 'p:m-2', event: 'ONCRMLEADADD', ruleId: null, payload: { event: 'ONCRMLEADADD', data: { FIELDS: { ID: '925' } }, ts: '2026-11-24T08:50:00+03:00', id: '2', message_id: 'm-2' }, processId: 'p', messageId: 'm-2', receivedAt: now - 10_000 },
    ]);
    store.close();
    const r = await runCli(['diff', '--base', 'HEAD~1', SCORING, '--fixtures', FIXTURES, '--journal', state, '--at', AT, '--format', 'json'], { cwd: repo, env: ENV });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('journal-secret-token');
    const diff = JSON.parse(r.stdout) as PlanDiff;
    expect(diff.inputs.map((i) => i.events)).toEqual([2]);
    const want = expectedLeads().any.map((c) => c.id).filter((id) => id === '922' || id === '925');
    expect(want).toEqual(['922', '925']);
    expect(diff.rules.flatMap((x) => x.runs.map((run) => run.record?.id)).sort()).toEqual(want);

    // --journal-limit counts events, not inbox items: the schedule tick between the two events does not take a place.
    const two = await runCli(['diff', '--base', 'HEAD~1', SCORING, '--fixtures', FIXTURES, '--journal', state, '--journal-limit', '2', '--at', AT, '--format', 'json'], { cwd: repo, env: ENV });
    expect((JSON.parse(two.stdout) as PlanDiff).inputs.map((i) => i.events)).toEqual([2]);
    const usage = await runCli(['diff', '--base', 'HEAD~1', '--at', 'garbage', '--detailed-exitcode'], { cwd: repo, env: ENV });
    expect(usage.code, 'a usage error with --detailed-exitcode is 1, never 2 ("differs")').toBe(1);
    expect(usage.stderr).toContain('--at must be an ISO 8601 time');

    const both = await runCli(['diff', '--base', 'HEAD~1', '--journal', state, '--events', 'new-leads.jsonl'], { cwd: repo, env: ENV });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--events and --journal exclude each other');
  });

  it('a ref that is not a commit: a clear error, exit 1, nothing planned', async () => {
    const r = await runCli(['diff', '--base', 'no-such-branch', ...OVER_SCENARIO_9], { cwd: repo, env: ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("DIFF_BASE_INVALID: --base no-such-branch is neither a folder nor a commit of the git repository at");
    const usage = await runCli(['diff', ...OVER_SCENARIO_9], { cwd: repo, env: ENV });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--base REF is required');
  });
});

describe('rules diff with rules that do not load on one side', () => {
  let small: string;
  beforeAll(() => {
    small = join(tmp, 'small');
    mkdirSync(join(small, 'rules', 'fixtures'), { recursive: true });
    cpSync(join(PACKAGE_ROOT, SCORING), join(small, SCORING));
    cpSync(join(PACKAGE_ROOT, FIXTURES), join(small, FIXTURES));
    git(small, 'init', '-q');
    // The base commit has a typo in the update rule's trigger; the change fixes it.
    writeFileSync(join(small, SCORING), readFileSync(join(PACKAGE_ROOT, SCORING), 'utf8').replace('  event: ONCRMLEADUPDATE', '  evnt: ONCRMLEADUPDATE'));
    git(small, 'add', 'rules');
    git(small, 'commit', '-q', '-m', 'a typo');
    cpSync(join(PACKAGE_ROOT, SCORING), join(small, SCORING));
  });

  it('the base: the error says it is the base, with the file:line:col as it was there; exit 1', async () => {
    const r = await runCli(['diff', '--base', 'HEAD', '--fixtures', FIXTURES, '--at', AT], { cwd: small, env: ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const line = readFileSync(join(small, SCORING), 'utf8').split('\n').indexOf('  event: ONCRMLEADUPDATE') + 1;
    expect(r.stderr).toMatch(/the base rules \(HEAD \([0-9a-f]{7}\)\) do not load: \d+ errors?, in the files as they are at the base/);
    expect(r.stderr).toMatch(new RegExp(`rules/09-lead-scoring\\.yaml:${line}:\\d+`));
  });

  it('the change: the error says it is the change; exit 1', async () => {
    writeFileSync(join(small, SCORING), readFileSync(join(PACKAGE_ROOT, SCORING), 'utf8').replace('  event: ONCRMLEADADD', '  evnt: ONCRMLEADADD'));
    const r = await runCli(['diff', '--base', 'HEAD', '--fixtures', FIXTURES, '--at', AT], { cwd: small, env: ENV });
    expect(r.code).toBe(1);
    const line = readFileSync(join(small, SCORING), 'utf8').split('\n').indexOf('  evnt: ONCRMLEADADD') + 1;
    expect(r.stderr).toContain('the changed rules (');
    expect(r.stderr).toMatch(new RegExp(`rules/09-lead-scoring\\.yaml:${line}:\\d+`));
    expect(r.stderr).toMatch(/the base rules \(HEAD \([0-9a-f]{7}\)\) do not load/);
  });
});
