/** `rules validate [PATHS...]`: check rule files against the schemas and the semantic checks; exit 0 when all are valid. */
import { resolve } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import { DIAGNOSTICS_FORMATS, formatDiagnostics, formatSummary, loadRules, type DiagnosticsFormat } from '../../engine/rules/index.js';
import { parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules validate [PATHS...] [--format text|json|github]

Validate rule files: YAML syntax, the JSON Schemas (schemas/rule.schema.json),
cron expressions and time zones, json-logic operators, templates and the names
they use, Bitrix24 method names, duplicate rule ids, unsafe bulk writes.

PATHS are files or directories (default: ./rules). Directories are searched
for *.yaml and *.yml, except *.test.yaml.

Options:
  --format FORMAT  text (default), json (versioned document), github
                   (annotations for GitHub Actions)
  -h, --help       show this help

Exit codes: 0 all rules valid, 1 errors found, 2 bad usage.
`;

const command: Command = {
  summary: 'validate rule files against the schemas',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { format: { type: 'string' } });
    const format = (values.format ?? 'text') as DiagnosticsFormat;
    if (!DIAGNOSTICS_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${DIAGNOSTICS_FORMATS.join(', ')}; got '${String(values.format)}'`);
    const paths = positionals.length > 0 ? positionals : [resolve('rules')];
    const result = await loadRules(paths);
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
    return result.diagnostics.some((d) => d.severity === 'error') ? EXIT.ERROR : EXIT.OK;
  },
};

export default command;
