/**
 * Issue 17, done when: the GitHub Action (action.yml, composite) is exercised
 * by running its steps as the runner does: each `run:` with `bash --noprofile
 * --norc -eo pipefail`, its `env:` with the inputs (`${{ inputs.NAME }}`,
 * defaults from action.yml), and the runner's variables (GITHUB_ACTIONS,
 * GITHUB_WORKSPACE, GITHUB_ACTION_PATH, GITHUB_STEP_SUMMARY to a file...), in
 * a workspace `b24-rules init` scaffolded. Checked: the annotations on stdout
 * and the summary file, for validate, test, dry-run and diff, green and red.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { CLI, runCli } from '../helpers/cli.js';

interface ActionInput {
  default?: string;
  required?: boolean;
}
interface ActionStep {
  name?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
  uses?: string;
}
interface Action {
  inputs: Record<string, ActionInput>;
  runs: { using: string; steps: ActionStep[] };
}

const action = parseYaml(readFileSync(join(PACKAGE_ROOT, 'action.yml'), 'utf8')) as Action;

let root: string;
let counter = 0;

/** A rules repository as `b24-rules init` writes it, with the CLI installed as npm would (node_modules/.bin/b24-rules) unless `installed` is false. */
async function workspace(installed = true): Promise<string> {
  const ws = join(root, `ws-${++counter}`);
  const r = await runCli(['init', ws]);
  expect(r.code, r.stderr).toBe(0);
  if (installed) {
    mkdirSync(join(ws, 'node_modules', '.bin'), { recursive: true });
    const bin = join(ws, 'node_modules', '.bin', 'b24-rules');
    writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(bin, 0o755);
  }
  return ws;
}

/** `${{ inputs.NAME }}` of the action's inputs; any other expression fails the test (the runner would evaluate it, this harness does not). */
function evaluate(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^inputs\.([A-Za-z0-9_-]+)$/.exec(expr);
    if (!m) throw new Error(`action.yml uses an expression this harness does not evaluate: ${expr}`);
    const name = m[1] as string;
    if (!(name in action.inputs)) throw new Error(`action.yml reads an undeclared input: ${name}`);
    return inputs[name] ?? '';
  });
}

interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: string;
}

/** Run the action's steps in `ws` with `given` inputs, as the runner would; stops at the first step that fails. */
async function runAction(ws: string, given: Record<string, string>, actionPath = PACKAGE_ROOT): Promise<ActionRun> {
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) inputs[name] = given[name] ?? spec.default ?? '';
  for (const name of Object.keys(given)) if (!(name in action.inputs)) throw new Error(`no input '${name}' in action.yml`);
  const runner = mkdtempSync(join(root, 'runner-'));
  const files = { GITHUB_STEP_SUMMARY: 'summary.md', GITHUB_OUTPUT: 'output', GITHUB_ENV: 'env', GITHUB_PATH: 'path' };
  for (const f of Object.values(files)) writeFileSync(join(runner, f), '');
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('GITHUB_') || k.startsWith('B24_')) delete base[k];
  Object.assign(base, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: ws,
    GITHUB_ACTION_PATH: actionPath,
    GITHUB_ACTION: '__b24-rules',
    GITHUB_EVENT_NAME: 'pull_request',
    RUNNER_TEMP: runner,
    NO_COLOR: '1',
    ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(runner, f)])),
  });
  let out: ActionRun = { code: 0, stdout: '', stderr: '', summary: '' };
  for (const step of action.runs.steps) {
    if (step.uses || !step.run) throw new Error(`step '${step.name}' is not a run: step`);
    expect(step.shell).toBe('bash');
    const script = join(runner, `step-${counter}.sh`);
    writeFileSync(script, evaluate(step.run, inputs));
    const env = { ...base, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v), inputs)])) };
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: ws, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    out = { ...r, stdout: out.stdout + r.stdout, stderr: out.stderr + r.stderr, summary: '' };
    if (r.code !== 0) break;
  }
  out.summary = readFileSync(join(runner, files.GITHUB_STEP_SUMMARY), 'utf8');
  return out;
}

