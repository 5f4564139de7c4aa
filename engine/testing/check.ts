/** Check one case's expectation against the plan (or the load diagnostics). Returns null when it holds, else why not. */
import type { PlanDocument, PlanFiring } from '../plan/index.js';
import type { Diagnostic } from '../rules/index.js';
import { diffCalls } from './diff.js';
import type { ExpectedCall, TestExpectation } from './types.js';

/** The write calls of a plan, in plan order, as test expectations see them (a shadow rule's too, marked). */
export function plannedWrites(plan: PlanDocument): ExpectedCall[] {
  return plan.firings.flatMap((f) => f.calls.filter((c) => c.kind === 'write').map((c) => ({ method: c.method, params: c.params, rule: f.rule, ...(f.mode === 'shadow' ? { shadow: true } : {}) })));
}

/**
 * Whether a firing is one whose trigger did not hold: the engine matches rules
 * by event name and then skips a run whose `changed:` did not hold, or whose
 * record equals the last snapshot: the engine marks those firings `trigger_held: false`.
 */
export function triggerDidNotHold(f: PlanFiring): boolean {
  return f.trigger_held === false && f.calls.length === 0 && !f.error;
}

/**
 * Whether a run was stopped by its dedupe key: the engine checks the key
 * before the condition, so the condition was never evaluated. The plan says
 * so only in the skip reason (engine/pipeline/3-evaluate.ts), which
 * test/cli/dry-run.test.ts pins.
 */
export function stoppedByDedupe(f: PlanFiring): boolean {
  return f.calls.length === 0 && !f.error && (f.skipped ?? '').startsWith('dedupe:');
}

/** How a run ended, for a failure message. */
function outcomeOf(f: PlanFiring): string {
  if (f.error) return `error ${f.error.code}`;
  if (f.condition && !f.condition.value) return `condition false${f.condition.reason ? ` (${f.condition.reason})` : ''}`;
  if (f.calls.length > 0) return `${f.calls.length} call${f.calls.length === 1 ? '' : 's'} planned`;
  return f.skipped ?? 'no calls';
}

/** Whether an expected error matches a diagnostic or error (code, message substring, line). */
function errorMatches(want: NonNullable<TestExpectation['error']>, got: { code: string; message: string; line?: number }): boolean {
  if (want.code !== undefined && want.code !== got.code) return false;
  if (want.message !== undefined && !got.message.includes(want.message)) return false;
  if (want.line !== undefined && want.line !== got.line) return false;
  return true;
}

function describeWant(want: NonNullable<TestExpectation['error']>): string {
  return [want.code && `code ${want.code}`, want.message && `message containing ${JSON.stringify(want.message)}`, want.line && `line ${want.line}`].filter(Boolean).join(', ');
}

/** Expectation against rule-load errors (the rules did not load). */
export function checkLoadErrors(expect: TestExpectation, errors: Diagnostic[], format: (d: Diagnostic[]) => string): string | null {
  if (!expect.error) return `the rules did not load:\n${format(errors)}`;
  if (errors.some((d) => errorMatches(expect.error!, d))) return null;
  return `expected a validation error with ${describeWant(expect.error)}; got:\n${format(errors)}`;
}

/** Expectation against a plan. */
export function checkPlan(expect: TestExpectation, plan: PlanDocument): string | null {
  const problems: string[] = [];
  const writes = plannedWrites(plan);
  const errors = plan.firings.filter((f) => f.error).map((f) => ({ rule: f.rule, ...(f.error as { code: string; message: string }) }));
  if (expect.error) {
    if (!errors.some((e) => errorMatches(expect.error!, e))) {
      problems.push(`expected an error with ${describeWant(expect.error)}; ${errors.length === 0 ? 'the rules loaded and planned without error' : `got: ${errors.map((e) => `${e.rule}: ${e.code}: ${e.message}`).join('; ')}`}`);
    }
  } else if (errors.length > 0) {
    problems.push(`planning failed: ${errors.map((e) => `${e.rule}: ${e.code}: ${e.message}`).join('; ')}`);
  }
  if (expect.calls !== undefined) {
    const d = diffCalls(expect.calls, writes);
    if (d) problems.push(d);
  }
  if (expect.no_calls) {
    const d = diffCalls([], writes);
    if (d) problems.push(`expected no calls. ${d}`);
  }
  for (const [rule, want] of Object.entries(expect.conditions ?? {})) {
    const w = typeof want === 'boolean' ? { value: want } : want;
    const ran = plan.firings.filter((f) => f.rule === rule && !triggerDidNotHold(f));
    if (ran.length === 0) {
      const why = plan.firings.find((f) => f.rule === rule)?.skipped;
      problems.push(`condition of ${rule}: expected ${String(w.value)}, but the rule did not run (${why ?? 'its trigger did not match, or no such rule'})`);
      continue;
    }
    // A run its dedupe key stopped never reached the condition: it says nothing about the condition's value.
    const runs = ran.filter((f) => !(stoppedByDedupe(f) && f.condition === null));
    if (runs.length === 0) {
      problems.push(`condition of ${rule}: expected ${String(w.value)}, but the run was stopped by its dedupe key before the condition (${ran[0]?.skipped ?? ''}); expect deduped: [${rule}]`);
      continue;
    }
    const hit = runs.find((f) => (f.condition?.value ?? true) === w.value && (w.reason === undefined || (f.condition?.reason ?? '').includes(w.reason)));
    if (!hit) {
      const got = runs.map((f) => (f.condition ? `${String(f.condition.value)}${f.condition.reason ? ` (${f.condition.reason})` : ''}` : 'no condition')).join('; ');
      problems.push(`condition of ${rule}: expected ${String(w.value)}${w.reason ? ` with a reason containing ${JSON.stringify(w.reason)}` : ''}; got ${got}`);
    }
  }
  for (const rule of expect.not_triggered ?? []) {
    const ran = plan.firings.filter((f) => f.rule === rule && !triggerDidNotHold(f));
    if (ran.length > 0) {
      const how = ran.map((f) => (f.condition ? `condition ${String(f.condition.value)}` : f.skipped ?? f.error?.code ?? `${f.calls.length} calls`)).join('; ');
      problems.push(`expected ${rule} not to run, but it ran (${how})`);
    }
  }
  for (const rule of expect.deduped ?? []) {
    const ran = plan.firings.filter((f) => f.rule === rule && !triggerDidNotHold(f));
    if (ran.length === 0) {
      const why = plan.firings.find((f) => f.rule === rule)?.skipped;
      problems.push(`expected ${rule} to be stopped by its dedupe key, but the rule did not run (${why ?? 'its trigger did not match, or no such rule'})`);
    } else if (!ran.some(stoppedByDedupe)) {
      problems.push(`expected ${rule} to be stopped by its dedupe key, but it was not (${ran.map(outcomeOf).join('; ')})`);
    }
  }
  return problems.length === 0 ? null : problems.join('\n');
}
