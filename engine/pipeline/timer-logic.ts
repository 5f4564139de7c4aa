/**
 * What timers mean for a rule, without the store: when a `delay:` action's
 * or a `for:` trigger's timer fires (calendar time, or a business calendar's
 * open hours: engine/time), whether a record is in a `for:` state, and how
 * evaluation treats an event for a `for:` rule, a run woken by its delay and
 * a run of a fired `for:` timer. Pure: the clock comes in as `now`.
 */
import { ActionConfigError, sameValue } from '../actions/index.js';
import type { CompiledRule, DelaySpec, Facts, FieldChange, WaitSpec } from '../rules/index.js';
import { addBusinessTime, formatDuration } from '../time/index.js';
import type { Run } from './run.js';

/** The source of the inbox items fired `for:` timers become. */
export const TIMER_SOURCE = 'timer';

/**
 * Evaluation's answer for an event of a `for:` rule: the record entered the state
 * (`start` a timer due at `dueAt`, or keep the one running) or left it (`leave`: cancel it).
 */
export interface TimerEvaluation {
  kind: 'timer';
  op: 'start' | 'leave';
  reason: string;
  dueAt?: number;
}

/** The instant a wait that starts at `from` ends. */
export function waitEnds(wait: WaitSpec, from: number): number {
  return wait.within ? addBusinessTime(wait.within, from, wait.ms) : from + wait.ms;
}

/** The wait as a trace or a plan says it: `2h`, `2h of office hours`. */
export function describeWait(wait: WaitSpec): string {
  const d = formatDuration(wait.ms);
  return wait.within ? `${d} of ${wait.within.name} hours` : d;
}

/** A delay planned at `now`: when it ends and how to say so. Throws ActionConfigError when `until:` is not a date. */
export function delayEnds(spec: DelaySpec, facts: Facts, now: number): { dueAt: number; what: string } {
  if (spec.wait) return { dueAt: waitEnds(spec.wait, now), what: describeWait(spec.wait) };
  const value = spec.until!.render(facts);
  const at = value instanceof Date ? value.getTime() : typeof value === 'string' && value.trim() !== '' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isFinite(at)) {
    throw new ActionConfigError('delay', `until: ${JSON.stringify(value ?? null)} (from ${spec.until!.source}) is not a date; give an ISO 8601 date, e.g. "{{ deal.CLOSEDATE | add_days: -1 }}"`);
  }
  const dueAt = spec.within ? addBusinessTime(spec.within, at, 0) : at;
  return { dueAt, what: `until ${new Date(at).toISOString()}${spec.within ? ` (the first ${spec.within.name} hour from then)` : ''}` };
}

/**
 * Whether a record is in the state a `for:` trigger names (every `changed:` field at one of
 * its `to:` values); otherwise the first field that is not, said for a trace.
 */
export function stateHolds(changed: Record<string, FieldChange>, record: Record<string, unknown>): { ok: true } | { ok: false; reason: string } {
  for (const [field, want] of Object.entries(changed)) {
    if (!want.to) continue;
    const value = record[field];
    if (!want.to.some((x) => sameValue(value, x))) return { ok: false, reason: `${field} is ${JSON.stringify(value ?? null)}, not ${want.to.map((x) => JSON.stringify(x)).join(' or ')}` };
  }
  return { ok: true };
}

/** The state a `for:` trigger waits in, said for a trace: `STAGE_ID is "C1:NEGOTIATION"`. */
export function describeState(changed: Record<string, FieldChange>): string {
  return Object.entries(changed)
    .filter(([, w]) => w.to)
    .map(([f, w]) => `${f} is ${w.to!.map((x) => JSON.stringify(x)).join(' or ')}`)
    .join(' and ');
}

/** The timer a fired `for:` item came from (its payload), or undefined for any other item. */
export function firedFor(run: Run): { id: number; dueAt: string; changes: Record<string, { from: unknown; to: unknown }> } | undefined {
  if (run.item.source !== TIMER_SOURCE) return undefined;
  const timer = run.item.payload.timer as { id: number; kind: string; dueAt: string; changes: Record<string, { from: unknown; to: unknown }> } | undefined;
  return timer?.kind === 'for' ? timer : undefined;
}

/**
 * A run woken by its delay, or started by a fired `for:` timer, with its record read again:
 * no change detection (the change was seen when the timer started; the record is not taken
 * as the new snapshot, so an event still queued keeps its change). A fired `for:` run
 * checks that the record is still in the state, and sees the change that started the timer
 * as `changes`. Returns a skip when the state no longer holds, else undefined (go on).
 */
export function timerHold(run: Run, record: Record<string, unknown>): { kind: 'skip'; reason: string } | undefined {
  const fired = firedFor(run);
  const t = run.rule.trigger;
  if (!fired || t.kind !== 'event' || !t.changed) return undefined;
  const held = stateHolds(t.changed, record);
  run.trace.timer = { id: fired.id, dueAt: fired.dueAt, kind: 'for' };
  if (!held.ok) return { kind: 'skip', reason: `for: ${held.reason} when timer ${fired.id} fired (the state did not hold)` };
  run.facts.changes = fired.changes;
  return undefined;
}

/**
 * An event for a `for:` rule, after change detection: `m` says whether `changed:` holds.
 * Entering the state starts (or keeps) the timer; a record that is not in the state any more
 * cancels it; any other change is a skip like a `changed:` that did not hold.
 */
export function forTrigger(rule: CompiledRule, m: { ok: true } | { ok: false; reason: string }, record: Record<string, unknown>, now: number): TimerEvaluation | { kind: 'skip'; reason: string; triggerHeld: false } {
  const t = rule.trigger;
  if (t.kind !== 'event' || !t.for || !t.changed) return { kind: 'skip', reason: 'no for: state', triggerHeld: false };
  if (m.ok) return { kind: 'timer', op: 'start', reason: `for: ${describeState(t.changed)}: a timer of ${describeWait(t.for)} starts`, dueAt: waitEnds(t.for, now) };
  const held = stateHolds(t.changed, record);
  if (!held.ok) return { kind: 'timer', op: 'leave', reason: `${held.reason} now` };
  return { kind: 'skip', reason: `changed: ${m.reason}`, triggerHeld: false };
}
