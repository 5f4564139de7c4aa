/**
 * `rules validate --format github` in GitHub Actions: the Markdown the command
 * appends to $GITHUB_STEP_SUMMARY (the job's summary page), beside its
 * annotations: the counts and a table of the diagnostics.
 */
import { redact } from '../redact.js';
import { formatSummary } from './format-diagnostics.js';
import type { LoadResult } from './types.js';

/** Diagnostics listed in the table; the annotations and the log have every one. */
export const SUMMARY_MAX_ROWS = 100;

/** Text for a Markdown table cell. */
function cell(text: string): string {
  return redact(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'");
}

/** The Markdown for the step summary of a validation. */
export function validationStepSummary(result: LoadResult): string {
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const out = ['### b24-rules validate', '', `${errors > 0 ? '❌' : '✅'} **${formatSummary(result)}**`, ''];
  if (result.diagnostics.length > 0) {
    out.push('| file | line | severity | code | rule | message |', '|---|---|---|---|---|---|');
    for (const d of result.diagnostics.slice(0, SUMMARY_MAX_ROWS)) {
      const message = d.hint ? `${d.message} (hint: ${d.hint})` : d.message;
      out.push(`| \`${cell(d.file)}\` | ${d.line}:${d.col} | ${d.severity} | \`${cell(d.code)}\` | ${d.ruleId ? `\`${cell(d.ruleId)}\`` : ''} | ${cell(message)} |`);
    }
    if (result.diagnostics.length > SUMMARY_MAX_ROWS) out.push('', `… and ${result.diagnostics.length - SUMMARY_MAX_ROWS} more (the step's log has them all).`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
