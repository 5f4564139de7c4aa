/**
 * A plan diff as Markdown, for a pull-request comment or a GitHub step
 * summary: the headline, a table with one row per rule that differs, then
 * each rule's runs in a collapsed `diff` block (GitHub colours the `+` and `-`
 * lines). Cut to MARKDOWN_DIFF_LIMITS, saying how much was left out, so a
 * comment stays under GitHub's size limit; the JSON diff has everything.
 */
import { describeInputs, describePlace, describeRecords, describeRun, diffHeadline, plural, runLines } from './diff-describe.js';
import type { PlanDiff } from './diff-types.js';

/** Table rows, runs shown in the details (over all rules), records named per row, and lines per run. */
export const MARKDOWN_DIFF_LIMITS = { tableRows: 50, detailedRuns: 40, recordsPerRow: 5, linesPerRun: 30 };

/** Escape text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'");
}

export function renderDiffMarkdown(diff: PlanDiff): string {
  const out: string[] = [];
  const several = diff.inputs.length > 1;
  out.push('### b24-rules diff');
  out.push('');
  out.push(`**${diffHeadline(diff)}**`);
  out.push('');
  out.push(`Base \`${diff.base.label}\` → change \`${diff.head.label}\`, at \`${diff.at}\`, on ${describeInputs(diff) || 'no input'}.`);
  out.push('');
  if (diff.rules.length > 0) {
    out.push('| rule | change | runs + / − / ~ | calls + / − / ~ | records |');
    out.push('|---|---|---|---|---|');
    for (const r of diff.rules.slice(0, MARKDOWN_DIFF_LIMITS.tableRows)) {
      const t = r.totals;
      const place = describePlace({ ...(r.file ? { file: r.file } : {}), ...((r.changed_line ?? r.line) ? { line: r.changed_line ?? r.line } : {}) });
      out.push(`| \`${cell(r.rule)}\`${place ? ` <sub>${cell(place)}</sub>` : ''} | ${r.change} | ${t.runs_added} / ${t.runs_removed} / ${t.runs_changed} | ${t.calls_added} / ${t.calls_removed} / ${t.calls_changed} | ${cell(describeRecords(r, MARKDOWN_DIFF_LIMITS.recordsPerRow))} |`);
    }
    if (diff.rules.length > MARKDOWN_DIFF_LIMITS.tableRows) out.push(`\n… and ${plural(diff.rules.length - MARKDOWN_DIFF_LIMITS.tableRows, 'more rule')} (the JSON diff, \`--format json\`, has them all).`);
    out.push('');
  }
  if (diff.no_effect.length > 0) {
    out.push(`Changed, but no run differs on these inputs: ${diff.no_effect.map((r) => `\`${cell(r.rule)}\``).join(', ')}.`);
    out.push('');
  }
  let shown = 0;
  let left = 0;
  for (const r of diff.rules) {
    if (r.runs.length === 0) continue;
    const room = Math.max(0, MARKDOWN_DIFF_LIMITS.detailedRuns - shown);
    const runs = r.runs.slice(0, room);
    left += r.runs.length - runs.length;
    if (runs.length === 0) continue;
    shown += runs.length;
    out.push(`<details><summary><code>${r.rule}</code>: ${plural(r.runs.length, 'run')} differ${r.runs.length === 1 ? 's' : ''}</summary>`);
    out.push('');
    out.push('```diff');
    for (const run of runs) {
      out.push(`${{ added: '+', removed: '-', changed: '~' }[run.change]} ${describeRun(run, several)}`);
      const lines = runLines(run, 'diff');
      out.push(...lines.slice(0, MARKDOWN_DIFF_LIMITS.linesPerRun));
      if (lines.length > MARKDOWN_DIFF_LIMITS.linesPerRun) out.push(`  … ${plural(lines.length - MARKDOWN_DIFF_LIMITS.linesPerRun, 'more line')}`);
    }
    out.push('```');
    if (runs.length < r.runs.length) out.push(`\n… and ${plural(r.runs.length - runs.length, 'more run')} of \`${r.rule}\`.`);
    out.push('');
    out.push('</details>');
    out.push('');
  }
  if (left > 0) out.push(`${plural(left, 'run')} not shown here: \`rules diff --format json\` has them all.`);
  return `${out.join('\n').trimEnd()}\n`;
}
