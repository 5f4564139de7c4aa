/** `rules validate` as a user runs it: a subprocess of the built CLI (npm test builds dist/ first). */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'rules.js');
const run = promisify(execFile);

async function rules(args: string[], cwd = PACKAGE_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-validate-'));
const good = join(tmp, 'good.yaml');
const bad = join(tmp, 'bad, odd:name.yaml');

beforeAll(() => {
  expect(existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'commands', 'validate.js')), 'build first: npx tsc -p tsconfig.build.json').toBe(true);
  writeFileSync(good, 'id: good\ntrigger: { manual: {} }\nactions:\n  - stop: {}\n');
  writeFileSync(bad, 'id: bad\ntrigger:\n  event: ONCRMDEALUPDATE\nactions:\n  - comment: { entity: dael, id: "{{ deal.ID }}", text: "100% done" }\n');
  mkdirSync(join(tmp, 'cwd', 'rules'), { recursive: true });
  writeFileSync(join(tmp, 'cwd', 'rules', 'one.yaml'), 'id: one\ntrigger: { manual: {} }\nactions:\n  - stop: {}\n');
  mkdirSync(join(tmp, 'empty'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('rules validate', () => {
  it('exits 0 for valid files, with a summary line', async () => {
    const r = await rules(['validate', good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1 file, 1 rule: 1 valid, 0 invalid; 0 errors, 0 warnings\n');
  });

  it('defaults to ./rules', async () => {
    const r = await rules(['validate'], join(tmp, 'cwd'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 file, 1 rule: 1 valid');
  });

  it('exits 1 with file:line:col, code, rule id, message and hint', async () => {
    const r = await rules(['validate', good, bad]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${bad}:5:24: error SCHEMA [bad] actions[0].comment.entity must be one of: lead, deal, contact, company, item (got "dael"); did you mean 'deal'?`);
    expect(lines[1]).toMatch(/^ {2}hint: /);
    expect(lines.at(-1)).toBe('2 files, 2 rules: 1 valid, 1 invalid; 1 error, 0 warnings');
  });

  it('--format json prints a versioned document', async () => {
    const r = await rules(['validate', '--format', 'json', good, bad]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { format_version: number; diagnostics: Array<Record<string, unknown>>; files: Array<{ file: string; ok: boolean }>; summary: Record<string, number> };
    expect(doc.format_version).toBe(1);
    expect(doc.diagnostics).toMatchObject([{ severity: 'error', code: 'SCHEMA', file: bad, line: 5, col: 24, ruleId: 'bad', path: '/actions/0/comment/entity' }]);
    expect(doc.files.map((f) => f.ok)).toEqual([true, false]);
    expect(doc.summary).toEqual({ files: 2, files_ok: 1, rules: 2, rules_ok: 1, errors: 1, warnings: 0 });
  });

  it('--format github prints escaped workflow commands', async () => {
    const r = await rules(['validate', '--format=github', bad]);
    expect(r.code).toBe(1);
    const file = bad.replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(r.stdout).toMatch(new RegExp(`^::error file=${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},line=5,col=24,title=SCHEMA \\[bad\\]::actions\\[0\\]\\.comment\\.entity must be one of: .*%0Ahint: .*\\n$`));
  });

  it('exits 2 on bad usage', async () => {
    expect((await rules(['validate', '--format', 'xml', good])).code).toBe(2);
    const r = await rules(['validate', '--frmat', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--frmat');
  });

  it('exits 1 when there is nothing to validate or a path does not exist', async () => {
    const empty = await rules(['validate', join(tmp, 'empty')]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('NO_RULE_FILES');
    const missing = await rules(['validate', join(tmp, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('FILE_NOT_FOUND');
  });

  it('prints its help', async () => {
    const r = await rules(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: rules validate [PATHS...]');
  });
});
