/** Short human descriptions of a plan diff, shared by its text, Markdown and GitHub renderers. */
import { describeRecord, describeTrigger, formatValue } from './describe.js';
import type { CallDiff, PlanDiff, RuleDiff, RunDiff } from './diff-types.js';
import type { PlanFiring } from './types.js';

/** Params longer than this are cut (with `…`) in the text and Markdown: the JSON diff has them whole. */
export const MAX_VALUE_CHARS = 240;

/** `1 run`, `2 runs`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A value as plans print it, cut to MAX_VALUE_CHARS. */
export function shortValue(value: unknown): string {
  const s = formatValue(value);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

function asFiring(run: RunDiff): PlanFiring {
  return { rule: '', trigger: run.trigger, ...(run.record ? { record: run.record } : {}), condition: null, calls: [] };
}

/** `lead 903 "Call back", event ONCRMLEADADD (dry-run:3:…)`, with the input when the diff has several. */
export function describeRun(run: RunDiff, severalInputs: boolean): string {
  const f = asFiring(run);
  return `${describeRecord(f)}, ${describeTrigger(f)}${severalInputs ? ` [${run.input}]` : ''}`;
}

/** `rules/09-lead-scoring.yaml:66`. */
export function describePlace(r: { file?: string; line?: number }): string {
  return r.file ? `${r.file}${r.line ? `:${r.line}` : ''}` : '';
}

const MARK = { added: '+', removed: '-', changed: '~' } as const;

function condition(v: boolean | null | undefined): string {
  return v === undefined ? '(no run)' : v === null ? '(no condition)' : String(v);
}

/**
 * The lines of one run's difference. `arrows` (text): `before → after` on one
 * line; `diff` (Markdown's diff block): the base's value on a `-` line and the
 * change's on a `+` line, so GitHub colours them.
 */
export function runLines(run: RunDiff, style: 'arrows' | 'diff'): string[] {
  const out: string[] = [];
  const pair = (label: string, base: string, head: string): void => {
    if (style === 'arrows') out.push(`    ${label}: ${base} → ${head}`);
    else out.push(`-   ${label}: ${base}`, `+   ${label}: ${head}`);
  };
  if (run.condition) pair('condition', condition(run.condition.base), condition(run.condition.head));
  for (const a of run.attributes ?? []) pair(a.name, shortValue(a.base), shortValue(a.head));
  for (const f of run.fields ?? []) pair(`${f.target} ${f.field}`, shortValue(f.base), shortValue(f.head));
  for (const c of run.calls) out.push(...callLines(c, style));
  if (run.change === 'changed' && run.calls.length === 0 && run.skipped) {
    if (run.skipped.base) out.push(`    base: ${run.skipped.base}`);
    if (run.skipped.head) out.push(`    change: ${run.skipped.head}`);
  }
  return out;
}

/** A call's lines: its mark, method and params, then (changed) each param that differs, or (added, removed) each field of an update. */
export function callLines(c: CallDiff, style: 'arrows' | 'diff'): string[] {
  const head = `${MARK[c.change]}   ${c.kind === 'read' ? '(read) ' : ''}${c.method} ${shortValue(c.params)}`;
  const out = [style === 'arrows' ? `  ${head}` : head];
  if (c.change === 'changed') {
    for (const p of c.params_changed ?? []) {
      if (style === 'arrows') out.push(`        ${p.path}: ${shortValue(p.base)} → ${shortValue(p.head)}`);
      else out.push(`-       ${p.path}: ${shortValue(p.base)}`, `+       ${p.path}: ${shortValue(p.head)}`);
    }
  } else {
    for (const ch of c.changes ?? []) out.push(`${style === 'arrows' ? '  ' : MARK[c.change]}      ${ch.field}: ${shortValue(ch.before)} → ${shortValue(ch.after)}`);
  }
  return out;
}

/** `runs +1 −0 ~5, calls +2 −1 ~4`. */
export function describeTotals(t: RuleDiff['totals']): string {
  return `runs +${t.runs_added} −${t.runs_removed} ~${t.runs_changed}, calls +${t.calls_added} −${t.calls_removed} ~${t.calls_changed}`;
}

/** The one-line headline of a diff. */
export function diffHeadline(diff: PlanDiff): string {
  const t = diff.totals;
  const quiet = diff.no_effect.length > 0 ? ` ${plural(diff.no_effect.length, 'changed rule')} ${diff.no_effect.length === 1 ? 'has' : 'have'} no effect on these inputs.` : '';
  if (diff.rules.length === 0) return `No differences: the change plans the same ${plural(diff.head.runs, 'run')} as ${diff.base.label}.${quiet}`;
  const kinds = [t.rules_changed ? `${t.rules_changed} changed` : '', t.rules_added ? `${t.rules_added} added` : '', t.rules_removed ? `${t.rules_removed} removed` : ''].filter(Boolean).join(', ');
  const writes = diff.base.writes === diff.head.writes ? '' : `; writes ${diff.base.writes} → ${diff.head.writes}`;
  return `${plural(diff.rules.length, 'rule')} differ${diff.rules.length === 1 ? 's' : ''} (${kinds}): runs ${t.runs_added} added, ${t.runs_removed} removed, ${t.runs_changed} changed; calls ${t.calls_added} added, ${t.calls_removed} removed, ${t.calls_changed} changed${writes}.${quiet}`;
}

/** Inputs listed one by one up to this many; more are summed up. */
const INPUTS_LISTED = 3;

/** `fixtures rules/fixtures/09.fixtures.yaml (26 events, 0 schedule ticks)` for each input, or their count and sums when there are many. */
export function describeInputs(diff: PlanDiff): string {
  const src = (i: PlanDiff['inputs'][number]): string => (i.source.mode === 'fixtures' ? `fixtures ${i.source.fixtures ?? i.label}` : `portal ${i.source.portal ?? ''}`.trim());
  if (diff.inputs.length > INPUTS_LISTED) {
    const events = diff.inputs.reduce((n, i) => n + i.events, 0);
    const ticks = diff.inputs.reduce((n, i) => n + i.schedule_ticks, 0);
    return `${diff.inputs.length} inputs (${src(diff.inputs[0] as PlanDiff['inputs'][number])} … ${(diff.inputs[diff.inputs.length - 1] as PlanDiff['inputs'][number]).label}): ${plural(events, 'event')}, ${plural(ticks, 'schedule tick')}`;
  }
  return diff.inputs.map((i) => `${src(i)} (${plural(i.events, 'event')}, ${plural(i.schedule_ticks, 'schedule tick')})`).join('; ');
}

/** `lead 903, lead 922 and 3 more`: the records a rule's runs are about. */
export function describeRecords(rule: RuleDiff, max: number): string {
  const names = [...new Set(rule.runs.map((r) => (r.record ? `${r.record.entity} ${r.record.id}` : describeTrigger(asFiring(r)))))];
  if (names.length === 0) return '';
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}
