/** `rules init [DIR]`: scaffold a rules repository (templates/init/): an example rule with its test and fixtures, editor settings, CI, README. */
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { B24RulesError, UsageError } from '../../engine/errors.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: b24-rules init [DIR]

Scaffold a repository of rules in DIR (default: the current folder), for a
team that keeps its rules in a repository of its own with b24-rules as a
development dependency (npm i -D b24-rules):

  rules/big-lead-callback.yaml        an example rule, commented
  rules/big-lead-callback.test.yaml   its tests (npx b24-rules test)
  rules/fixtures/...fixtures.yaml     the portal data and events they run on
  .vscode/settings.json               the schemas from node_modules/b24-rules/schemas
                                      for the editor (completion, inline errors)
  .github/workflows/rules.yml         CI with the b24-rules action: validate,
                                      test, dry-run on every pull request
  .env.example                        the portal's connection, to copy to .env
  .gitignore                          .env, .rules/ (but the portal snapshot)
  README.md                           the loop: validate, test, dry-run, diff
  package.json                        only when DIR has none

It never overwrites: when one of these files is there already, it writes
nothing and names it (exit 1).

Exit codes: 0 written, 1 a file exists or cannot be written, 2 bad usage.
`;

const TEMPLATES = join(PACKAGE_ROOT, 'templates', 'init');

/** Template paths (relative, with /) under `dir`, sorted. */
function templateFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...templateFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Where a template goes: a leading `_` of a name is a dot (npm leaves .gitignore out of packages). */
function targetOf(template: string): string {
  return template
    .split('/')
    .map((s) => (s.startsWith('_') ? `.${s.slice(1)}` : s))
    .join('/');
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A package.json for a folder that has none: b24-rules as a development dependency of this version. */
function packageJson(dir: string): string {
  const version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+|-+$/g, '') || 'rules';
  const pkg = {
    name,
    private: true,
    description: 'Bitrix24 automation rules',
    scripts: { validate: 'b24-rules validate', test: 'b24-rules validate && b24-rules test' },
    devDependencies: { 'b24-rules': `^${version}` },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Whether an existing package.json names b24-rules among its dependencies. */
function dependsOnUs(file: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>;
    return ['dependencies', 'devDependencies'].some((k) => pkg[k]?.['b24-rules'] !== undefined);
  } catch {
    return false;
  }
}

const command: Command = {
  summary: 'scaffold a rules repository: an example rule with its test and fixtures, editor settings, CI workflow',
  usage,
  async run(argv) {
    const { positionals } = parse(argv, {});
    if (positionals.length > 1) throw new UsageError(`init takes one folder; got ${positionals.length}: ${positionals.join(' ')}`);
    const dir = resolve(positionals[0] ?? '.');
    const files = new Map(templateFiles(TEMPLATES).map((t) => [targetOf(t), readFileSync(join(TEMPLATES, t), 'utf8')]));
    const pkgFile = join(dir, 'package.json');
    const hadPackage = exists(pkgFile);
    const existing = [...files.keys()].filter((t) => exists(join(dir, t)));
    if (existing.length > 0) {
      const where = relative(process.cwd(), dir) || '.';
      throw new B24RulesError(
        'INIT_FILE_EXISTS',
        `${existing.map((f) => join(where, f)).join(', ')} ${existing.length === 1 ? 'exists' : 'exist'}: init writes nothing over a file, so it wrote nothing. Move ${existing.length === 1 ? 'it' : 'them'} aside, or scaffold into a new folder: b24-rules init DIR`,
      );
    }
    if (!hadPackage) files.set('package.json', packageJson(dir));
    for (const [target, text] of files) {
      const path = join(dir, target);
      mkdirSync(dirname(path), { recursive: true });
      // 'wx': a file that appeared since the check is not overwritten either.
      writeFileSync(path, text, { flag: 'wx' });
    }
    const where = relative(process.cwd(), dir) || '.';
    process.stdout.write(`Created in ${where}:\n${[...files.keys()].map((f) => `  ${f}\n`).join('')}`);
    const steps = [
      ...(hadPackage && !dependsOnUs(pkgFile) ? ['npm i -D b24-rules          # package.json does not list it yet'] : []),
      ...(!hadPackage ? ['npm install                  # b24-rules, as package.json lists it'] : []),
      'npx b24-rules validate',
      'npx b24-rules test',
      'npx b24-rules dry-run rules/big-lead-callback.yaml --fixtures rules/fixtures/big-lead-callback.fixtures.yaml',
    ];
    process.stdout.write(`\nNext${where === '.' ? '' : ` (in ${where})`}:\n${steps.map((s) => `  ${s}\n`).join('')}Then read README.md: the loop of a change, and the portal's connection (.env.example).\n`);
    return EXIT.OK;
  },
};

export default command;
