/**
 * Accepted survivors of `rules test --mutate`: a test file may explain the
 * mutants its cases cannot or need not kill (an equivalent change, a value
 * no behaviour depends on) under `mutations.accept`, each with a reason. An
 * accepted survivor is reported with its reason and does not fail the run.
 *
 * ```yaml
 * mutations:
 *   accept:
 *     - { line: 82, col: 22, change: "2 → 1", reason: "the delivery pipeline only matters to the -new rule" }
 * ```
 */
import { parseDocument } from 'yaml';
import type { Mutant } from './mutate-operators.js';

/** One accepted survivor: the line (and optionally column, rule, change) it matches, and why it may survive. */
export interface MutantAccept {
  line: number;
  col?: number;
  /** The rule id the mutant is in. */
  rule?: string;
  /** Text inside the mutant's `from → to`. */
  change?: string;
  reason: string;
  /** The test file that accepts it (for the report). */
  source: string;
}

/** The `mutations.accept` list of a test file's text; throws an Error naming the bad entry. */
export function readAccepts(text: string, source: string): MutantAccept[] {
  const value = parseDocument(text).toJS() as { mutations?: { accept?: unknown } } | null;
  const list = value?.mutations?.accept;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${source}: mutations.accept must be a list`);
  return list.map((raw, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const where = `${source}: mutations.accept[${i}]`;
    if (!Number.isInteger(e.line)) throw new Error(`${where} needs the line of the mutant in the rule file`);
    if (typeof e.reason !== 'string' || e.reason.trim() === '') throw new Error(`${where} needs a reason: why may this mutant survive?`);
    const a: MutantAccept = { line: e.line as number, reason: e.reason.trim(), source };
    if (e.col !== undefined) a.col = Number(e.col);
    if (e.rule !== undefined) a.rule = String(e.rule);
    if (e.change !== undefined) a.change = String(e.change);
    return a;
  });
}

/** Whether an accept entry names this mutant (its line, and the col, rule and change it gives). */
export function acceptMatches(a: MutantAccept, m: Mutant): boolean {
  return a.line === m.line && (a.col === undefined || a.col === m.col) && (a.rule === undefined || a.rule === m.ruleId) && (a.change === undefined || `${m.from} → ${m.to}`.includes(a.change));
}

/** The first accept that matches the mutant, if any. */
export function acceptOf(accepts: MutantAccept[], m: Mutant): MutantAccept | undefined {
  return accepts.find((a) => acceptMatches(a, m));
}
