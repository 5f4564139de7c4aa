/**
 * Mutation testing of rule tests (`rules test --mutate`): for each rule file
 * that test files cover, make mutants of its rules (engine/testing/
 * mutate-operators.ts), rerun the covering test files on each, and call a
 * mutant killed when any case fails, a survivor when all pass. A survivor is
 * a change to the rule that no test notices.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CALENDAR_FILES, listRuleFiles } from '../rules/index.js';
import { loadTestFile } from './load-test-file.js';
import { acceptMatches, acceptOf, readAccepts, type MutantAccept } from './mutate-accept.js';
import { applyMutant, mutantsOf, type Mutant } from './mutate-operators.js';
import { runTests, type RunnerDeps } from './runner.js';

/** What became of one mutant. */
export type MutantStatus = 'killed' | 'survived' | 'invalid';

export interface MutantResult extends Mutant {
  status: MutantStatus;
  /** The rule file, relative to cwd. */
  file: string;
  /** For a survivor a test file accepts (`mutations.accept`): its reason. */
  accepted?: string;
}

/** The mutation report of one rule file. */
export interface RuleFileMutation {
  /** The rule file, relative to cwd. */
  file: string;
  /** The test files rerun on its mutants, relative to cwd. */
  tests: string[];
  /** Set when the tests do not pass on the unmutated rules (no mutant is run then). */
  baselineFailure?: string;
  mutants: MutantResult[];
  /** Mutants left out by the per-rule limit. */
  skipped: number;
  /** The per-rule limit the mutants were cut at (`--mutate-limit`). */
  limit: number;
  /** Accepts of the test files that matched no survivor (the tests kill it now, or the rule moved). */
  unusedAccepts: MutantAccept[];
  /** Accepts that matched no survivor but name a mutant the limit left out: not run, so neither used nor stale. */
  unreachedAccepts: MutantAccept[];
}

export interface MutateOptions {
  /** At most this many mutants per rule (YAML document). @default 40 */
  limit?: number;
  /** Base for relative paths in the report. @default process.cwd() */
  cwd?: string;
  /** Called with each rule file's report as soon as it is known. */
  onFile?(report: RuleFileMutation): void;
}

/** Default per-rule cap on mutants. */
export const DEFAULT_MUTATE_LIMIT = 40;

/** The rule files a test file's `rules:` names (directories expanded). */
async function ruleFilesOf(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // a missing path: the runner reports it
    }
    out.push(...(isDir ? await listRuleFiles(p) : [p]).map((f) => resolve(f)));
  }
  return out;
}

/** Rule loading that reads `target` from `replacement` instead (directories expanded so the swap applies inside them too). */
function swapping(deps: RunnerDeps, target: string, replacement: string): RunnerDeps {
  return {
    ...deps,
    async loadRules(paths) {
      const files = await ruleFilesOf(paths);
      return deps.loadRules(files.map((f) => (f === target ? replacement : f)));
    },
  };
}

/** Do the test files pass? A failure message when not. */
async function failureOf(files: string[], deps: RunnerDeps, cwd: string): Promise<string | undefined> {
  const results = await runTests(files, deps, { cwd });
  const bad = results.find((r) => r.status === 'failed' || r.status === 'error');
  return bad ? `${bad.file}:${bad.line} ${bad.name}: ${bad.failure ?? bad.status}` : undefined;
}

