/**
 * bench/RESULTS.md: what `npm run bench` measured, as Markdown: the command,
 * the date, the commit, the machine and its load, every figure held against
 * the issue's target (with a plain line per missed target), then each
 * benchmark's table, ratios, computed figures and notes.
 */
import { execFileSync } from 'node:child_process';
import { PACKAGE_ROOT } from '../engine/paths.js';
import { round } from './measure.js';
import type { RunEnvironment } from './report.js';
import type { BenchResult, TargetCheck } from './types.js';

/** The commit measured, and whether the tree had changes on top of it. */
export interface CommitInfo {
  commit: string;
  /** Files changed but not committed when the run started (0: a clean tree). */
  uncommitted: number;
}

/** The commit of the package's git tree (`unknown` outside one). */
export function commitInfo(cwd: string = PACKAGE_ROOT): CommitInfo {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, uncommitted: status.split('\n').filter(Boolean).length };
  } catch {
    return { commit: 'unknown', uncommitted: 0 };
  }
}

export interface ResultsDocument {
  command: string;
  environment: RunEnvironment;
  commit: CommitInfo;
  /** 1-minute load average when the run ended. */
  loadAverageEnd: number;
  totalSeconds: number;
  results: BenchResult[];
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(header: string[], rows: string[][], right: (col: number) => boolean): string[] {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map((_, c) => (right(c) ? ' ---: ' : ' --- ')).join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function measured(t: TargetCheck): string {
  return `${round(t.measured)}${t.unit === '×' ? '×' : t.unit ? ` ${t.unit}` : ''}`;
}

/** The target lines of every result, and a plain line per missed one. */
export function targetSection(results: readonly BenchResult[]): string[] {
  const all = results.flatMap((r) => (r.targets ?? []).map((t) => ({ bench: r.name, t })));
  if (all.length === 0) return ['No benchmark of this run carries a target of the issue.'];
  const out = table(
    ['benchmark', 'figure', 'measured', 'target', 'ratio to target', 'verdict'],
    all.map(({ bench, t }) => [bench, t.figure, measured(t), t.target, `${round(t.ratio)}`, t.met ? 'met' : '**missed**']),
    (c) => c === 2 || c === 4,
  );
  const missed = all.filter(({ t }) => !t.met);
  out.push('');
  if (missed.length === 0) out.push('Every target above was met in this run.');
  for (const { bench, t } of missed) out.push(`- **Missed** (${bench}): ${t.figure} is ${measured(t)}, the target is ${t.target}${t.note ? `. ${t.note}` : '.'}`);
  const qualified = all.filter(({ t }) => t.met && t.note);
  for (const { bench, t } of qualified) out.push(`- Met (${bench}): ${t.figure}: ${t.note}`);
  return out;
}

/** One benchmark as Markdown. */
export function benchSection(r: BenchResult): string[] {
  const out = [`## ${r.name}: ${r.title}`, '', r.setup, '', `Median of ${r.repetitions} repetition${r.repetitions === 1 ? '' : 's'} per variant, variants alternated:`, ''];
  const header = ['variant', ...r.metrics.map((m) => (m.unit ? `${m.label} (${m.unit})` : m.label))];
  out.push(...table(header, r.variants.map((v) => [v.name, ...r.metrics.map((m) => round(v.median[m.key] ?? Number.NaN))]), (c) => c > 0));
  out.push('');
  for (const v of r.variants) out.push(`- \`${v.name}\`: ${v.label}`);
  if (r.ratios.length > 0) {
    out.push('', 'Ratios (medians measured side by side in this run):', '');
    const label = (key: string) => r.metrics.find((m) => m.key === key)?.label ?? key;
    for (const x of r.ratios) out.push(`- ${x.numerator} / ${x.denominator}, ${label(x.metric)}: ${round(x.value)}×`);
  }
  if (r.computed.length > 0) {
    out.push('', 'Computed from the measured figures (NOT measured):', '');
    for (const c of r.computed) out.push(`- ${c.label}: ${round(c.value)} ${c.unit} (${c.formula})`);
  }
  if (r.notes.length > 0) {
    out.push('', 'Notes:', '');
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return out;
}

/** The whole file. */
export function formatResultsMarkdown(doc: ResultsDocument): string {
  const e = doc.environment;
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/results-md.ts): do not edit by hand; run it again. One run on one machine: the ratios between variants measured side by side in this run say more than the absolute times.',
    '',
    `- command: \`${doc.command}\``,
    `- date: ${e.date}`,
    `- commit: ${doc.commit.commit}${doc.commit.uncommitted > 0 ? ` with ${doc.commit.uncommitted} uncommitted changed file${doc.commit.uncommitted === 1 ? '' : 's'} (the tree as it was)` : ''}`,
    `- machine: nproc ${e.nproc}, ${e.cpu}, ${e.os}, Node ${e.node}`,
    `- load average (1 min): ${e.loadAverage} at the start, ${doc.loadAverageEnd} at the end`,
    `- total: ${round(doc.totalSeconds)} s`,
    '',
    '## Targets',
    '',
    'Every figure a benchmark holds against a target of its issue (issue 12 unless the benchmark says otherwise), with the ratio to the target: 1 or less meets it.',
    '',
    ...targetSection(doc.results),
  ];
  for (const r of doc.results) lines.push('', ...benchSection(r));
  return `${lines.join('\n')}\n`;
}
