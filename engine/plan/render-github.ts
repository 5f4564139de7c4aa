/**
 * The plan for GitHub Actions: workflow-command annotations (`::notice` for a
 * rule that would write, `::warning` for a run whose planning failed) followed
 * by the text plan for the log. The Markdown summary goes to
 * $GITHUB_STEP_SUMMARY (written by the caller with `stepSummary`).
 */
import { describeChanges, describeCondition, describeRecord, describeTrigger, formatValue } from './describe.js';
import type { InputFileError } from './errors.js';
import { renderMarkdown } from './render-markdown.js';
import { renderText } from './render-text.js';
import type { PlanDocument } from './types.js';

/** Escape the message part of a workflow command. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escape a property value (file, title) of a workflow command. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One workflow-command annotation. */
export function annotation(level: 'notice' | 'warning' | 'error', props: { file?: string; line?: number; title: string }, message: string): string {
  const p: string[] = [];
  if (props.file) p.push(`file=${escapeProperty(props.file)}`);
  if (props.file && props.line) p.push(`line=${props.line}`);
  p.push(`title=${escapeProperty(props.title)}`);
  return `::${level} ${p.join(',')}::${escapeData(message)}`;
}

/** GitHub shows at most 10 annotations of each level per step; more would be silently dropped. */
export const MAX_ANNOTATIONS = 10;

/** Annotations within GitHub's budget per level: the last place of a level that overflows says how many more there were. */
export class Annotations {
  readonly lines: string[] = [];
  readonly #counts = { notice: 0, warning: 0 };
  readonly #over = { notice: 0, warning: 0 };

  push(level: 'notice' | 'warning', line: string): void {
    if (this.#counts[level] < MAX_ANNOTATIONS - 1) {
      this.#counts[level]++;
      this.lines.push(line);
    } else this.#over[level]++;
  }

  /** The lines, with one closing annotation per level that overflowed (`more` words it). */
  close(more: (level: 'notice' | 'warning', n: number) => string): string[] {
    for (const level of ['notice', 'warning'] as const) if (this.#over[level] > 0) this.lines.push(more(level, this.#over[level]));
    return this.lines;
  }
}

/** A fixtures or events file the command could not read, as an error annotation on its line (GitHub Actions). */
export function inputErrorAnnotation(err: InputFileError): string {
  return annotation('error', { file: err.file, ...(err.line ? { line: err.line } : {}), title: err.code }, err.message);
}

export function renderGithub(plan: PlanDocument): string {
  const out = new Annotations();
  const push = (level: 'notice' | 'warning', line: string): void => out.push(level, line);
  for (const f of plan.firings) {
    const where = { file: f.file, line: f.line };
    if (f.error) {
      push('warning', annotation('warning', { ...where, title: `${f.rule}: planning failed` }, `${describeTrigger(f)}, ${describeRecord(f)}: ${f.error.code}: ${f.error.message}`));
      continue;
    }
    const writes = f.calls.filter((c) => c.kind === 'write');
    if (writes.length === 0) continue;
    if (f.mode === 'shadow') {
      push('notice', annotation('notice', { ...where, title: `${f.rule} (shadow) would journal ${writes.length} call${writes.length === 1 ? '' : 's'}, none sent` }, `${describeTrigger(f)}, ${describeRecord(f)}, condition ${describeCondition(f)}`));
      continue;
    }
    const detail = writes.map((c) => {
      const changes = describeChanges(c);
      return `${c.method} ${changes.length > 0 ? changes.join('; ') : formatValue(c.params)}`;
    });
    push('notice', annotation('notice', { ...where, title: `${f.rule} would write ${writes.length} call${writes.length === 1 ? '' : 's'}` }, `${describeTrigger(f)}, ${describeRecord(f)}, condition ${describeCondition(f)}\n${detail.join('\n')}`));
  }
  const lines = out.close((level, n) => annotation(level, { title: `${n} more rule run${n === 1 ? '' : 's'}` }, `${n} more ${level === 'notice' ? 'rule runs would write' : 'runs failed to plan'}: see the job summary or the plan below.`));
  return `${lines.length > 0 ? `${lines.join('\n')}\n` : ''}${renderText(plan)}`;
}

/** The Markdown to append to $GITHUB_STEP_SUMMARY. */
export function stepSummary(plan: PlanDocument): string {
  return renderMarkdown(plan);
}