/** Run the mutation analysis of the rules the given test files cover. */
export async function mutateTests(testFiles: string[], deps: RunnerDeps, options: MutateOptions = {}): Promise<RuleFileMutation[]> {
  const cwd = options.cwd ?? process.cwd();
  const limit = options.limit ?? DEFAULT_MUTATE_LIMIT;
  const covering = new Map<string, string[]>();
  const reports: RuleFileMutation[] = [];
  for (const t of testFiles) {
    let rules: string[];
    try {
      rules = await ruleFilesOf(loadTestFile(t, cwd).rules);
    } catch (err) {
      const report: RuleFileMutation = { file: relative(cwd, t) || t, tests: [relative(cwd, t) || t], baselineFailure: (err as Error).message, mutants: [], skipped: 0, limit, unusedAccepts: [], unreachedAccepts: [] };
      reports.push(report);
      options.onFile?.(report);
      continue;
    }
    for (const r of rules) covering.set(r, [...(covering.get(r) ?? []), t]);
  }
  for (const [ruleFile, tests] of covering) {
    const display = relative(cwd, ruleFile) || ruleFile;
    const report: RuleFileMutation = { file: display, tests: tests.map((t) => relative(cwd, t) || t), mutants: [], skipped: 0, limit, unusedAccepts: [], unreachedAccepts: [] };
    const baseline = await failureOf(tests, deps, cwd);
    if (baseline !== undefined) {
      report.baselineFailure = `the tests fail before any mutation: ${baseline}`;
    } else {
      let text = '';
      let accepts: MutantAccept[] = [];
      try {
        text = readFileSync(ruleFile, 'utf8');
        accepts = tests.flatMap((t) => readAccepts(readFileSync(t, 'utf8'), relative(cwd, t) || t));
      } catch (err) {
        text = '';
        report.baselineFailure = (err as Error).message;
      }
      const used = new Set<MutantAccept>();
      const cut: Mutant[] = [];
      const perRule = new Map<number, number>();
      const dir = mkdtempSync(join(tmpdir(), 'rules-mutate-'));
      try {
        const mutantFile = join(dir, basename(ruleFile));
        const mutantDeps = swapping(deps, ruleFile, mutantFile);
        // The loader reads the folder's calendars beside the rule file: the mutant's folder needs them too.
        for (const name of CALENDAR_FILES) {
          const calendars = join(dirname(ruleFile), name);
          if (existsSync(calendars)) copyFileSync(calendars, join(dir, name));
        }
        for (const m of mutantsOf(text)) {
          const n = perRule.get(m.doc) ?? 0;
          if (n >= limit) {
            report.skipped++;
            cut.push(m);
            continue;
          }
          perRule.set(m.doc, n + 1);
          writeFileSync(mutantFile, applyMutant(text, m));
          // A mutant the loader refuses is no test's business: `rules validate` catches it.
          if ((await deps.loadRules([mutantFile])).diagnostics.some((d) => d.severity === 'error')) {
            report.mutants.push({ ...m, file: display, status: 'invalid' });
            continue;
          }
          const failure = await failureOf(tests, mutantDeps, cwd);
          const result: MutantResult = { ...m, file: display, status: failure === undefined ? 'survived' : 'killed' };
          const accept = result.status === 'survived' ? acceptOf(accepts, m) : undefined;
          if (accept) {
            result.accepted = accept.reason;
            used.add(accept);
          }
          report.mutants.push(result);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const left = accepts.filter((a) => !used.has(a));
      report.unreachedAccepts = left.filter((a) => cut.some((m) => acceptMatches(a, m)));
      report.unusedAccepts = left.filter((a) => !report.unreachedAccepts.includes(a));
    }
    reports.push(report);
    options.onFile?.(report);
  }
  return reports;
}

/** Totals over the reports; invalid mutants are not counted as mutants. */
export function mutationTotals(reports: RuleFileMutation[]): { mutants: number; killed: number; survivors: number; accepted: number; invalid: number; errors: number } {
  const all = reports.flatMap((r) => r.mutants);
  return {
    mutants: all.filter((m) => m.status !== 'invalid').length,
    killed: all.filter((m) => m.status === 'killed').length,
    survivors: all.filter((m) => m.status === 'survived').length,
    accepted: all.filter((m) => m.status === 'survived' && m.accepted !== undefined).length,
    invalid: all.filter((m) => m.status === 'invalid').length,
    errors: reports.filter((r) => r.baselineFailure !== undefined).length,
  };
}

/** A value as it fits on a report line. */
function oneLine(s: string, max = 80): string {
  if (s === '') return "''";
  const flat = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The text report of one rule file: a header with counts, then a line per survivor. */
export function formatMutationReport(r: RuleFileMutation): string {
  if (r.baselineFailure !== undefined) return `${r.file}\n  ✗ not mutated: ${r.baselineFailure}\n`;
  const t = mutationTotals([r]);
  const extra = [t.invalid > 0 ? `${t.invalid} invalid (refused by the loader)` : '', r.skipped > 0 ? `${r.skipped} over the limit` : ''].filter(Boolean);
  let out = `${r.file} (tests: ${r.tests.join(', ')})\n  ${countsOf(t)}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}\n`;
  const ruleIds = [...new Set(r.mutants.map((m) => m.ruleId))];
  if (ruleIds.length > 1) {
    for (const id of ruleIds) out += `    ${id}: ${countsOf(mutationTotals([{ ...r, mutants: r.mutants.filter((m) => m.ruleId === id) }]))}\n`;
  }
  for (const m of r.mutants.filter((x) => x.status === 'survived')) {
    const why = m.accepted !== undefined ? `, accepted: ${oneLine(m.accepted, 200)}` : '';
    out += `  ${m.file}:${m.line}:${m.col} ${oneLine(m.from)} → ${oneLine(m.to)} survived (${m.operator}, rule ${m.ruleId}${why})\n`;
  }
  for (const a of r.unusedAccepts) {
    out += `  note: ${a.source} accepts a survivor at ${r.file}:${a.line}${a.col !== undefined ? `:${a.col}` : ''}, but none survives there: remove the entry\n`;
  }
  for (const a of r.unreachedAccepts) {
    out += `  note: ${a.source} accepts a survivor at ${r.file}:${a.line}${a.col !== undefined ? `:${a.col}` : ''}, not reached within --mutate-limit ${r.limit}\n`;
  }
  return out;
}

function countsOf(t: ReturnType<typeof mutationTotals>): string {
  return `mutants ${t.mutants}, killed ${t.killed}, survivors ${t.survivors}${t.accepted > 0 ? ` (${t.accepted} accepted)` : ''}`;
}

/** The final line: `mutants N, killed K, survivors S` (and how many survivors the test files accept). */
export function mutationSummaryLine(reports: RuleFileMutation[]): string {
  return countsOf(mutationTotals(reports));
}
