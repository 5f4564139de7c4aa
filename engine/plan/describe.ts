/** Short human descriptions shared by the text, GitHub and Markdown renderers. */
import { canonicalJson } from '../canonical-json.js';
import type { PlanCall, PlanDocument, PlanFiring, PlanName, PlanTimer } from './types.js';

/** A value as it appears in a plan: JSON (strings quoted), `(unset)` for undefined. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  return canonicalJson(value);
}

/** `ONCRMLEADADD (message 17)` / `schedule 2026-11-24T09:00:00+03:00`. */
export function describeTrigger(f: PlanFiring): string {
  const t = f.trigger;
  if (t.kind === 'event') return `event ${t.event ?? '?'} (${t.key})`;
  if (t.kind === 'schedule') return `schedule tick ${t.at ?? t.key}`;
  return `${t.kind} ${t.key}`;
}

/** `lead 5 "Site request"`, or `(none)`. */
export function describeRecord(f: PlanFiring): string {
  if (!f.record) return '(none)';
  return `${f.record.entity} ${f.record.id}${f.record.title ? ` ${JSON.stringify(f.record.title)}` : ''}`;
}

/** `true`, `false: <reason>`, or `(no condition)`. */
export function describeCondition(f: PlanFiring): string {
  if (f.condition === null) return '(no condition)';
  if (f.condition.value) return 'true';
  return f.condition.reason ? `false: ${f.condition.reason}` : 'false';
}

/** `delay 2h of office hours (action 1): fires at 2026-11-30T07:30:00.000Z, then the condition is checked again`. */
export function describeTimer(t: PlanTimer): string {
  if (t.kind === 'wait_for') return `wait_for ${t.wait}${t.action ? ` (action ${t.action})` : ''}: times out at ${t.fires_at} unless the event comes first`;
  const what = t.kind === 'delay' ? `delay ${t.wait}${t.action ? ` (action ${t.action})` : ''}` : `for: ${t.wait}`;
  return `${what}: fires at ${t.fires_at}${t.recheck ? ', then the condition is checked again' : ''}`;
}

/** `stage "Renewals / Renewed" = "C1:WON" (line 5)`: a name the rule wrote and its ID. */
export function describeName(n: PlanName): string {
  return `${n.kind} ${JSON.stringify(n.name)} = ${formatValue(n.id)} (line ${n.line})`;
}

/** One line per field change: `STAGE_ID: "NEW" → "WON"`. */
export function describeChanges(call: PlanCall): string[] {
  return (call.changes ?? []).map((c) => `${c.field}: ${formatValue(c.before)} → ${formatValue(c.after)}`);
}

/** The one-line headline of a plan. */
export function headline(plan: PlanDocument): string {
  const s = plan.summary;
  const e = plan.estimate;
  const shadow = s.shadow_calls ? ` ${s.shadow_calls} shadow call${s.shadow_calls === 1 ? '' : 's'} journaled, never sent.` : '';
  if (s.writes === 0 && s.errors === 0) {
    return `No changes. ${s.firings} rule run${s.firings === 1 ? '' : 's'} considered, none would write.${shadow}`;
  }
  const http = s.by_method.http ?? 0;
  const parts = [
    `Plan: ${s.writes} write${s.writes === 1 ? '' : 's'}${http > 0 ? ` (${http} external http)` : ''} from ${s.acting} of ${s.firings} rule run${s.firings === 1 ? '' : 's'}`,
    `in ${plan.batches.length} batch${plan.batches.length === 1 ? '' : 'es'}`,
    `~${e.http_requests} HTTP request${e.http_requests === 1 ? '' : 's'} (${e.read_requests} read, ${e.write_requests} write), ~${e.seconds} s at the ${e.plan} limit (burst ${e.burst}, ${e.rate_per_second}/s)`,
  ];
  const head = parts.join(', ');
  return `${s.errors > 0 ? `${head}; ${s.errors} error${s.errors === 1 ? '' : 's'}.` : `${head}.`}${shadow}`;
}
