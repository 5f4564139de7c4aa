/** `rules validate [PATHS...]`: check rule files against the schemas and the semantic checks; exit 0 when all are valid. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkGrantedScopes } from '../../engine/catalog/index.js';
import { readEnvironment } from '../../engine/config.js';
import { parseDotenv } from '../../engine/dotenv.js';
import { UsageError } from '../../engine/errors.js';
import { checkWriteConflicts, DIAGNOSTICS_FORMATS, formatDiagnostics, formatSummary, loadRules, validationStepSummary, type DiagnosticsFormat } from '../../engine/rules/index.js';
import { parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules validate [PATHS...] [--format text|json|github] [--env | --dotenv FILE]
                      [--portal-snapshot FILE | --no-portal-snapshot] [--scopes]

Validate rule files: YAML syntax, the JSON Schemas (schemas/rule.schema.json),
cron expressions and time zones, json-logic operators, templates and the names
they use, Bitrix24 method names, duplicate rule ids, unsafe bulk writes, and
two rules that can write the same field of the same record on the same
trigger (a WRITE_CONFLICT warning naming both places; docs/rule-format.md).

PATHS are files or directories (default: ./rules). Directories are searched
for *.yaml and *.yml, except *.test.yaml.

With a portal snapshot ('rules portal pull' writes .rules/portal.json; it is
found beside the rule files or in a folder above them), every field code,
stage ID, pipeline, user ID and list value the rules write is checked against
the portal's, with a did-you-mean, and names resolve to IDs.

Options:
  --format FORMAT  text (default), json (versioned document), github
                   (annotations for GitHub Actions, and a table of the
                   diagnostics appended to $GITHUB_STEP_SUMMARY when set)
  --env            also check each rule's env: names against the environment
                   and ./.env, as 'rules run' reads them: an unset (or empty)
                   one is an ENV_MISSING warning with the rule and file:line
  --dotenv FILE    the same with FILE instead of ./.env (the environment
                   still wins over the file, as for 'rules run')
  --portal-snapshot FILE  check against this snapshot instead of the one
                   found beside the rules
  --no-portal-snapshot    check without a snapshot (as before 'rules portal pull')
  --scopes         also ask the configured portal (as for 'rules call') which
                   scopes its webhook or app has ('scope', 'app.info'): each
                   scope the rules need that it lacks is a SCOPE_MISSING
                   warning on the rules that need it ('rules scopes' lists them)
  -h, --help       show this help

Exit codes: 0 all rules valid, 1 errors found, 2 bad usage.
`;

const command: Command = {
  summary: 'validate rule files against the schemas',
  usage,
  async run(argv) {
    // Not --env-file: Node 20 takes that option for itself wherever it stands on the command line.
    const { values, positionals } = parse(argv, { format: { type: 'string' }, env: { type: 'boolean' }, dotenv: { type: 'string' }, 'portal-snapshot': { type: 'string' }, 'no-portal-snapshot': { type: 'boolean' }, scopes: { type: 'boolean' } });
    const format = (values.format ?? 'text') as DiagnosticsFormat;
    if (!DIAGNOSTICS_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${DIAGNOSTICS_FORMATS.join(', ')}; got '${String(values.format)}'`);
    const paths = positionals.length > 0 ? positionals : [resolve('rules')];
    const env = environment(values.env === true, values.dotenv);
    const snapshot = portalSnapshot(values['portal-snapshot'], values['no-portal-snapshot'] === true);
    const result = await loadRules(paths, { ...(env ? { env } : {}), ...(snapshot !== undefined ? { portalSnapshot: snapshot } : {}) });
    result.diagnostics.push(...checkWriteConflicts(result.rules));
    if (values.scopes && result.rules.length > 0) result.diagnostics.push(...(await checkGrantedScopes(result.rules)));
    if (result.files.length === 0) {
      result.diagnostics.push({
        severity: 'error',
        code: 'NO_RULE_FILES',
        message: `no rule files (*.yaml, *.yml) found in ${paths.join(', ')}`,
        file: paths[0] ?? '.',
        line: 1,
        col: 1,
        hint: 'pass rule files or a directory that holds them',
      });
    }
    const out = formatDiagnostics(result.diagnostics, format, result);
    process.stdout.write(out);
    if (format === 'text') process.stdout.write(`${formatSummary(result)}\n`);
    if (format === 'github' && process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, validationStepSummary(result));
    return result.diagnostics.some((d) => d.severity === 'error') ? EXIT.ERROR : EXIT.OK;
  },
};

/** The snapshot option: a file that must exist, none (false), or undefined for the one found beside the rules. */
function portalSnapshot(file: string | undefined, none: boolean): string | false | undefined {
  if (file !== undefined && none) throw new UsageError('--portal-snapshot and --no-portal-snapshot exclude each other');
  if (none) return false;
  if (file === undefined) return undefined;
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`--portal-snapshot: ${path} does not exist; 'rules portal pull --out ${file}' writes it`);
  return path;
}

/** The environment to check `env:` names against: none, the daemon's (environment over ./.env), or the environment over FILE. */
function environment(flag: boolean, file: string | undefined): Record<string, string | undefined> | undefined {
  if (file === undefined) return flag ? readEnvironment() : undefined;
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--dotenv: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const merged: Record<string, string | undefined> = parseDotenv(text, path);
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) merged[k] = v;
  return merged;
}

export default command;
