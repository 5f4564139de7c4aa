/**
 * The coverage report of `rules test --coverage` (docs/rule-tests.md,
 * Coverage): a compact table per rule, the list of what the tests never
 * reached with file:line:col, and a summary line with percentages; or the same
 * as JSON.
 */
import { relative } from 'node:path';
import type { RuleCoverage } from './coverage.js';

/** Counts and percentages over all rules. */
export interface CoverageTotals {
  rules: number;
  /** Rules with at least one run that got to its actions. */
  rulesActed: number;
  clauses: number;
  /** Clause outcomes seen: each clause counts twice, once for true and once for false. */
  clauseOutcomes: number;
  whens: number;
  /** `when:` outcomes seen: each counts twice, taken and not taken. */
  whenOutcomes: number;
  /** (rules acted + clause outcomes + when outcomes) over everything there is to reach, in %. */
  percent: number;
}

/** Something the tests never reached. */
export interface Uncovered {
  file: string;
  line: number;
  col: number;
  rule: string;
  /** `rule`, `clause` or `when`. */
  kind: 'rule' | 'clause' | 'when';
  /** `condition lead.OPPORTUNITY >= 1000000`, `actions[1] (notify) when became_hot`. */
  what: string;
  /** `never triggered`, `never acted`, `not reached`, `never true`, `never false`, `never taken`, `never passed over`. */
  missing: string;
}

const pct = (part: number, whole: number) => (whole === 0 ? 100 : Math.round((1000 * part) / whole) / 10);

export function coverageTotals(rules: RuleCoverage[]): CoverageTotals {
  let clauses = 0;
  let clauseOutcomes = 0;
  let whens = 0;
  let whenOutcomes = 0;
  for (const r of rules) {
    clauses += r.clauses.length;
    for (const c of r.clauses) clauseOutcomes += (c.true > 0 ? 1 : 0) + (c.false > 0 ? 1 : 0);
    whens += r.whens.length;
    for (const w of r.whens) whenOutcomes += (w.taken > 0 ? 1 : 0) + (w.notTaken > 0 ? 1 : 0);
  }
  const rulesActed = rules.filter((r) => r.acted > 0).length;
  const percent = pct(rulesActed + clauseOutcomes + whenOutcomes, rules.length + 2 * clauses + 2 * whens);
  return { rules: rules.length, rulesActed, clauses, clauseOutcomes, whens, whenOutcomes, percent };
}

/** What the tests never reached, rule by rule, in source order. */
export function uncovered(rules: RuleCoverage[]): Uncovered[] {
  const out: Uncovered[] = [];
  for (const r of rules) {
    const base = { file: r.file, rule: r.id };
    if (r.acted === 0) out.push({ ...base, line: r.line, col: r.col, kind: 'rule', what: 'the rule', missing: r.skipped === 0 ? 'never triggered' : 'never acted' });
    for (const c of r.clauses) {
      const missing = c.true === 0 && c.false === 0 ? 'not reached' : c.true === 0 ? 'never true' : c.false === 0 ? 'never false' : undefined;
      if (missing) out.push({ ...base, line: c.line, col: c.col, kind: 'clause', what: `${c.where} ${c.text}`, missing });
    }
    for (const w of r.whens) {
      const missing = w.taken === 0 && w.notTaken === 0 ? 'not reached' : w.taken === 0 ? 'never taken' : w.notTaken === 0 ? 'never passed over' : undefined;
      if (missing) out.push({ ...base, line: w.line, col: w.col, kind: 'when', what: `${w.action} when ${w.text}`, missing });
    }
  }
  return out.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : 0));
}

/** `coverage: rules acted 30/31 (96.8%), clause outcomes 120/140 (85.7%), when branches 10/12 (83.3%); total 86.2%` (`none` for what there is none of). */
export function coverageSummaryLine(t: CoverageTotals): string {
  const part = (seen: number, all: number) => (all === 0 ? 'none' : `${seen}/${all} (${pct(seen, all)}%)`);
  return `coverage: rules acted ${part(t.rulesActed, t.rules)}, clause outcomes ${part(t.clauseOutcomes, 2 * t.clauses)}, when branches ${part(t.whenOutcomes, 2 * t.whens)}; total ${t.percent}%`;
}

function pad(cells: string[][]): string[] {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The text report: a table per rule, then what was never reached (without the summary line). */
export function formatCoverage(rules: RuleCoverage[], cwd = process.cwd()): string {
  const show = (file: string) => relative(cwd, file) || file;
  const ratio = (seen: number, all: number) => (all === 0 ? '-' : `${seen}/${all}`);
  const rows = rules.map((r) => [
    r.id,
    `${show(r.file)}:${r.line}`,
    String(r.acted),
    String(r.skipped),
    ratio(r.clauses.reduce((n, c) => n + (c.true > 0 ? 1 : 0) + (c.false > 0 ? 1 : 0), 0), 2 * r.clauses.length),
    ratio(r.whens.reduce((n, w) => n + (w.taken > 0 ? 1 : 0) + (w.notTaken > 0 ? 1 : 0), 0), 2 * r.whens.length),
  ]);
  let out = `coverage\n${pad([['rule', 'file', 'acted', 'skipped', 'clauses', 'when'], ...rows]).map((l) => `  ${l}`).join('\n')}\n`;
  const missing = uncovered(rules);
  if (missing.length > 0) {
    out += 'not covered\n';
    for (const u of missing) out += `  ${show(u.file)}:${u.line}:${u.col} ${u.rule}: ${u.what}: ${u.missing}\n`;
  }
  return out;
}

/** The JSON form: every rule with its counts, what was never reached, and the totals. */
export function coverageJson(rules: RuleCoverage[], cwd = process.cwd()): Record<string, unknown> {
  const show = (file: string) => relative(cwd, file) || file;
  return {
    rules: rules.map((r) => ({ ...r, file: show(r.file) })),
    uncovered: uncovered(rules).map((u) => ({ ...u, file: show(u.file) })),
    totals: coverageTotals(rules),
  };
}
