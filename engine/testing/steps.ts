/**
 * A case with `steps:` (docs/rule-tests.md, Steps and time): each step lets
 * time pass, changes the portal, sends events, then checks what fired during
 * it and which timers are pending. Returns null when every step holds, else
 * the first step that did not, with why.
 */
import { eventItems, type EventInput } from '../plan/index.js';
import { diffCalls } from './diff.js';
import type { Simulation, SimulatedTimer } from './simulate.js';
import type { StepExpectation, TestEvent, TestStep } from './types.js';

/** An event of a test as the inputs of a plan take it: `id` is the shorthand for `data: { FIELDS: { ID } }`. */
export function eventInput(e: TestEvent, at: number): EventInput {
  const data = e.data ?? (e.id !== undefined ? { FIELDS: { ID: String(e.id) } } : {});
  return { name: e.name.toUpperCase(), data, ts: e.ts ?? Math.floor(at / 1000) };
}

/** Run the steps on a simulation (closed at the end). */
export async function runSteps(steps: TestStep[], sim: Simulation): Promise<string | null> {
  try {
    for (const [k, step] of steps.entries()) {
      if (step.advance !== undefined) await sim.advanceTo(sim.now() + step.advance);
      if (step.advanceTo !== undefined) await sim.advanceTo(step.advanceTo);
      const fired = sim.takeCalls();
      if (step.portal) await sim.portal(step.portal);
      if (step.events.length) await sim.events(eventItems(step.events.map((e) => eventInput(e, sim.now())), sim.now()));
      fired.push(...sim.takeCalls());
      const problem = checkStep(step.expect, fired, sim.timers());
      if (problem) return `step ${k + 1} (line ${step.line}, at ${new Date(sim.now()).toISOString()}):\n${problem}`;
    }
    return null;
  } finally {
    await sim.close();
  }
}

function checkStep(expect: StepExpectation, fired: ReturnType<Simulation['takeCalls']>, timers: SimulatedTimer[]): string | null {
  const problems: string[] = [];
  if (expect.calls !== undefined) {
    const d = diffCalls(expect.calls, fired);
    if (d) problems.push(d.replace(/\bplanned\b/g, 'fired'));
  }
  if (expect.no_calls) {
    const d = diffCalls([], fired);
    if (d) problems.push(`expected no calls. ${d.replace(/\bplanned\b/g, 'fired')}`);
  }
  if (expect.timers !== undefined) {
    const want = expect.timers;
    const show = (t: SimulatedTimer) => `${t.kind} of ${t.rule} at ${t.fires_at}`;
    const bad = want.length !== timers.length || want.some((w, i) => !timerMatches(w, timers[i]));
    if (bad) problems.push(`expected ${want.length} pending timer${want.length === 1 ? '' : 's'} (${want.map((w) => JSON.stringify(w)).join(', ') || 'none'}); pending: ${timers.map(show).join(', ') || 'none'}`);
  }
  return problems.length ? problems.join('\n') : null;
}

function timerMatches(want: NonNullable<StepExpectation['timers']>[number], got: SimulatedTimer | undefined): boolean {
  if (!got) return false;
  if (want.rule !== undefined && want.rule !== got.rule) return false;
  if (want.kind !== undefined && want.kind !== got.kind) return false;
  return want.fires_at === undefined || Date.parse(want.fires_at) === Date.parse(got.fires_at);
}
