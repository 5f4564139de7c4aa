/**
 * Compare the plans of two rule sets on the same inputs (`rules diff`). Runs
 * are matched by (input, rule id, trigger key, record); calls within a run by
 * their identity, so a changed field is one changed call and not a removal
 * and an addition: first equal calls, then calls of the same action (the
 * effect key's action and call index) and method, then the same method and
 * action kind in order (an action moved in the rule); the rest are added or
 * removed. Pure: the plans are made by the caller.
 */
import { canonicalJson } from '../canonical-json.js';
import { compareIds } from './canonical.js';
import { PLAN_DIFF_FORMAT_VERSION, type CallDiff, type DiffGrandTotals, type DiffRequest, type DiffRuleInfo, type DiffSide, type DiffTotals, type FieldOutcome, type PlanDiff, type RuleDiff, type RunDiff } from './diff-types.js';
import type { PlanCall, PlanDocument, PlanFiring } from './types.js';

/** Firing keys compared on their own (or not at all); every other key of a firing is compared as an attribute. */
const NOT_ATTRIBUTES = new Set(['rule', 'file', 'line', 'trigger', 'record', 'condition', 'skipped', 'names', 'calls']);

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** A run's identity within the diff: its input, rule, trigger and record (and an ordinal for repeats). */
function runKey(input: string, f: PlanFiring): string {
  return [input, f.rule, f.trigger.key, f.record ? `${f.record.entity}:${f.record.id}` : ''].join('\u0000');
}

function keyed(input: string, plan: PlanDocument): Map<string, PlanFiring> {
  const out = new Map<string, PlanFiring>();
  for (const f of plan.firings) {
    const k = runKey(input, f);
    let n = 0;
    while (out.has(`${k}\u0000${n}`)) n++;
    out.set(`${k}\u0000${n}`, f);
  }
  return out;
}

/** `0.1`: the action and call index of the effect key (`<rule>:<hash>:<action>.<call>`), the part stable across rule changes. */
function address(c: PlanCall): string | undefined {
  const tail = c.key?.split(':').pop();
  return tail && /^\d+\.\d+$/.test(tail) ? tail : undefined;
}

/** Every leaf of two param objects that differs, by dotted path; arrays and scalars compare whole. */
function paramChanges(base: unknown, head: unknown, path = ''): Array<{ path: string; base: unknown; head: unknown }> {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(base) && isObj(head)) {
    const keys = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
    return keys.flatMap((k) => paramChanges(base[k], head[k], path ? `${path}.${k}` : k));
  }
  return same(base, head) && (base === undefined) === (head === undefined) ? [] : [{ path: path || '(params)', base, head }];
}

function callEntry(change: 'added' | 'removed', c: PlanCall): CallDiff {
  const d: CallDiff = { change, method: c.method, kind: c.kind, params: c.params };
  if (c.action) d.action = c.action;
  if (c.changes?.length) d.changes = c.changes;
  return d;
}

/** Pair the calls of one run on the two sides (see the file's comment for the order of the passes). */
export function diffCalls(base: PlanCall[], head: PlanCall[]): CallDiff[] {
  const leftB = new Set(base.keys());
  const leftH = new Set(head.keys());
  const pairs: Array<[number, number]> = [];
  const pass = (match: (b: PlanCall, h: PlanCall) => boolean): void => {
    for (const bi of [...leftB]) {
      const b = base[bi] as PlanCall;
      const hi = [...leftH].find((i) => match(b, head[i] as PlanCall));
      if (hi === undefined) continue;
      leftB.delete(bi);
      leftH.delete(hi);
      pairs.push([bi, hi]);
    }
  };
  pass((b, h) => b.method === h.method && same(b.params, h.params));
  pass((b, h) => b.method === h.method && address(b) !== undefined && address(b) === address(h));
  pass((b, h) => b.method === h.method && b.action?.kind === h.action?.kind);
  const out: Array<{ at: number; d: CallDiff }> = [];
  for (const [bi, hi] of pairs) {
    const b = base[bi] as PlanCall;
    const h = head[hi] as PlanCall;
    const changed = paramChanges(b.params, h.params);
    if (changed.length === 0) continue;
    const d: CallDiff = { change: 'changed', method: h.method, kind: h.kind, params: h.params, params_changed: changed };
    if (h.action) d.action = h.action;
    out.push({ at: hi, d });
  }
  for (const hi of leftH) out.push({ at: hi, d: callEntry('added', head[hi] as PlanCall) });
  // Removed calls go where they were in the base, after the change's calls of the same position.
  for (const bi of leftB) out.push({ at: bi + 0.5, d: callEntry('removed', base[bi] as PlanCall) });
  return out.sort((x, y) => x.at - y.at).map((x) => x.d);
}

