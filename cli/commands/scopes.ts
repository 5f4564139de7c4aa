/** `rules scopes [PATHS...]`: the least-privilege Bitrix24 scopes the rules need, from the catalog. */
import { resolve } from 'node:path';
import { scopesOf, type ScopeReport } from '../../engine/catalog/index.js';
import { printJson } from '../../engine/daemon/index.js';
import { formatDiagnostics, loadRules } from '../../engine/rules/index.js';
import { FORMAT_OPTIONS, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules scopes [PATHS...] [--format text|json]

List the Bitrix24 scopes the rules need, and no more: the catalog's scope
(catalog/methods.json) of every REST method the rules call (their triggers'
record reads, loads, foreach lists, actions, and the reads that settle a call
in doubt) and of every event they bind (triggers, wait_for). Paste the last
line into the incoming webhook's permissions or the app's scopes. 'basic'
(events, batch, app.info) is open to every webhook and app and not listed.

PATHS are rule files or directories (default: ./rules).

Options:
  --format FORMAT  text (default) or json (format_version, scopes, and per
                   scope the rules, methods and events that need it);
                   --json is the same as --format json

'rules validate --scopes' compares them with what the configured webhook or
app has. Exit codes: 0 listed, 1 invalid rules or no rule files, 2 bad usage.
`;

/** The JSON form: the scopes to paste, then why each is needed. */
export function scopesJson(report: ScopeReport): unknown {
  return {
    format_version: 1,
    scopes: report.scopes.map((s) => s.scope),
    needs: report.scopes,
    unknown_methods: report.unknownMethods,
    unknown_events: report.unknownEvents,
    unresolved: report.unresolved,
    rules: report.rules.map((r) => ({ id: r.ruleId, file: r.file, line: r.line, methods: r.methods.map((m) => m.method), events: r.events })),
  };
}

function text(report: ScopeReport, rules: number): string {
  const lines: string[] = [];
  const width = Math.max(5, ...report.scopes.map((s) => s.scope.length));
  lines.push(`Scopes the ${rules} rule${rules === 1 ? '' : 's'} need:`, '');
  for (const s of report.scopes) {
    const why = [...s.methods, ...s.events].join(', ');
    const alt = s.alternatives.length ? ` (or ${s.alternatives.join(', ')})` : '';
    lines.push(`  ${s.scope.padEnd(width)}  ${s.rules.length} rule${s.rules.length === 1 ? '' : 's'}${alt}: ${why}`);
  }
  if (report.scopes.length === 0) lines.push('  (none beyond basic)');
  for (const m of report.unknownMethods) lines.push(`warning: ${m.method} (${m.rules.join(', ')}) is not in the catalog: its scope is unknown`);
  for (const e of report.unknownEvents) lines.push(`warning: event ${e.event} (${e.rules.join(', ')}) has no scope in the catalog`);
  for (const u of report.unresolved) lines.push(`warning: ${u.file}:${u.line}: rule ${u.rule}, ${u.what}: a template, so its scope is known only when it runs`);
  lines.push('', `For the webhook's or app's settings: ${report.scopes.map((s) => s.scope).join(', ') || '(none)'}`);
  return `${lines.join('\n')}\n`;
}

const command: Command = {
  summary: 'list the Bitrix24 scopes the rules need (for the webhook or app settings)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...FORMAT_OPTIONS });
    const format = outputFormat(values, ['text', 'json'], 'text');
    const paths = positionals.length > 0 ? positionals : [resolve('rules')];
    const loaded = await loadRules(paths);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      process.stderr.write(formatDiagnostics(errors, 'text'));
      process.stderr.write(`rules scopes: ${errors.length} error${errors.length === 1 ? '' : 's'} in the rules; fix them first (rules validate shows the same).\n`);
      return EXIT.ERROR;
    }
    if (loaded.files.length === 0) {
      process.stderr.write(`rules scopes: no rule files found in ${paths.join(', ')}\n`);
      return EXIT.ERROR;
    }
    const report = scopesOf(loaded.rules);
    process.stdout.write(format === 'json' ? printJson(scopesJson(report)) : text(report, loaded.rules.length));
    return EXIT.OK;
  },
};

export default command;
