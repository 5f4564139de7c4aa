/**
 * A plan diff for GitHub Actions: workflow-command annotations on the changed
 * rules' lines (`::notice` per rule whose runs differ, or that is added or
 * removed, or that changed with no effect on the inputs; `::warning` for a
 * rule whose change makes a run fail to plan), then the text diff for the log.
 * The Markdown goes to $GITHUB_STEP_SUMMARY (written by the caller).
 */
import { describeRun, describeTotals, plural } from './diff-describe.js';
import { renderDiffText } from './diff-render-text.js';
import { annotation, Annotations } from './render-github.js';
import type { PlanDiff, RuleDiff } from './diff-types.js';

/** Runs named in one annotation's message. */
const RUNS_PER_ANNOTATION = 5;

/** Runs of the rule that fail to plan in the change (and did not, or failed otherwise, in the base). */
function newFailures(r: RuleDiff): number {
  return r.runs.filter((run) => run.attributes?.some((a) => a.name === 'error' && a.head !== undefined)).length;
}

export function renderDiffGithub(diff: PlanDiff): string {
  const out = new Annotations();
  const push = (level: 'notice' | 'warning', line: string): void => out.push(level, line);
  const several = diff.inputs.length > 1;
  for (const r of diff.rules) {
    const where = { ...(r.file ? { file: r.file } : {}), ...((r.changed_line ?? r.line) ? { line: r.changed_line ?? r.line } : {}) };
    const failing = newFailures(r);
    if (failing > 0) push('warning', annotation('warning', { ...where, title: `${r.rule}: ${plural(failing, 'run')} fail${failing === 1 ? 's' : ''} to plan after the change` }, 'The change makes these runs fail to plan: see the diff in the log or the job summary.'));
    const named = r.runs.slice(0, RUNS_PER_ANNOTATION).map((run) => `${{ added: '+', removed: '-', changed: '~' }[run.change]} ${describeRun(run, several)}`);
    if (r.runs.length > RUNS_PER_ANNOTATION) named.push(`and ${plural(r.runs.length - RUNS_PER_ANNOTATION, 'more run')}`);
    const title = r.change === 'changed' ? `${r.rule}: ${plural(r.runs.length, 'run')} differ${r.runs.length === 1 ? 's' : ''}` : `${r.rule}: rule ${r.change}`;
    const body = r.runs.length > 0 ? `${describeTotals(r.totals)}\n${named.join('\n')}` : `No run of it on these inputs.`;
    push('notice', annotation('notice', { ...where, title }, body));
  }
  for (const r of diff.no_effect) {
    const where = { ...(r.file ? { file: r.file } : {}), ...((r.changed_line ?? r.line) ? { line: r.changed_line ?? r.line } : {}) };
    push('notice', annotation('notice', { ...where, title: `${r.rule}: changed, no run differs` }, 'The rule changed, but it plans the same on these inputs: they may not reach the change (add fixtures or events that do).'));
  }
  const lines = out.close((level, n) => annotation(level, { title: plural(n, 'more rule') }, `${plural(n, 'more rule')}: see the job summary or the diff below.`));
  return `${lines.length > 0 ? `${lines.join('\n')}\n` : ''}${renderDiffText(diff)}`;
}
