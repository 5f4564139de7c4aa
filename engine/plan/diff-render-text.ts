/** A plan diff as plain text (the default `rules diff` output). */
import { describeInputs, describePlace, describeRun, describeTotals, diffHeadline, plural, runLines } from './diff-describe.js';
import type { PlanDiff } from './diff-types.js';

/** The diff as plain text (the default): per rule, its runs that differ and their calls, `+` added, `-` removed, `~` changed. */
export function renderDiffText(diff: PlanDiff): string {
  const out: string[] = [];
  const several = diff.inputs.length > 1;
  out.push(`Diff of the rules against ${diff.base.label} at ${diff.at} on ${describeInputs(diff) || 'no input'}.`);
  out.push(`Base: ${plural(diff.base.rules, 'rule')}, ${plural(diff.base.runs, 'run')}, ${plural(diff.base.writes, 'write')}. Change (${diff.head.label}): ${plural(diff.head.rules, 'rule')}, ${plural(diff.head.runs, 'run')}, ${plural(diff.head.writes, 'write')}.`);
  out.push('');
  for (const rule of diff.rules) {
    const place = describePlace(rule);
    const at = rule.changed_line && rule.changed_line !== rule.line ? `, changed at line ${rule.changed_line}` : '';
    out.push(`${{ added: '+', removed: '-', changed: '~' }[rule.change]} rule ${rule.rule}${place ? `  (${place}${at})` : ''}${rule.change === 'changed' ? '' : `: ${rule.change}`}${rule.runs.length === 0 ? ', no run on these inputs' : `: ${describeTotals(rule.totals)}`}`);
    for (const run of rule.runs) {
      out.push(`  ${{ added: '+', removed: '-', changed: '~' }[run.change]} ${describeRun(run, several)}`);
      for (const line of runLines(run, 'arrows')) out.push(`  ${line}`);
    }
    out.push('');
  }
  if (diff.no_effect.length > 0) {
    out.push('Changed, but no run differs on these inputs:');
    for (const r of diff.no_effect) out.push(`  = rule ${r.rule}${r.file ? `  (${describePlace({ file: r.file, line: r.changed_line ?? r.line })})` : ''}`);
    out.push('');
  }
  out.push(diffHeadline(diff));
  return `${out.join('\n')}\n`;
}
