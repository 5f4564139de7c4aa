/**
 * Turn the engine's Plan (engine/pipeline `planItems`) into the plan document:
 * firings sorted (by trigger, then rule id, then record), batch references
 * remapped to the sorted order, call kinds checked against the catalog,
 * summary and estimate computed, file paths made relative.
 */
import { isAbsolute, relative } from 'node:path';
import { methodKind } from '../client/index.js';
import type { Plan } from '../pipeline/index.js';
import { sortKeys } from '../canonical-json.js';
import { compareIds } from './canonical.js';
import { estimate } from './estimate.js';
import { PLAN_FORMAT_VERSION, type PlanCall, type PlanDocument, type PlanFiring, type PlanRead, type RatePlan } from './types.js';

export interface PlanContext {
  source: PlanDocument['source'];
  ruleFiles: string[];
  ruleIds: string[];
  events: number;
  scheduleTicks: Array<{ rule: string; at: string }>;
  reads: PlanRead[];
  ratePlan: RatePlan;
  /** Read requests when the engine's plan does not count them. */
  readRequests?: number;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

/** Natural order of keys like `dry-run:event:2` < `dry-run:event:10`. */
function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    return i % 2 === 1 ? compareIds(x, y) : x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function compareFirings(a: PlanFiring, b: PlanFiring): number {
  return (
    naturalCompare(a.trigger.key, b.trigger.key) ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
    (a.record?.entity ?? '').localeCompare(b.record?.entity ?? '') ||
    compareIds(a.record?.id ?? '', b.record?.id ?? '')
  );
}

export function toPlanDocument(plan: Plan, ctx: PlanContext): PlanDocument {
  const cwd = ctx.cwd ?? process.cwd();
  const rel = (f: string): string => (isAbsolute(f) ? relative(cwd, f) || f : f);
  const tagged = plan.firings.map((f, original) => {
    const firing: PlanFiring = {
      rule: f.rule,
      trigger: { ...f.trigger },
      condition: f.condition ? { ...f.condition } : null,
      calls: f.calls.map((c): PlanCall => {
        const call: PlanCall = { method: c.method, params: sortKeys(c.params), kind: c.kind === 'read' && methodKind(c.method) === 'read' ? 'read' : 'write', key: c.key, action: c.action };
        if (c.changes) call.changes = c.changes.map((x) => ({ ...x }));
        return call;
      }),
    };
    if (f.file) firing.file = rel(f.file);
    if (f.line) firing.line = f.line;
    if (f.record) firing.record = { ...f.record };
    if (f.skipped) firing.skipped = f.skipped;
    if (f.triggerHeld === false) firing.trigger_held = false;
    if (f.stoppedAt) firing.stopped_at_action = f.stoppedAt.action + 1;
    if (f.stoppedAt) firing.skipped = `${firing.skipped ? `${firing.skipped}; ` : ''}planning stops at action ${f.stoppedAt.action + 1}: ${f.stoppedAt.reason}`;
    if (f.error) firing.error = { ...f.error };
    if (f.shadow) firing.mode = 'shadow';
    if (f.timers) {
      firing.timers = f.timers.map((t) => ({
        kind: t.kind,
        ...(t.action !== undefined ? { action: t.action + 1 } : {}),
        fires_at: new Date(t.dueAt).toISOString(),
        wait: t.wait,
        ...(t.recheck ? { recheck: true as const } : {}),
      }));
    }
    return { firing, original };
  });
  tagged.sort((a, b) => compareFirings(a.firing, b.firing) || a.original - b.original);
  const position = new Map<number, number>();
  tagged.forEach((t, i) => position.set(t.original, i));
  const firings = tagged.map((t) => t.firing);
  const batches = plan.batches.map((b) => ({ index: b.index, calls: b.calls.map(([fi, ci]): [number, number] => [position.get(fi) ?? fi, ci]) }));

  const byMethod: Record<string, number> = {};
  let calls = 0;
  let writes = 0;
  let shadowCalls = 0;
  for (const f of firings) {
    if (f.mode === 'shadow') {
      shadowCalls += f.calls.length;
      continue;
    }
    for (const c of f.calls) {
      calls++;
      if (c.kind === 'write') {
        writes++;
        byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
      }
    }
  }
  return {
    format_version: PLAN_FORMAT_VERSION,
    at: plan.at,
    source: ctx.source,
    rules: { count: ctx.ruleIds.length, files: [...new Set(ctx.ruleFiles.map(rel))].sort(), ids: [...ctx.ruleIds].sort() },
    inputs: { events: ctx.events, schedule_ticks: [...ctx.scheduleTicks].sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)) },
    summary: {
      firings: firings.length,
      acting: firings.filter((f) => f.mode !== 'shadow' && f.calls.some((c) => c.kind === 'write')).length,
      calls,
      writes,
      errors: firings.filter((f) => f.error).length,
      by_method: sortKeys(byMethod),
      ...(shadowCalls > 0 ? { shadow_calls: shadowCalls } : {}),
    },
    firings,
    batches,
    estimate: estimate(plan.readRequests ?? ctx.readRequests ?? 0, batches.length, ctx.ratePlan),
    reads: ctx.reads,
  };
}