/** `lead 42` for an update's target: the entity of the method (`crm.lead.update`, `crm.item.update` of a type, `tasks.task.update`) and the ID. */
function targetOf(c: PlanCall): string {
  const m = /^(?:crm\.)?([a-z_]+)\.update$/i.exec(c.method.replace(/^tasks\.task\./i, 'task.'));
  let entity = m ? (m[1] as string) : c.method;
  if (entity === 'item') entity = `item:${String(c.params.entityTypeId ?? c.params.ENTITY_TYPE_ID ?? '?')}`;
  const id = c.params.id ?? c.params.ID ?? c.params.taskId ?? c.params.TASKID;
  return `${entity} ${id === undefined ? '?' : String(id)}`;
}

/** Each written field's value after the run: the update's value, or the record's when the side does not write it. */
function fieldsAfter(calls: PlanCall[]): Map<string, { target: string; field: string; before: unknown; after: unknown }> {
  const out = new Map<string, { target: string; field: string; before: unknown; after: unknown }>();
  for (const c of calls) {
    if (c.kind !== 'write') continue;
    for (const ch of c.changes ?? []) {
      const target = targetOf(c);
      const k = `${target}\u0000${ch.field}`;
      const prev = out.get(k);
      out.set(k, { target, field: ch.field, before: prev ? prev.before : ch.before, after: ch.after });
    }
  }
  return out;
}

function fieldOutcomes(base: PlanCall[], head: PlanCall[]): FieldOutcome[] {
  const b = fieldsAfter(base);
  const h = fieldsAfter(head);
  const out: FieldOutcome[] = [];
  for (const k of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const x = b.get(k);
    const y = h.get(k);
    const baseValue = x ? x.after : y?.before;
    const headValue = y ? y.after : x?.before;
    if (!same(baseValue, headValue)) out.push({ target: (x ?? y)?.target ?? '', field: (x ?? y)?.field ?? '', base: baseValue, head: headValue });
  }
  return out;
}

function conditionValue(f: PlanFiring | undefined): boolean | null | undefined {
  if (!f) return undefined;
  return f.condition === null ? null : f.condition.value;
}

function attributes(b: PlanFiring | undefined, h: PlanFiring | undefined): Array<{ name: string; base: unknown; head: unknown }> {
  const rec = (f: PlanFiring | undefined): Record<string, unknown> => (f ?? {}) as unknown as Record<string, unknown>;
  const names = [...new Set([...Object.keys(rec(b)), ...Object.keys(rec(h))])].filter((k) => !NOT_ATTRIBUTES.has(k)).sort();
  return names.filter((n) => !same(rec(b)[n], rec(h)[n])).map((n) => ({ name: n, base: rec(b)[n], head: rec(h)[n] }));
}

function runDiff(input: string, b: PlanFiring | undefined, h: PlanFiring | undefined): RunDiff | undefined {
  const f = (h ?? b) as PlanFiring;
  const calls = diffCalls(b?.calls ?? [], h?.calls ?? []);
  const attrs = attributes(b, h);
  const cond = { base: conditionValue(b), head: conditionValue(h) };
  if (b && h && calls.length === 0 && attrs.length === 0 && cond.base === cond.head) return undefined;
  const run: RunDiff = { change: !b ? 'added' : !h ? 'removed' : 'changed', input, trigger: f.trigger, calls };
  if (f.record) run.record = f.record;
  if (cond.base !== cond.head) run.condition = cond;
  if (attrs.length > 0) run.attributes = attrs;
  if (b?.skipped || h?.skipped) run.skipped = { ...(b?.skipped ? { base: b.skipped } : {}), ...(h?.skipped ? { head: h.skipped } : {}) };
  const fields = fieldOutcomes(b?.calls ?? [], h?.calls ?? []);
  if (fields.length > 0) run.fields = fields;
  return run;
}