/** The 1-based line of the first line of `file` (in `ws`) that starts with `prefix` after its indentation. */
function lineOf(ws: string, file: string, prefix: string): number {
  const i = readFileSync(join(ws, file), 'utf8').split('\n').findIndex((l) => l.trim().startsWith(prefix));
  expect(i, `${prefix} in ${file}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

const annotations = (stdout: string): string[] => stdout.split('\n').filter((l) => /^::(error|warning|notice)\b/.test(l));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'action-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the b24-rules action (action.yml)', () => {
  it('is a composite action whose inputs are command, paths, format, base, fixtures, events, at and args', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs).sort()).toEqual(['args', 'at', 'base', 'command', 'events', 'fixtures', 'format', 'paths']);
    expect(action.inputs.command?.default).toBe('validate');
  });

  it('validate: a valid scaffold passes with no annotation and a green summary', async () => {
    const ws = await workspace();
    const r = await runAction(ws, { command: 'validate' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(annotations(r.stdout)).toEqual([]);
    expect(r.summary).toContain('### b24-rules validate');
    expect(r.summary).toContain('✅ **1 file, 1 rule: 1 valid, 0 invalid; 0 errors, 0 warnings**');
  });

  it('validate: an invalid rule fails the step with an error annotation on its line and a row in the summary', async () => {
    const ws = await workspace();
    writeFileSync(join(ws, 'rules', 'broken.yaml'), 'id: broken\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - bogus: { id: 1 }\n');
    const r = await runAction(ws, { command: 'validate' });
    expect(r.code).toBe(1);
    const [first] = annotations(r.stdout);
    expect(first).toMatch(/^::error file=rules\/broken\.yaml,line=4,col=5,title=SCHEMA \[broken\]::unknown key 'bogus'/);
    expect(r.summary).toContain('❌ **2 files, 2 rules: 1 valid, 1 invalid; 1 error, 0 warnings**');
    expect(r.summary).toMatch(/\| `rules\/broken\.yaml` \| 4:5 \| error \| `SCHEMA` \| `broken` \| unknown key 'bogus'/);
  });

  it('test: the rule tests pass with a summary table; a failing case is an error annotation on its line, with its diff in the summary', async () => {
    const ws = await workspace();
    const green = await runAction(ws, { command: 'test' });
    expect(green.code, green.stdout + green.stderr).toBe(0);
    expect(annotations(green.stdout)).toEqual([]);
    expect(green.stdout.trimEnd().split('\n').pop()).toBe('3 passed, 0 failed');
    expect(green.summary).toContain('✅ **3 passed, 0 failed**');
    expect(green.summary).toContain('| `rules/big-lead-callback.test.yaml` | 3 | 0 | 0 |');

    const file = 'rules/big-lead-callback.test.yaml';
    const text = readFileSync(join(ws, file), 'utf8');
    writeFileSync(join(ws, file), text.replace('RESPONSIBLE_ID: 7, UF_CRM_TASK', 'RESPONSIBLE_ID: 8, UF_CRM_TASK'));
    const red = await runAction(ws, { command: 'test' });
    expect(red.code).toBe(1);
    const line = lineOf(ws, file, '- name: a lead of 250,000');
    const [failure, ...rest] = annotations(red.stdout);
    expect(rest).toEqual([]);
    expect(failure).toContain(`::error file=${file},line=${line},title=rule test failed%3A a lead of 250%2C000 gets a call-back task`);
    expect(failure).toContain('RESPONSIBLE_ID');
    expect(red.stdout.trimEnd().split('\n').pop()).toBe('2 passed, 1 failed');
    expect(red.summary).toContain('❌ **2 passed, 1 failed**');
    expect(red.summary).toContain(`<details><summary>✗ a lead of 250,000 gets a call-back task for its responsible person and a comment (<code>${file}:${line}</code>)</summary>`);
  });

  it('dry-run: each fixtures file plans the rule of its name, with a notice on the rule per run that would write and the plan in the summary', async () => {
    const ws = await workspace();
    const r = await runAction(ws, { command: 'dry-run', fixtures: 'rules/fixtures/*.fixtures.yaml', at: '2026-11-24T09:00:00+03:00' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('b24-rules dry-run: rules/big-lead-callback.yaml on rules/fixtures/big-lead-callback.fixtures.yaml');
    const line = lineOf(ws, 'rules/big-lead-callback.yaml', 'id: big-lead-callback');
    const notices = annotations(r.stdout);
    expect(notices).toHaveLength(2);
    for (const n of notices) expect(n).toMatch(new RegExp(`^::notice file=rules/big-lead-callback\\.yaml,line=${line},title=big-lead-callback would write 2 calls::`));
    expect(notices[0]).toContain('tasks.task.add');
    expect(r.summary).toContain('### b24-rules dry-run');
    expect(r.summary).toContain('`big-lead-callback`');
  });

  it('dry-run: a fixtures glob that matches nothing, or no fixtures, events nor at, is an error annotation', async () => {
    const ws = await workspace();
    const none = await runAction(ws, { command: 'dry-run', fixtures: 'rules/fixtures/nothing-*.yaml' });
    expect(none.code).toBe(1);
    expect(annotations(none.stdout)).toEqual(["::error title=b24-rules action::no fixtures file matches 'rules/fixtures/nothing-*.yaml'"]);
    const nothing = await runAction(ws, { command: 'dry-run' });
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toContain('::error title=b24-rules action::dry-run needs fixtures, events or at');
  });

  it('diff: against the base commit, no change passes quietly; a changed threshold is a notice on its rule and the diff in the summary (exit 2 with --detailed-exitcode)', async () => {
    const ws = await workspace();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ws, stdio: 'pipe' });
    git('init', '-q');
    git('add', 'rules');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'base');
    const inputs = { command: 'diff', base: 'HEAD', fixtures: 'rules/fixtures/*.fixtures.yaml', at: '2026-11-24T09:00:00+03:00', args: '--detailed-exitcode' };
    const same = await runAction(ws, inputs);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(annotations(same.stdout)).toEqual([]);

    const file = 'rules/big-lead-callback.yaml';
    writeFileSync(join(ws, file), readFileSync(join(ws, file), 'utf8').replace('100000]', '1000000]'));
    const changed = await runAction(ws, inputs);
    expect(changed.code, changed.stdout + changed.stderr).toBe(2);
    // One notice, on the changed line: both big leads no longer get their task and comment.
    const line = lineOf(ws, file, '">=": [{ var: lead.OPPORTUNITY }, 1000000]');
    expect(annotations(changed.stdout)).toEqual([expect.stringMatching(new RegExp(`^::notice file=rules/big-lead-callback\\.yaml,line=${line},title=big-lead-callback%3A 2 runs differ::runs \\+0 −0 ~2, calls \\+0 −4 ~0`))]);
    expect(changed.summary).toContain('### b24-rules diff');
    expect(changed.summary).toContain('| `big-lead-callback` <sub>rules/big-lead-callback.yaml:' + line + '</sub> | changed | 0 / 0 / 2 | 0 / 4 / 0 |');

    const noBase = await runAction(ws, { command: 'diff' });
    expect(noBase.code).toBe(2);
    expect(annotations(noBase.stdout)).toEqual([expect.stringContaining('::error title=b24-rules action::diff needs base')]);
    // With --detailed-exitcode, 2 would read as "the plans differ": bad usage is 1 there, as the CLI's.
    const noBaseDetailed = await runAction(ws, { command: 'diff', args: '--detailed-exitcode' });
    expect(noBaseDetailed.code).toBe(1);
    expect(annotations(noBaseDetailed.stdout)).toEqual([expect.stringContaining('::error title=b24-rules action::diff needs base')]);
  });

  it('runs the CLI of the package the action is part of when the repository has none installed (uses: ./node_modules/b24-rules)', async () => {
    const ws = await workspace(false);
    const r = await runAction(ws, { command: 'validate' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary).toContain('✅ **1 file, 1 rule');
  });

  it('without any b24-rules it fails with an error annotation saying how to install it', async () => {
    const ws = await workspace(false);
    // The action checked out from its repository (uses: <owner>/b24-rules@v1): action.yml and its script, no built CLI.
    const checkout = join(root, 'action-checkout');
    mkdirSync(join(checkout, 'action'), { recursive: true });
    for (const f of ['action.yml', 'action/run.sh']) writeFileSync(join(checkout, f), readFileSync(join(PACKAGE_ROOT, f)));
    const r = await runAction(ws, { command: 'validate' }, checkout);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error title=b24-rules action::b24-rules is not installed in .*npm i -D b24-rules/m);
  });

  it('an unknown command is refused (exit 2), and inputs are never run as shell', async () => {
    const ws = await workspace();
    const bad = await runAction(ws, { command: 'apply' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain("::error title=b24-rules action::command must be validate, test, dry-run or diff; got 'apply'");
    const injected = await runAction(ws, { command: 'validate', paths: 'rules/ $(touch pwned) `touch pwned2`' });
    expect(injected.code).toBe(1);
    expect(existsSync(join(ws, 'pwned'))).toBe(false);
    expect(existsSync(join(ws, 'pwned2'))).toBe(false);
  });
});
