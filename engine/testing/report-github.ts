/**
 * `rules test --format github` in GitHub Actions: an `::error` annotation on
 * the line of each failed case (at most as many as GitHub shows for a step),
 * and the Markdown the command appends to $GITHUB_STEP_SUMMARY.
 */
import { escapeData, escapeProperty } from '../plan/index.js';
import { redact } from '../redact.js';
import { summaryLine } from './runner.js';
import type { TestResult } from './types.js';

/** GitHub shows at most 10 annotations of a level per step: the last one says how many more failed. */
const MAX_ANNOTATIONS = 10;

/** Failures shown in full in the summary. */
const SUMMARY_MAX_FAILURES = 50;

const failed = (r: TestResult): boolean => r.status === 'failed' || r.status === 'error';

function annotation(props: { file?: string; line?: number; title: string }, message: string): string {
  const p = [...(props.file ? [`file=${escapeProperty(redact(props.file))}`] : []), ...(props.file && props.line ? [`line=${props.line}`] : []), `title=${escapeProperty(redact(props.title))}`];
  return `::error ${p.join(',')}::${escapeData(redact(message))}`;
}

/** The `::error` lines for the failed cases (empty when all passed). */
export function testAnnotations(results: readonly TestResult[]): string {
  const failures = results.filter(failed);
  const lines = failures.slice(0, failures.length > MAX_ANNOTATIONS ? MAX_ANNOTATIONS - 1 : MAX_ANNOTATIONS).map((r) =>
    annotation({ file: r.file, line: r.line, title: `rule test ${r.status === 'error' ? 'error' : 'failed'}: ${r.name}` }, r.failure ?? r.status),
  );
  const more = failures.length - lines.length;
  if (more > 0) lines.push(annotation({ title: `${more} more failed rule tests` }, `${more} more rule test cases failed: see the job summary or the log.`));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function cell(text: string): string {
  return redact(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'");
}

/** The Markdown for the step summary: the summary line, a row per test file, the failures with their diffs. */
export function testStepSummary(results: readonly TestResult[]): string {
  const failures = results.filter(failed);
  const out = ['### b24-rules test', '', `${failures.length > 0 ? '❌' : '✅'} **${summaryLine([...results])}**`, ''];
  const files = new Map<string, { passed: number; failed: number; skipped: number }>();
  for (const r of results) {
    const row = files.get(r.file) ?? { passed: 0, failed: 0, skipped: 0 };
    if (r.status === 'passed') row.passed++;
    else if (r.status === 'skipped') row.skipped++;
    else row.failed++;
    files.set(r.file, row);
  }
  if (files.size > 0) {
    out.push('| test file | passed | failed | skipped |', '|---|---|---|---|');
    for (const [file, row] of files) out.push(`| \`${cell(file)}\` | ${row.passed} | ${row.failed} | ${row.skipped} |`);
    out.push('');
  }
  for (const r of failures.slice(0, SUMMARY_MAX_FAILURES)) {
    out.push(`<details><summary>✗ ${cell(r.name)} (<code>${cell(r.file)}:${r.line}</code>)</summary>`, '', '```', redact(r.failure ?? r.status).replace(/```/g, "'''"), '```', '', '</details>', '');
  }
  if (failures.length > SUMMARY_MAX_FAILURES) out.push(`… and ${failures.length - SUMMARY_MAX_FAILURES} more failures (the step's log has them all).`, '');
  return `${out.join('\n')}\n`;
}
