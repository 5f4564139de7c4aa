/**
 * Issue 17: `b24-rules init [DIR]` scaffolds a rules repository, and refuses
 * to overwrite: with one of its files in the folder it writes nothing, names
 * the file and exits 1. The scaffold's own loop (validate, test, dry-run) is
 * run from an installed tarball in pack-install.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const SCAFFOLD = [
  '.env.example',
  '.github/workflows/rules.yml',
  '.gitignore',
  '.vscode/settings.json',
  'README.md',
  'package.json',
  'rules/big-lead-callback.test.yaml',
  'rules/big-lead-callback.yaml',
  'rules/fixtures/big-lead-callback.fixtures.yaml',
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'init-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('b24-rules init', () => {
  it("docs/ci.md shows the workflow init writes (its comments aside)", () => {
    const template = readFileSync(join(PACKAGE_ROOT, 'templates', 'init', '_github', 'workflows', 'rules.yml'), 'utf8');
    const steps = template
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n')
      .trim();
    expect(readFileSync(join(PACKAGE_ROOT, 'docs', 'ci.md'), 'utf8')).toContain(`\`\`\`yaml\n${steps}\n\`\`\``);
  });

  it('scaffolds a rules repository in DIR: the example rule, its test and fixtures, editor settings, CI, .env.example, .gitignore, README, package.json', async () => {
    const dir = join(root, 'sales-rules');
    const r = await runCli(['init', dir], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(filesUnder(dir)).toEqual(SCAFFOLD);
    expect(r.stdout).toContain('Created in sales-rules:');
    expect(r.stdout).toContain('npx b24-rules validate');

    const rule = readFileSync(join(dir, 'rules/big-lead-callback.yaml'), 'utf8');
    expect(rule.split('\n')[0]).toBe('# yaml-language-server: $schema=../node_modules/b24-rules/schemas/rule.schema.json');
    const settings = JSON.parse(readFileSync(join(dir, '.vscode/settings.json'), 'utf8')) as { 'yaml.schemas': Record<string, string[]> };
    expect(settings['yaml.schemas']['./node_modules/b24-rules/schemas/rule.schema.json']).toContain('rules/*.yaml');
    expect(settings['yaml.schemas']['./node_modules/b24-rules/schemas/rule-test.schema.json']).toContain('rules/*.test.yaml');
    const ignore = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['.env', '.rules/*', '!.rules/portal.json', 'node_modules/']));
    const workflow = readFileSync(join(dir, '.github/workflows/rules.yml'), 'utf8');
    for (const command of ['validate', 'test', 'dry-run']) expect(workflow).toContain(`command: ${command}`);
    expect(workflow).toContain('uses: ./node_modules/b24-rules');
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const step of ['Validate', 'Test', 'Dry-run', 'Diff']) expect(readme).toContain(`**${step}**`);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; devDependencies: Record<string, string> };
    expect(pkg.name).toBe('sales-rules');
    expect(pkg.devDependencies['b24-rules']).toMatch(/^\^\d+\.\d+\.\d+/);
  });

  it('leaves a package.json that is there as it is, and says to add b24-rules when it does not list it', async () => {
    const dir = join(root, 'has-package');
    mkdirSync(dir);
    const own = '{ "name": "ours", "private": true }\n';
    writeFileSync(join(dir, 'package.json'), own);
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(own);
    expect(r.stdout).not.toMatch(/^ {2}package\.json$/m);
    expect(r.stdout).toContain('npm i -D b24-rules');
  });

  it('refuses to overwrite: with one of its files there it writes nothing, names the file and exits 1', async () => {
    const dir = join(root, 'has-readme');
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(dir, 'README.md'), '# ours\n');
    writeFileSync(join(dir, '.github', 'workflows', 'rules.yml'), 'name: ours\n');
    const r = await runCli(['init', 'has-readme'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('INIT_FILE_EXISTS');
    expect(r.stderr).toContain('has-readme/README.md');
    expect(r.stderr).toContain('has-readme/.github/workflows/rules.yml');
    expect(r.stderr).toContain('wrote nothing');
    expect(filesUnder(dir)).toEqual(['.github/workflows/rules.yml', 'README.md']);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# ours\n');
    expect(existsSync(join(dir, 'rules'))).toBe(false);
  });

  it('a second init over its own scaffold refuses, and more than one folder is bad usage', async () => {
    const dir = join(root, 'twice');
    expect((await runCli(['init', dir])).code).toBe(0);
    const before = filesUnder(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    const again = await runCli(['init', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('rules/big-lead-callback.yaml');
    expect(filesUnder(dir).map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
    const usage = await runCli(['init', 'a', 'b'], { cwd: root });
    expect(usage.code).toBe(2);
  });
});
