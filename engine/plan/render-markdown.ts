/** The plan as Markdown: a PR comment or a GitHub step summary. */
import { describeChanges, describeCondition, describeRecord, describeTimer, describeTrigger, formatValue, headline } from './describe.js';
import type { PlanDocument } from './types.js';

/** Escape text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'");
}

/** `1 rule`, `2 rules`. */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Rows of the runs table and runs with their calls shown, so a PR comment stays under GitHub's size limit. */
export const MARKDOWN_LIMITS = { tableRows: 100, detailedRuns: 50 };

export function renderMarkdown(plan: PlanDocument): string {
  const out: string[] = [];
  out.push('### b24-rules dry-run');
  out.push('');
  out.push(`**${headline(plan)}**`);
  out.push('');
  const src = plan.source.mode === 'fixtures' ? `fixtures \`${plan.source.fixtures ?? ''}\`` : `portal \`${plan.source.portal ?? ''}\``;
  out.push(`At \`${plan.at}\` on ${src}: ${count(plan.rules.count, 'rule')}, ${count(plan.inputs.events, 'event')}, ${count(plan.inputs.schedule_ticks.length, 'schedule tick')}.`);
  out.push('');
  if (plan.firings.length > 0) {
    out.push('| # | rule | trigger | record | condition | writes |');
    out.push('|---|---|---|---|---|---|');
    plan.firings.slice(0, MARKDOWN_LIMITS.tableRows).forEach((f, i) => {
      const writes = f.error ? `error: ${f.error.code}` : f.mode === 'shadow' ? `shadow: ${f.calls.length}, not sent` : String(f.calls.filter((c) => c.kind === 'write').length);
      out.push(`| ${i + 1} | \`${cell(f.rule)}\` | ${cell(describeTrigger(f))} | ${cell(describeRecord(f))} | ${cell(describeCondition(f))} | ${cell(writes)} |`);
    });
    if (plan.firings.length > MARKDOWN_LIMITS.tableRows) out.push(`\n… and ${count(plan.firings.length - MARKDOWN_LIMITS.tableRows, 'more run')} (the JSON plan has them all).`);
    out.push('');
  }
  const timed = plan.firings.flatMap((f, i) => (f.timers ?? []).map((t) => `- [${i + 1}] \`${cell(f.rule)}\` on ${cell(describeRecord(f))}: ${cell(describeTimer(t))}`));
  if (timed.length > 0) {
    out.push('Timers the change would start:');
    out.push('');
    out.push(...timed.slice(0, MARKDOWN_LIMITS.tableRows));
    out.push('');
  }
  const acting = plan.firings.map((f, i) => ({ f, i })).filter(({ f }) => f.calls.length > 0 || f.error);
  if (acting.length > 0) {
    out.push('<details><summary>Calls</summary>');
    out.push('');
    for (const { f, i } of acting.slice(0, MARKDOWN_LIMITS.detailedRuns)) {
      out.push(`**[${i + 1}] \`${f.rule}\`**${f.mode === 'shadow' ? ' (shadow: journaled, never sent)' : ''} on ${cell(describeRecord(f))}`);
      out.push('');
      out.push('```');
      if (f.error) out.push(`error ${f.error.code}: ${f.error.message}`);
      f.calls.forEach((c, j) => {
        out.push(`${j + 1}. ${c.kind === 'write' ? '' : '(read) '}${c.method} ${formatValue(c.params)}`);
        for (const line of describeChanges(c)) out.push(`     ${line}`);
      });
      out.push('```');
      out.push('');
    }
    if (acting.length > MARKDOWN_LIMITS.detailedRuns) out.push(`… and ${count(acting.length - MARKDOWN_LIMITS.detailedRuns, 'more run')} with calls (the JSON plan has them all).\n`);
    out.push('</details>');
    out.push('');
  }
  const e = plan.estimate;
  out.push(`Batches: ${plan.batches.length}. HTTP requests: ~${e.http_requests} (${e.read_requests} read, ${e.write_requests} write), ~${e.seconds} s at the ${e.plan} limit (burst ${e.burst}, ${e.rate_per_second}/s).`);
  return `${out.join('\n')}\n`;
}
