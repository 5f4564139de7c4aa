/** The plan as plain text (the default `rules dry-run` output), in the spirit of `terraform plan`. */
import { describeChanges, describeCondition, describeName, describeRecord, describeTimer, describeTrigger, formatValue, headline } from './describe.js';
import type { PlanDocument } from './types.js';

export function renderText(plan: PlanDocument): string {
  const out: string[] = [];
  const src = plan.source.mode === 'fixtures' ? `fixtures ${plan.source.fixtures ?? ''}`.trim() : `portal ${plan.source.portal ?? ''}`.trim();
  out.push(`Dry run at ${plan.at} on ${src}: ${plan.rules.count} rule${plan.rules.count === 1 ? '' : 's'}, ${plan.inputs.events} event${plan.inputs.events === 1 ? '' : 's'}, ${plan.inputs.schedule_ticks.length} schedule tick${plan.inputs.schedule_ticks.length === 1 ? '' : 's'}.`);
  out.push('');
  plan.firings.forEach((f, i) => {
    const writes = f.calls.some((c) => c.kind === 'write') || (f.mode === 'shadow' && f.calls.length > 0);
    if (!writes && !f.error && f.calls.length === 0) {
      // A run that does nothing: one line, with the reason.
      const why = f.condition && !f.condition.value ? `condition ${describeCondition(f)}` : (f.skipped ?? 'no calls');
      out.push(`  [${i + 1}] ${f.rule}${f.mode === 'shadow' ? ' (shadow)' : ''} on ${describeRecord(f)} (${describeTrigger(f)}): ${why}`);
      for (const t of f.timers ?? []) out.push(`      timer      ${describeTimer(t)}`);
      return;
    }
    if (out[out.length - 1] !== '') out.push('');
    out.push(`${f.error ? '!' : f.mode === 'shadow' ? '◌' : '~'} [${i + 1}] rule ${f.rule}${f.file ? `  (${f.file}${f.line ? `:${f.line}` : ''})` : ''}${f.mode === 'shadow' ? '  shadow: its calls are journaled, never sent' : ''}`);
    out.push(`      trigger    ${describeTrigger(f)}`);
    out.push(`      record     ${describeRecord(f)}`);
    out.push(`      condition  ${describeCondition(f)}`);
    if (f.skipped && !(f.condition && !f.condition.value && f.skipped.includes(f.condition.reason ?? '\u0000'))) out.push(`      note       ${f.skipped}`);
    if (f.error) out.push(`      error      ${f.error.code}: ${f.error.message}`);
    for (const t of f.timers ?? []) out.push(`      timer      ${describeTimer(t)}`);
    for (const n of f.names ?? []) out.push(`      name       ${describeName(n)}`);
    if (f.calls.length > 0) {
      out.push('      calls');
      f.calls.forEach((c, j) => {
        out.push(`        ${j + 1}. ${c.kind === 'write' ? '' : '(read) '}${c.method} ${formatValue(c.params)}`);
        for (const line of describeChanges(c)) out.push(`             ${line}`);
      });
    }
    out.push('');
  });
  if (plan.firings.length > 0 && out[out.length - 1] !== '') out.push('');
  if (plan.batches.length > 0) {
    out.push('Batches:');
    for (const b of plan.batches) {
      const methods = new Map<string, number>();
      for (const [fi, ci] of b.calls) {
        const m = plan.firings[fi]?.calls[ci]?.method ?? '?';
        methods.set(m, (methods.get(m) ?? 0) + 1);
      }
      const list = [...methods.entries()].sort(([a], [b2]) => (a < b2 ? -1 : a > b2 ? 1 : 0)).map(([m, n]) => `${m} ×${n}`);
      out.push(`  batch ${b.index}: ${b.calls.length} command${b.calls.length === 1 ? '' : 's'} (${list.join(', ')})`);
    }
    out.push('');
  }
  out.push(headline(plan));
  return `${out.join('\n')}\n`;
}
