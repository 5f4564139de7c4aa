/**
 * `rules test --coverage`: what the rule tests exercised. The recorder wraps
 * the rules the runner loads (instrument): each condition and `when:` is
 * evaluated as before and, beside it, probed clause by clause
 * (coverage-clauses.ts); each case's plan (or, for a case in steps, the runs
 * the engine journaled) says which rules acted and which were skipped. The
 * engine itself is untouched: a run without --coverage evaluates the rules
 * as compiled, with nothing in between.
 */
import { readFileSync } from 'node:fs';
import type { PlanDocument, PlanFiring } from '../plan/index.js';
import { parseSource, type CompiledRule, type Condition, type Facts, type SourceDocument } from '../rules/index.js';
import { stoppedByDedupe, triggerDidNotHold } from './check.js';
import { clauseProbe, clauseText, type ClauseProbe } from './coverage-clauses.js';
import type { JournaledRun, Simulation } from './simulate.js';

/** One clause of a rule's condition (or of a `when:` with several), and how often the tests found it true and false. */
export interface ClauseCoverage {
  /** `condition`, or the action whose `when:` holds it: `actions[2] (notify) when`. */
  where: string;
  text: string;
  line: number;
  col: number;
  true: number;
  false: number;
}

/** One action's `when:`: how often the action was taken and passed over. */
export interface WhenCoverage {
  /** `actions[1] (notify)`. */
  action: string;
  text: string;
  line: number;
  col: number;
  taken: number;
  notTaken: number;
}

/** What the tests did with one rule. */
export interface RuleCoverage {
  id: string;
  file: string;
  line: number;
  col: number;
  /** Runs that got past their trigger, dedupe key and condition to the actions. */
  acted: number;
  /** Runs whose trigger held but that stopped before the actions (condition false, dedupe key used, record not found, an error). */
  skipped: number;
  clauses: ClauseCoverage[];
  whens: WhenCoverage[];
}

/** Skips decided before the actions, as the engine words them (engine/pipeline/3-evaluate.ts). */
const BEFORE_ACTIONS = /^(the event names no |[a-z]+(:\d+)? \S+ was not found on the portal|for: |dedupe: |condition false|concurrency: )/;
/** A run whose trigger did not hold (`changed:`, or no real change), as the store journals it. */
const NOT_TRIGGERED = /^(changed: |record unchanged since the last snapshot)/;

interface Entry {
  coverage: RuleCoverage;
  hasCondition: boolean;
  condition?: { probe: ClauseProbe; offset: number };
  whens: Map<number, { index: number; probe?: ClauseProbe; offset: number }>;
}

/** The pointer of an action's place in the rule document (an on_timeout action's inside its wait_for). */
function actionPointer(rule: CompiledRule, index: number): string {
  const a = rule.actions[index]!;
  if (a.branchOf === undefined) return `/actions/${a.index}`;
  const start = rule.actions[a.branchOf]?.waitFor?.timeoutStart ?? a.index;
  return `/actions/${a.branchOf}/wait_for/on_timeout/${a.index - start}`;
}

/** Collects coverage over every test file of a run; report() gives it. */
export class CoverageRecorder {
  private readonly entries = new Map<string, Entry>();
  private current = new Map<string, Entry>();
  private readonly docs = new Map<string, SourceDocument[]>();

  /** The rules as the runner should plan them: each condition and `when:` counted as it is evaluated. The rules of one test file at a time. */
  instrument(rules: CompiledRule[]): CompiledRule[] {
    this.current = new Map();
    return rules.map((rule) => {
      const entry = this.entryOf(rule);
      this.current.set(rule.id, entry);
      return this.wrap(rule, entry);
    });
  }

  /** The runs of one planned case (rules of the last instrument()). */
  recordPlan(plan: PlanDocument): void {
    for (const f of plan.firings) {
      const entry = this.current.get(f.rule);
      if (!entry || triggerDidNotHold(f)) continue;
      if (acted(f, entry.hasCondition)) entry.coverage.acted += 1;
      else entry.coverage.skipped += 1;
    }
  }

  /** The runs a case in steps journaled. */
  recordRuns(runs: JournaledRun[]): void {
    for (const r of runs) {
      const entry = this.current.get(r.rule);
      if (!entry || r.status === 'new') continue;
      // A run past its first action acted, whatever came after (a recheck that found the condition false, a failed call).
      if (r.cursor > 0 || r.status === 'done' || r.status === 'active' || r.status === 'delayed' || r.status === 'waiting') entry.coverage.acted += 1;
      else if (r.status !== 'skipped' || !NOT_TRIGGERED.test(r.reason ?? '')) entry.coverage.skipped += 1;
    }
  }

  /** A simulation whose journaled runs are recorded when it closes. */
  simulation(sim: Simulation): Simulation {
    return {
      ...sim,
      close: async () => {
        this.recordRuns(sim.runs?.() ?? []);
        await sim.close();
      },
    };
  }