function zero(): DiffTotals {
  return { runs_added: 0, runs_removed: 0, runs_changed: 0, calls_added: 0, calls_removed: 0, calls_changed: 0 };
}

function count(totals: DiffTotals, run: RunDiff): void {
  totals[`runs_${run.change}`]++;
  for (const c of run.calls) totals[`calls_${c.change}`]++;
}

function side(label: string, rules: DiffRuleInfo[], plans: PlanDocument[]): DiffSide {
  const sum = (pick: (p: PlanDocument) => number): number => plans.reduce((n, p) => n + pick(p), 0);
  return { label, rules: rules.length, runs: sum((p) => p.summary.firings), writes: sum((p) => p.summary.writes), errors: sum((p) => p.summary.errors) };
}

/** Trigger keys in the plans' order: numbers in them as numbers (`dry-run:2:…` before `dry-run:10:…`). */
function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return i % 2 === 1 ? compareIds(x, y) : x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function compareRuns(a: RunDiff, b: RunDiff): number {
  return (
    (a.input < b.input ? -1 : a.input > b.input ? 1 : 0) ||
    naturalCompare(a.trigger.key, b.trigger.key) ||
    (a.record?.entity ?? '').localeCompare(b.record?.entity ?? '') ||
    compareIds(a.record?.id ?? '', b.record?.id ?? '')
  );
}

/** The diff of the base's and the change's plans of the same inputs. */
export function diffPlans(req: DiffRequest): PlanDiff {
  const baseRules = new Map(req.base.rules.map((r) => [r.id, r]));
  const headRules = new Map(req.head.rules.map((r) => [r.id, r]));
  const runsByRule = new Map<string, RunDiff[]>();
  for (const input of req.inputs) {
    const b = keyed(input.label, input.base);
    const h = keyed(input.label, input.head);
    for (const k of [...new Set([...b.keys(), ...h.keys()])]) {
      const run = runDiff(input.label, b.get(k), h.get(k));
      if (!run) continue;
      const rule = (h.get(k) ?? b.get(k))?.rule ?? '';
      runsByRule.set(rule, [...(runsByRule.get(rule) ?? []), run]);
    }
  }
  const ids = [...new Set([...baseRules.keys(), ...headRules.keys(), ...runsByRule.keys()])].sort();
  const rules: RuleDiff[] = [];
  const noEffect: PlanDiff['no_effect'] = [];
  for (const id of ids) {
    const inBase = baseRules.get(id);
    const inHead = headRules.get(id);
    const runs = (runsByRule.get(id) ?? []).sort(compareRuns);
    const where = inHead ?? inBase;
    const place = { ...(where?.file ? { file: where.file } : {}), ...(where?.line ? { line: where.line } : {}), ...(inHead?.changedLine ? { changed_line: inHead.changedLine } : {}) };
    if (inBase && inHead && runs.length === 0) {
      if (inBase.hash !== inHead.hash) noEffect.push({ rule: id, ...place });
      continue;
    }
    const totals = zero();
    for (const r of runs) count(totals, r);
    rules.push({ rule: id, change: inBase && !inHead ? 'removed' : inHead && !inBase ? 'added' : 'changed', ...place, totals, runs });
  }
  const totals: DiffGrandTotals = { rules_added: 0, rules_removed: 0, rules_changed: 0, ...zero() };
  for (const r of rules) {
    totals[`rules_${r.change}`]++;
    for (const k of Object.keys(r.totals) as Array<keyof DiffTotals>) totals[k] += r.totals[k];
  }
  const first = req.inputs[0]?.head;
  return {
    format_version: PLAN_DIFF_FORMAT_VERSION,
    base: side(req.base.label, req.base.rules, req.inputs.map((i) => i.base)),
    head: side(req.head.label, req.head.rules, req.inputs.map((i) => i.head)),
    at: first?.at ?? '',
    inputs: req.inputs.map((i) => ({ label: i.label, source: i.head.source, events: i.head.inputs.events, schedule_ticks: new Set([...i.base.inputs.schedule_ticks, ...i.head.inputs.schedule_ticks].map((t) => `${t.rule}@${t.at}`)).size })),
    totals,
    rules,
    no_effect: noEffect,
  };
}

/** True when the diff shows any difference (what `--detailed-exitcode` exits 2 for). */
export function hasDifferences(diff: PlanDiff): boolean {
  return diff.rules.length > 0;
}
