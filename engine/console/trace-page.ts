/**
 * One run's trace as a person reads it: why it ended as it did, the trigger
 * and the changed fields, the records loaded, the condition and its
 * explanation (the one dry-run prints), each action with its calls' fields
 * before and after, then each call as the ledger has it: the batch it went
 * in, the portal's answer or error, attempts and times. Everything shown is
 * redacted and escaped.
 */
import { stringify } from 'yaml';
import { redactValue } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import type { DlqEntry, EffectRecord, InboxItem, RunRecord } from '../store/index.js';
import { html, type SafeHtml } from './html.js';
import { badge, duration, href, page, shadowMark, when, type PageContext } from './layout.js';

/** What the trace page shows: the run, its calls, and what helps read them. */
export interface TraceData {
  run: RunRecord;
  calls: EffectRecord[];
  /** The rule as running now (its condition's source), if still loaded. */
  rule: CompiledRule | undefined;
  /** The inbox item that triggered the run, if kept. */
  item: InboxItem | undefined;
  /** The run's DLQ entry, if dead-lettered and not yet retried or dropped. */
  dlq: DlqEntry | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value in a cell: strings as they are, the rest as JSON. */
function show(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function yaml(v: unknown): string {
  return stringify(redactValue(v), { lineWidth: 120 }).trimEnd();
}

function why(run: RunRecord, calls: EffectRecord[]): SafeHtml {
  if (run.status === 'skipped') return html`<p class="why why-skipped"><strong>Did not act:</strong> ${run.reason ?? 'skipped'}</p>`;
  if (run.status === 'failed' || run.status === 'dead')
    return html`<p class="why why-failed"><strong>${run.status === 'dead' ? 'Dead-lettered' : 'Failed'}:</strong> ${run.error ?? 'no error recorded'}</p>`;
  if (run.status === 'done' && run.mode === 'shadow') {
    return html`<p class="why why-done"><strong>Shadow:</strong> ${calls.filter((c) => c.state === 'shadow').length} call(s) journaled, none sent${run.reason ? html`; ${run.reason}` : ''}.</p>`;
  }
  if (run.status === 'done') {
    const done = calls.filter((c) => c.state === 'done').length;
    return html`<p class="why why-done"><strong>Acted:</strong> ${done} call(s) done${run.reason ? html`; ${run.reason}` : ''}.</p>`;
  }
  return html`<p class="why"><strong>In progress (${run.status}).</strong>${run.error ? html` Last error: ${run.error}` : ''}</p>`;
}

function facts(ctx: PageContext, d: TraceData): SafeHtml {
  const { run } = d;
  const rows: Array<[string, unknown]> = [
    ['Rule', html`<a href="${href(ctx, '/runs', { rule: run.ruleId })}">${run.ruleId}</a> <span class="muted small">hash ${run.ruleHash.slice(0, 12)}${d.rule && d.rule.hash !== run.ruleHash ? ' (the rule has changed since)' : ''}</span>`],
    ['Trigger', html`<span class="trigger-key">${run.triggerKey}</span>`],
    ['Record', run.recordKey ? html`<a href="${href(ctx, '/runs', { record: run.recordKey })}">${run.recordKey}</a>` : '-'],
    ['Inbox item', `${run.itemId}${d.item ? ` (${d.item.status}, received ${when(d.item.receivedAt)})` : ''}`],
    ['Started', when(run.createdAt)],
    ['Finished', when(run.finishedAt)],
    ['Took', run.finishedAt === null ? '-' : duration(run.finishedAt - run.createdAt)],
    ['Attempts', run.attempts],
  ];
  if (run.dedupeKey) rows.push(['Dedupe key', run.dedupeKey]);
  if (run.concurrencyKey) rows.push(['Concurrency key', run.concurrencyKey]);
  if (d.dlq) rows.push(['Dead letter', html`<a href="${href(ctx, `/dlq/${d.dlq.id}`)}">entry ${d.dlq.id}</a> (retry or drop it there)`]);
  return html`<table class="facts">${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>`;
}

function trigger(d: TraceData, t: Obj): SafeHtml {
  const trig = isObj(t.trigger) ? t.trigger : undefined;
  const changes = t.changes;
  let changed: SafeHtml = html``;
  if (isObj(changes) && typeof changes.note === 'string') changed = html`<p class="muted">${changes.note}</p>`;
  else if (isObj(changes)) {
    const entries = Object.entries(changes).filter(([, c]) => isObj(c));
    const firstSight = entries.length > 0 && entries.every(([, c]) => !('from' in (c as Obj)));
    changed = firstSight
      ? html`<p class="muted">No snapshot of the record yet: every field counts as changed (${entries.length} fields).</p>`
      : html`<table class="grid changes"><thead><tr><th>Field</th><th>From</th><th>To</th></tr></thead><tbody>${entries.map(
          ([f, c]) => html`<tr><td>${f}</td><td>${show((c as Obj).from)}</td><td>${show((c as Obj).to)}</td></tr>`,
        )}</tbody></table>`;
  }
  const event = trig ? html`<p>${trig.event ? html`Event <code>${show(trig.event)}</code>` : html`Source <code>${show(trig.source)}</code>`} · key <code class="trigger-key">${show(trig.key)}</code></p>` : '';
  const payload = d.item ? html`<details><summary>The item's payload</summary><pre>${yaml(d.item.payload)}</pre></details>` : '';
  return html`<section id="trigger"><h2>Trigger</h2>${event}${changes !== undefined ? html`<h3>Changed fields</h3>${changed}` : ''}${payload}</section>`;
}

function loaded(t: Obj): SafeHtml {
  if (!isObj(t.loaded)) return html``;
  const blocks = Object.entries(t.loaded).map(([name, value]) => {
    if (!isObj(value)) return html`<details open><summary><code>${name}</code></summary><pre>${yaml(value)}</pre></details>`;
    const fields = Object.entries(value).filter(([, v]) => v !== null && v !== '');
    const hidden = Object.keys(value).length - fields.length;
    return html`<details open><summary><code>${name}</code> <span class="muted small">${fields.length} fields${hidden ? `, ${hidden} empty left out` : ''}</span></summary>
<table class="grid record"><tbody>${fields.map(([k, v]) => html`<tr><th>${k}</th><td>${show(v)}</td></tr>`)}</tbody></table></details>`;
  });
  return html`<section id="loaded"><h2>Records loaded</h2>${blocks}</section>`;
}

function condition(d: TraceData, t: Obj): SafeHtml {
  const c = isObj(t.condition) ? t.condition : undefined;
  const source = d.rule?.condition?.source;
  if (!c && source === undefined) return html``;
  const value = c ? (c.value ? html`${badge('true')}` : html`${badge('false')} <span class="explain">${show(c.reason ?? '')}</span>`) : html`<span class="muted">not evaluated (the run ended before it)</span>`;
  return html`<section id="condition"><h2>Condition</h2>
<p class="condition-value">Value: ${value}</p>
${source !== undefined ? html`<details${c && !c.value ? html` open` : ''}><summary>As the rule ${d.rule && d.rule.hash !== d.run.ruleHash ? 'reads now (it has changed since this run)' : 'reads'}</summary><pre>${yaml(source)}</pre></details>` : ''}
${isObj(t.let) ? html`<h3>let</h3><table class="grid">${Object.entries(t.let).map(([k, v]) => html`<tr><th>${k}</th><td>${show(v)}</td></tr>`)}</table>` : ''}
</section>`;
}

function beforeAfter(call: Obj): SafeHtml {
  if (!isObj(call.before) || !isObj(call.after)) return html``;
  const after = call.after;
  const before = call.before;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return html`<table class="grid changes"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>${fields.map(
    (f) => html`<tr><td>${f}</td><td>${show(before[f])}</td><td>${show(after[f])}</td></tr>`,
  )}</tbody></table>`;
}

function actions(t: Obj): SafeHtml {
  if (!Array.isArray(t.actions) || t.actions.length === 0) return html``;
  const items = (t.actions as unknown[]).filter(isObj).map((a) => {
    const head = html`<strong>#${show(a.index)} ${show(a.kind)}</strong>`;
    const parts: SafeHtml[] = [];
    if (Array.isArray(a.calls))
      for (const c of a.calls.filter(isObj))
        parts.push(html`<div class="call"><code>${show(c.method)}</code> <details><summary>params</summary><pre>${yaml(c.params)}</pre></details>${beforeAfter(c)}</div>`);
    for (const k of ['skipped', 'picked', 'stop', 'delay', 'wait_for', 'until', 'note', 'error'] as const) if (a[k] !== undefined) parts.push(html`<div><span class="muted">${k}:</span> ${show(a[k])}</div>`);
    if (isObj(a.http)) parts.push(html`<div><code>${show(a.http.method)} ${show(a.http.url)}</code></div>`);
    return html`<li>${head}${parts}</li>`;
  });
  return html`<section id="actions"><h2>Actions planned</h2><ol class="actions">${items}</ol></section>`;
}

function callRow(c: EffectRecord): SafeHtml {
  const batch = isObj(c.meta?.batch) ? (c.meta!.batch as Obj) : undefined;
  const answer =
    c.state === 'done'
      ? html`<details><summary>answer</summary><pre>${yaml(c.result)}</pre></details>`
      : c.error
        ? html`<span class="error">${c.errorCode ? html`<code>${c.errorCode}</code> ` : ''}${c.error}</span>`
        : c.state === 'shadow'
          ? html`<span class="muted">not sent (shadow); a later action reads <code>${show(c.result)}</code></span>`
          : html`<span class="muted">no answer yet</span>`;
  const merge = isObj(c.meta?.merge) && Array.isArray((c.meta!.merge as Obj).with) ? html`<div class="muted small">sent in one command with ${((c.meta!.merge as Obj).with as unknown[]).length} other run(s)' update of the same record</div>` : '';
  return html`<tr data-call="${c.id}">
<td>${c.seq}</td><td>${c.actionIndex} ${c.kind}</td><td><code>${c.method}</code><details><summary>params</summary><pre>${yaml(c.params)}</pre></details></td>
<td>${badge(c.state)}${c.final && c.state === 'failed' ? html` <span class="muted small">final</span>` : ''}</td><td>${c.attempts}</td>
<td>${c.method === 'http' ? 'alone (http)' : batch ? html`batch of ${show(batch.commands)} (from call ${show(batch.id)})` : '-'}</td>
<td class="nowrap small">sent ${when(c.sentAt)}<br>done ${when(c.doneAt)}${c.sentAt && c.doneAt ? html`<br>${duration(c.doneAt - c.sentAt)}` : ''}</td>
<td>${answer}${merge}</td>
</tr>`;
}

function calls(d: TraceData): SafeHtml {
  if (d.calls.length === 0) return html`<section id="calls"><h2>Calls</h2><p class="muted">None.</p></section>`;
  return html`<section id="calls"><h2>Calls (${d.calls.length})</h2>
<table class="grid"><thead><tr><th>#</th><th>Action</th><th>Method</th><th>State</th><th>Attempts</th><th>Batch</th><th>Times</th><th>Portal's answer</th></tr></thead>
<tbody>${d.calls.map(callRow)}</tbody></table></section>`;
}

function notes(t: Obj): SafeHtml {
  const out: SafeHtml[] = [];
  if (typeof t.resumed === 'string') out.push(html`<li>${t.resumed}</li>`);
  if (typeof t.waitingFor === 'string') out.push(html`<li>Waiting for ${t.waitingFor}</li>`);
  if (Array.isArray(t.woke)) for (const w of t.woke) out.push(html`<li>Woke: ${show(w)}</li>`);
  if (isObj(t.timer)) out.push(html`<li>Started by timer ${show(t.timer.id)} (${show(t.timer.kind)})</li>`);
  if (typeof t.dedupe === 'string') out.push(html`<li>Dedupe key <code>${t.dedupe}</code></li>`);
  return out.length ? html`<section id="notes"><h2>Notes</h2><ul>${out}</ul></section>` : html``;
}

export function tracePage(ctx: PageContext, d: TraceData): string {
  const t = redactValue(d.run.trace);
  const run = redactValue({ ...d.run, trace: {}, facts: null });
  const compact = Object.keys(t).every((k) => k === 'outcome' || k === 'reason');
  const body = html`<p class="status-line">${badge(run.status)}${shadowMark(run.mode)} <a href="/api/runs/${run.id}${ctx.portals.length > 1 ? `?portal=${encodeURIComponent(ctx.portal.key)}` : ''}" class="small">JSON</a></p>
<section id="why">${why(run, d.calls)}</section>
${facts(ctx, { ...d, run })}
${compact ? html`<p class="muted">A run that does not act is journaled compactly: its reason, no loaded records and no calls.</p>${trigger(d, {})}` : html`${trigger(d, t)}${loaded(t)}${condition(d, t)}${actions(t)}`}
${calls({ ...d, calls: redactValue(d.calls) })}
${notes(t)}`;
  return page(ctx, '/runs', `Run ${d.run.id}: ${d.run.ruleId}`, body);
}