  /** Every rule the test files loaded, in the order they were first seen. */
  report(): RuleCoverage[] {
    return [...this.entries.values()].map((e) => e.coverage);
  }

  private entryOf(rule: CompiledRule): Entry {
    const key = `${rule.location.file}\u0000${rule.location.line}\u0000${rule.id}`;
    const known = this.entries.get(key);
    if (known) return known;
    const doc = this.docOf(rule);
    const at = (pointer: string, key?: string) => (doc ? doc.locate(pointer, key) : { line: rule.location.line, col: rule.location.col });
    const coverage: RuleCoverage = { id: rule.id, file: rule.location.file, line: rule.location.line, col: rule.location.col, acted: 0, skipped: 0, clauses: [], whens: [] };
    const entry: Entry = { coverage, hasCondition: rule.condition !== undefined, whens: new Map() };
    const addClauses = (probe: ClauseProbe, where: string): number => {
      const offset = coverage.clauses.length;
      for (const c of probe.clauses) coverage.clauses.push({ where, text: c.text, ...at(c.pointer, c.key), true: 0, false: 0 });
      return offset;
    };
    if (rule.condition) {
      const probe = clauseProbe(rule.condition.source, '/condition');
      entry.condition = { probe, offset: addClauses(probe, 'condition') };
    }
    rule.actions.forEach((a, i) => {
      if (!a.when) return;
      const ptr = actionPointer(rule, i);
      const label = `actions[${ptr.slice('/actions/'.length).replace(/\/wait_for\/on_timeout\//, '].wait_for.on_timeout[')}] (${a.kind})`;
      const probe = clauseProbe(a.when.source, `${ptr}/when`);
      // A when: of one clause is its branch: counted once, as taken or not.
      const many = probe.clauses.length > 1;
      const offset = many ? addClauses(probe, `${label} when`) : 0;
      entry.whens.set(i, { index: coverage.whens.length, ...(many ? { probe } : {}), offset });
      coverage.whens.push({ action: label, text: clauseText(a.when.source), ...at(ptr, 'when'), taken: 0, notTaken: 0 });
    });
    this.entries.set(key, entry);
    return entry;
  }

  private docOf(rule: CompiledRule): SourceDocument | undefined {
    const file = rule.location.file;
    if (!this.docs.has(file)) {
      let docs: SourceDocument[] = [];
      try {
        docs = parseSource(readFileSync(file, 'utf8'), file).documents;
      } catch {
        // A rule file gone since it loaded: the places fall back to the rule's.
      }
      this.docs.set(file, docs);
    }
    return this.docs.get(file)!.find((d) => d.line === rule.location.line && d.col === rule.location.col);
  }

  private wrap(rule: CompiledRule, entry: Entry): CompiledRule {
    const clauses = entry.coverage.clauses;
    const probeHits = (probe: ClauseProbe, offset: number, facts: Facts) => {
      try {
        probe.run(facts, (i, v) => {
          const c = clauses[offset + i]!;
          if (v) c.true += 1;
          else c.false += 1;
        });
      } catch {
        // The engine's own evaluation of the same expression reports the error.
      }
    };
    const counted = (cond: Condition, onValue: (facts: Facts, value: boolean) => void): Condition => ({
      ...cond,
      test: (facts) => {
        const v = cond.test(facts);
        onValue(facts, v);
        return v;
      },
      evaluate: (facts) => {
        const r = cond.evaluate(facts);
        onValue(facts, r.value);
        return r;
      },
    });
    const out: CompiledRule = { ...rule };
    const c = entry.condition;
    if (rule.condition && c) out.condition = counted(rule.condition, (facts) => probeHits(c.probe, c.offset, facts));
    out.actions = rule.actions.map((a, i) => {
      const w = entry.whens.get(i);
      if (!a.when || !w) return a;
      const when = entry.coverage.whens[w.index]!;
      return {
        ...a,
        when: counted(a.when, (facts, value) => {
          if (value) when.taken += 1;
          else when.notTaken += 1;
          if (w.probe) probeHits(w.probe, w.offset, facts);
        }),
      };
    });
    return out;
  }
}

/** Whether a planned run got to its actions. */
function acted(f: PlanFiring, hasCondition: boolean): boolean {
  // A run outside its `rollout:` is skipped after its condition held (engine/pipeline/rollout.ts).
  if (f.skipped?.startsWith('rollout:')) return false;
  if (f.condition) return f.condition.value;
  // The rule has a condition and never reached it: stopped before (dedupe key, record not found, a for: timer).
  if (hasCondition) return false;
  if (f.calls.length > 0 || f.stopped_at_action !== undefined) return true;
  if (f.error || stoppedByDedupe(f)) return false;
  return !BEFORE_ACTIONS.test(f.skipped ?? '');
}
