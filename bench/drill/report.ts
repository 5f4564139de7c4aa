/** The drill's output: one line per invariant (with the first cases of a broken one), figures, and the summary line. */
import type { Invariant } from './invariant.js';

/** Cases printed under a broken invariant. */
const SHOWN = 8;

/** The counts of the summary line. */
export interface SummaryCounts {
  lost: number;
  duplicated: number;
  deadLetters: number;
  crashes: number;
  secretsLeaked: number;
  badAnswers: number;
  ruleFileCrashes: number;
}

/** One line per invariant: `ok  ` or `FAIL`, its name, what was measured; a broken one lists its first cases. */
export function formatInvariants(invariants: readonly Invariant[]): string[] {
  const width = Math.max(...invariants.map((i) => i.name.length));
  const out: string[] = [];
  for (const i of invariants) {
    out.push(`${i.ok ? 'ok  ' : 'FAIL'}  ${i.name.padEnd(width)}  ${i.detail}`);
    for (const p of i.problems.slice(0, SHOWN)) out.push(`        - ${p}`);
    if (i.problems.length > SHOWN) out.push(`        - ... ${i.problems.length - SHOWN} more`);
  }
  return out;
}

/** The summary line: the outside drill's figures, then the verdict. */
export function formatSummary(counts: SummaryCounts, invariants: readonly Invariant[]): string {
  const held = invariants.filter((i) => i.ok).length;
  const verdict = held === invariants.length ? 'PASS' : `FAIL (${invariants.filter((i) => !i.ok).map((i) => i.name).join(', ')})`;
  return (
    `summary: lost ${counts.lost}, duplicated ${counts.duplicated}, dead letters ${counts.deadLetters}, crashes ${counts.crashes}, ` +
    `secrets leaked ${counts.secretsLeaked}, 5xx or unanswered for bad input ${counts.badAnswers}, rule-file crashes ${counts.ruleFileCrashes}; ` +
    `${held} of ${invariants.length} invariants held: ${verdict}`
  );
}
