/**
 * What a dry-run reports: one firing per run (rule, trigger, record,
 * condition, the calls it would make with the fields before and after), and
 * the write batches the executor would send. Built from the same runs and
 * stage results as the daemon's path.
 */
import { chunk, methodKind } from '../client/index.js';
import type { B24RulesError } from '../errors.js';
import { redactValue } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import type { Evaluation } from './3-evaluate.js';
import type { PlannedEffect, StagePlan } from './4-plan.js';
import type { Run, RunItem } from './run.js';
import { describeState, describeWait } from './timer-logic.js';
import type { Plan, PlanCallOut, PlanFiringOut } from './types.js';

function triggerOf(item: RunItem, rule: CompiledRule): PlanFiringOut['trigger'] {
  const sch = item.payload.schedule as { at?: unknown } | undefined;
  const ts = item.payload.ts;
  const at = sch && typeof sch.at === 'string' ? sch.at : typeof ts === 'string' && ts !== '' ? ts : undefined;
  return { kind: rule.trigger.kind, ...(item.event ? { event: item.event } : {}), key: item.key, ...(at ? { at } : {}) };
}

/** A rule the item matched whose runs could not be built. */
export function failedFiring(item: RunItem, rule: CompiledRule, error: B24RulesError): PlanFiringOut {
  return { rule: rule.id, file: rule.location.file, line: rule.location.line, trigger: triggerOf(item, rule), condition: null, error: { code: error.code, message: error.message }, calls: [] };
}

/** The firing of a run, before it is loaded. */
export function firingOf(run: Run): PlanFiringOut {
  const { rule, record } = run;
  return { rule: rule.id, file: rule.location.file, line: rule.location.line, trigger: triggerOf(run.item, rule), ...(record ? { record: { entity: record.entity, id: record.id } } : {}), condition: null, ...(run.shadow ? { shadow: true as const } : {}), calls: [] };
}

/** After loading and evaluation: the record's title, the condition, why it was skipped or failed. */
export function evaluated(firing: PlanFiringOut, run: Run, ev: Evaluation): void {
  const rec = run.record ? run.facts[run.record.entity] : undefined;
  if (firing.record && rec && typeof rec === 'object') {
    const title = (rec as Record<string, unknown>).TITLE ?? (rec as Record<string, unknown>).title;
    if (typeof title === 'string') firing.record.title = title;
  }
  // A dry-run asks why now, while the facts are the ones the condition saw.
  const c = run.trace.condition as { value: boolean; reason?: string } | undefined;
  firing.condition = c ? (c.value ? { value: true } : { value: false, reason: c.reason }) : null;
  if (ev.kind === 'error') firing.error = { code: 'EVALUATE_FAILED', message: ev.message };
  else if (ev.kind === 'timer') {
    firing.skipped = ev.op === 'start' ? ev.reason : `for: ${ev.reason}: its timer, if one is pending, is cancelled`;
    const t = run.rule.trigger;
    if (ev.op === 'start' && ev.dueAt !== undefined && t.kind === 'event' && t.for && t.changed) {
      (firing.timers ??= []).push({ kind: 'for', dueAt: ev.dueAt, wait: `${describeWait(t.for)} while ${describeState(t.changed)}` });
    }
  }
  else if (ev.kind === 'skip') {
    firing.skipped = ev.reason;
    if (ev.triggerHeld === false) firing.triggerHeld = false;
  }
}

/** The calls of the run's first round of planning, and why planning stopped or sent nothing. */
export function planned(firing: PlanFiringOut, round: StagePlan): void {
  firing.calls = round.effects.map(callOf);
  if (round.wait) {
    const w = round.wait;
    (firing.timers ??= []).push({ kind: 'wait_for', action: w.actionIndex, dueAt: w.dueAt, wait: w.afterCalls ? `${w.what}, once the calls before it are done` : w.what });
  }
  if (round.delay) {
    const d = round.delay;
    (firing.timers ??= []).push({ kind: 'delay', action: d.actionIndex, dueAt: d.dueAt, wait: d.afterCalls ? `${d.what}, once the calls before it are done` : d.what, ...(d.recheck ? { recheck: true } : {}) });
  }
  if (round.error) firing.error = { code: round.error.code, message: round.error.message };
  else if (!round.finished && round.waitingFor) firing.stoppedAt = { action: round.cursor, reason: round.waitingFor };
  else if (round.stopReason && firing.calls.length === 0) firing.skipped = `stop: ${round.stopReason}`;
  else if (firing.calls.length === 0 && !firing.skipped) {
    const notes = round.trace.map((t) => t.note ?? t.skipped).filter(Boolean);
    firing.skipped = notes.length ? String(notes.join('; ')) : 'no calls';
  }
}

function callOf(pe: PlannedEffect): PlanCallOut {
  const call = pe.call;
  const out: PlanCallOut = {
    method: pe.method,
    params: redactValue(pe.params),
    kind: pe.method === 'http' ? 'write' : methodKind(pe.method),
    key: pe.effectKey,
    action: { kind: pe.kind, index: pe.actionIndex },
  };
  if (call?.after) out.changes = Object.entries(call.after).map(([field, after]) => ({ field, before: call.before?.[field] ?? null, after }));
  return out;
}

/** The plan: firings and the REST write batches the executor would send (http requests go one by one; a shadow run's calls not at all). */
export function toPlan(at: number, firings: PlanFiringOut[], readRequests: number): Plan {
  const flat: Array<[number, number]> = [];
  firings.forEach((f, fi) =>
    f.calls.forEach((c, ci) => {
      if (c.method !== 'http' && !f.shadow) flat.push([fi, ci]);
    }),
  );
  const batches = chunk(flat).map((calls, i) => ({ index: i + 1, calls }));
  return { at: new Date(at).toISOString(), firings, batches, readRequests };
}
