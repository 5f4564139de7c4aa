/**
 * `rules dry-run` as a subprocess on the scenario library and on broken
 * inputs: output, exit codes, the saved plan, GitHub output. Live mode is in
 * dry-run-live.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { openStateStore } from '../../engine/store/index.js';
import { runCli } from '../helpers/cli.js';

const FX = join(PACKAGE_ROOT, 'test', 'fixtures', 'dry-run');
const ROUTE = ['rules/03-route-leads.yaml', '--fixtures', 'rules/fixtures/03-route-leads.fixtures.yaml', '--at', '2026-11-24T09:00:00+03:00'];
/** No portal in the environment: fixtures mode must not need one. */
const NO_PORTAL = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '', GITHUB_STEP_SUMMARY: '' };
let tmp: string;
/** The line the loader reports for a rule: its `id:` line (computed, so edits to the rule's comments do not break the test). */
let keyAccountsLine: number;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dry-run-cli-'));
  const lines = (await readFile(join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml'), 'utf8')).split('\n');
  keyAccountsLine = lines.indexOf('id: route-leads-key-accounts') + 1;
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.concurrent('rules dry-run on the scenario fixtures', () => {
  it('prints each writing run with trigger, record, condition, calls and before/after, then batches and the estimate; exit 0', async () => {
    const r = await runCli(['dry-run', ...ROUTE], { env: NO_PORTAL });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`~ [2] rule route-leads-key-accounts  (rules/03-route-leads.yaml:${keyAccountsLine})`);
    expect(r.stdout).toContain('record     lead 301 "Поставка серверного оборудования"');
    expect(r.stdout).toContain('1. crm.lead.update {"fields":{"ASSIGNED_BY_ID":12},"id":"301"}');
    expect(r.stdout).toContain('ASSIGNED_BY_ID: "1" → 12');
    // A run that does nothing says which part of the condition was false.
    expect(r.stdout).toMatch(/route-leads-inbound on lead 306 .*: condition false: in_list\(lead\.ASSIGNED_BY_ID \("15"\)/);
    expect(r.stdout).toContain('batch 1: 12 commands (crm.lead.update ×6, im.notify.system.add ×6)');
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^Plan: 12 writes from 6 of 32 rule runs, in 1 batch, ~\d+ HTTP requests .* at the standard limit \(burst 50, 2\/s\)\.$/);
  });

  it('exits 2 with --detailed-exitcode when changes are planned (see the github case), 0 when none are', async () => {
    // At 10:00 no schedule fires and there are no events: nothing to do.
    const none = await runCli(['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml', '--at', '2026-11-24T10:00:00+03:00', '--detailed-exitcode'], { env: NO_PORTAL });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('No changes.');
  });

  it('runs the schedule rules whose cron fires at --at, with that clock', async () => {
    const r = await runCli(['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml', '--at', '2026-11-24T09:00:00+03:00', '--format', 'json', '--plan', 'enterprise'], { env: NO_PORTAL });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.estimate).toMatchObject({ plan: 'enterprise', burst: 250, rate_per_second: 5, write_requests: 1 });
    expect(plan.inputs.schedule_ticks).toEqual([{ rule: 'stale-deals', at: '2026-11-24T06:00:00.000Z' }]);
    expect(plan.firings.filter((f) => f.calls.length > 0).map((f) => f.record?.id)).toEqual(['701', '705']);
    expect(plan.summary.by_method).toEqual({ 'crm.activity.todo.add': 2, 'crm.timeline.comment.add': 2, 'im.notify.system.add': 2 });
  });

  it('json has format_version, is byte-identical across runs, and --out saves the same plan with the records read', async () => {
    const out = join(tmp, 'plan.json');
    const a = await runCli(['dry-run', ...ROUTE, '--format', 'json', '--out', out], { env: NO_PORTAL });
    const b = await runCli(['dry-run', ...ROUTE, '--format', 'json'], { env: NO_PORTAL });
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const plan = JSON.parse(a.stdout) as PlanDocument;
    expect(plan.format_version).toBe(1);
    expect(plan.summary).toMatchObject({ firings: 32, acting: 6, writes: 12, errors: 0 });
    expect(plan.batches).toEqual([{ index: 1, calls: expect.any(Array) }]);
    expect(await readFile(out, 'utf8')).toBe(a.stdout);
    const lead301 = plan.reads.find((x) => x.entity === 'lead' && x.id === '301');
    expect(lead301).toMatchObject({ date_modify: '2026-11-24T08:40:00+03:00', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it('takes events from JSON lines on stdin (offline records and webhook payloads) instead of the fixtures', async () => {
    const input = await readFile(join(FX, 'route-leads.events.jsonl'), 'utf8');
    const r = await runCli(['dry-run', 'rules/03-route-leads.yaml', '--fixtures', 'rules/fixtures/03-route-leads.fixtures.yaml', '--events', '-', '--at', '2026-11-24T09:00:00+03:00', '--format', 'json'], { env: NO_PORTAL, input });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.inputs.events).toBe(2);
    expect(plan.firings.filter((f) => f.calls.length > 0).map((f) => [f.rule, f.record?.id])).toEqual([['route-leads-key-accounts', '301']]);
  });

  it('github: ::notice per writing run on the rule line, and a Markdown summary appended to $GITHUB_STEP_SUMMARY', async () => {
    const summary = join(tmp, 'summary.md');
    await writeFile(summary, 'previous step\n');
    const r = await runCli(['dry-run', ...ROUTE, '--format', 'github', '--detailed-exitcode'], { env: { ...NO_PORTAL, GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(2);
    const notices = r.stdout.split('\n').filter((l) => l.startsWith('::notice '));
    expect(notices).toHaveLength(6);
    expect(notices[0]).toMatch(new RegExp(`^::notice file=rules/03-route-leads\\.yaml,line=${keyAccountsLine},title=route-leads-key-accounts would write 2 calls::event ONCRMLEADADD`));
    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('previous step\n### b24-rules dry-run')).toBe(true);
    expect(md).toContain('| 2 | `route-leads-key-accounts` |');
  });

});

describe('rules dry-run with the daemon state', () => {
  it('--state: plans with its dedupe keys and round-robin positions, and leaves the file as it was', async () => {
    const path = join(tmp, 'state.db');
    const store = openStateStore(path);
    store.dedupe.put('route-leads-key-accounts', 'route-lead:301');
    store.positions.next('route-leads-regions', 'regions', [21, 6]);
    store.close();
    const before = await readFile(path);
    const r = await runCli(['dry-run', ...ROUTE, '--format', 'json', '--state', path], { env: NO_PORTAL });
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout) as PlanDocument;
    const ka = plan.firings.find((f) => f.rule === 'route-leads-key-accounts' && f.record?.id === '301');
    expect(ka?.calls).toEqual([]);
    expect(ka?.skipped).toMatch(/^dedupe: key "route-lead:301" was used by an earlier run/);
    const regions = plan.firings.filter((f) => f.rule === 'route-leads-regions' && f.calls.length > 0);
    expect(regions.map((f) => [f.record?.id, (f.calls[0]?.params.fields as Record<string, unknown>).ASSIGNED_BY_ID])).toEqual([['303', 6], ['304', 21]]);
    expect(await readFile(path)).toEqual(before);
    const missing = await runCli(['dry-run', ...ROUTE, '--state', join(tmp, 'nope.db')], { env: NO_PORTAL });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('STATE_FILE_MISSING');
  });
});

describe.concurrent('rules dry-run on broken inputs', () => {
  it('an invalid rule: exit 1, the diagnostic with file:line, no plan', async () => {
    const r = await runCli(['dry-run', join(FX, 'invalid-rule.yaml'), '--fixtures', 'rules/fixtures/03-route-leads.fixtures.yaml'], { env: NO_PORTAL });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid-rule\.yaml:9:\d+/);
    expect(r.stderr).toContain('nosuchthing');
    expect(r.stdout).toBe('');
    // With --format github the diagnostic is an ::error annotation on stdout, where GitHub reads workflow commands.
    const gh = await runCli(['dry-run', join(FX, 'invalid-rule.yaml'), '--fixtures', 'rules/fixtures/03-route-leads.fixtures.yaml', '--format', 'github'], { env: NO_PORTAL });
    expect(gh.code).toBe(1);
    expect(gh.stdout).toMatch(/^::error file=[^,]*invalid-rule\.yaml,line=9,/m);
  });

  it('fixtures with an unknown key: exit 1 naming file, line and the known keys', async () => {
    const r = await runCli(['dry-run', ...ROUTE.slice(0, 1), '--fixtures', join(FX, 'bad-fixtures.yaml')], { env: NO_PORTAL });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FIXTURES_INVALID: .*bad-fixtures\.yaml:3: unknown key 'leeds'\. Known: users, departments, leads/);
  });

  it('fixtures with a YAML syntax error: exit 1 with the line', async () => {
    const r = await runCli(['dry-run', ...ROUTE.slice(0, 1), '--fixtures', join(FX, 'bad-fixtures-syntax.yaml')], { env: NO_PORTAL });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FIXTURES_INVALID: .*bad-fixtures-syntax\.yaml:\d+: YAML syntax/);
  });

  it('an events file with a bad line: exit 1 with file:line and the expected shape', async () => {
    const r = await runCli(['dry-run', ...ROUTE, '--events', join(FX, 'bad-events.jsonl')], { env: NO_PORTAL });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EVENTS_INVALID: .*bad-events\.jsonl:2: no EVENT_NAME \(offline record\) or event \(webhook payload\); each line must be one JSON object/);
    const gh = await runCli(['dry-run', ...ROUTE, '--events', join(FX, 'bad-events.jsonl'), '--format', 'github'], { env: NO_PORTAL });
    expect(gh.code).toBe(1);
    expect(gh.stdout).toMatch(/^::error file=[^,]*bad-events\.jsonl,line=2,title=EVENTS_INVALID::/m);
    // Regression: the annotation looked for a word 'github' among the arguments, so --format=github had none.
    const joined = await runCli(['dry-run', ...ROUTE, '--events', join(FX, 'bad-events.jsonl'), '--format=github'], { env: NO_PORTAL });
    expect(joined.code).toBe(1);
    expect(joined.stdout).toMatch(/^::error file=[^,]*bad-events\.jsonl,line=2,title=EVENTS_INVALID::/m);
  });

  it('a missing events file, a bad --at and a bad --format are reported', async () => {
    const missing = await runCli(['dry-run', ...ROUTE, '--events', join(FX, 'nope.jsonl')], { env: NO_PORTAL });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.jsonl: cannot read the events file/);
    const at = await runCli(['dry-run', ...ROUTE.slice(0, 3), '--at', 'tomorrow'], { env: NO_PORTAL });
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--at must be an ISO 8601 time with an offset');
    const fmt = await runCli(['dry-run', ...ROUTE, '--format', 'yaml'], { env: NO_PORTAL });
    expect(fmt.code).toBe(2);
  });

  it('without fixtures and without a portal configured: exit 1 saying how to configure one', async () => {
    const r = await runCli(['dry-run', join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml'), '--events', join(FX, 'route-leads.events.jsonl')], { env: NO_PORTAL, cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no Bitrix24 connection configured');
  });
});
