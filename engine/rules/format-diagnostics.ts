/**
 * Diagnostics for people and machines: `text` (file:line:col: error CODE
 * [rule] message, then the hint), `json` (versioned document) and `github`
 * (workflow commands that annotate the pull request). This is the one
 * formatter of diagnostics (the CLI, the daemon's refusals and its reload log
 * use it), and everything it prints passes through redact(), in case a rule
 * carries a secret literally.
 */
import { redact, redactValue } from '../redact.js';
import type { Diagnostic, LoadResult } from './types.js';

export type DiagnosticsFormat = 'text' | 'json' | 'github';
export const DIAGNOSTICS_FORMATS: readonly DiagnosticsFormat[] = ['text', 'json', 'github'];

/** Version of the json output; bumped on incompatible changes. */
export const DIAGNOSTICS_FORMAT_VERSION = 1;

function text(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}${d.ruleId ? ` [${d.ruleId}]` : ''} ${d.message}`;
  return redact(d.hint ? `${head}\n  hint: ${d.hint}` : head);
}

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function github(d: Diagnostic): string {
  // Redacted before escaping, so a secret is found as it was written.
  const title = redact(d.ruleId ? `${d.code} [${d.ruleId}]` : d.code);
  const props = [`file=${escapeProperty(redact(d.file))}`, `line=${d.line}`, `col=${d.col}`, `title=${escapeProperty(title)}`].join(',');
  const message = redact(d.hint ? `${d.message}\nhint: ${d.hint}` : d.message);
  return `::${d.severity === 'warning' ? 'warning' : 'error'} ${props}::${escapeData(message)}`;
}

/** Format diagnostics; `result` adds the per-file status to json output. */
export function formatDiagnostics(diagnostics: Diagnostic[], format: DiagnosticsFormat, result?: LoadResult): string {
  if (format === 'json') {
    const doc: Record<string, unknown> = {
      format_version: DIAGNOSTICS_FORMAT_VERSION,
      diagnostics: diagnostics.map((d) => redactValue(d)),
    };
    if (result) {
      doc.files = result.files;
      doc.summary = summaryCounts(result);
    }
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  const lines = diagnostics.map(format === 'github' ? github : text);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function summaryCounts(result: LoadResult) {
  const rulesTotal = result.files.reduce((n, f) => n + (f.rules?.length ?? f.ruleIds.length), 0);
  return {
    files: result.files.length,
    files_ok: result.files.filter((f) => f.ok).length,
    rules: rulesTotal,
    rules_ok: result.rules.length,
    errors: result.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: result.diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

/** One summary line: "3 files, 7 rules: 6 valid, 1 invalid; 2 errors, 1 warning". */
export function formatSummary(result: LoadResult): string {
  const c = summaryCounts(result);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(c.files, 'file')}, ${plural(c.rules, 'rule')}: ${c.rules_ok} valid, ${c.rules - c.rules_ok} invalid; ${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}`;
}
