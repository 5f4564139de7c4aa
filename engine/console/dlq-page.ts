/** The Dead letters pages: the list, one entry, and the confirmation before a retry or a drop (one or all). */
import { stringify } from 'yaml';
import { redact, redactValue } from '../redact.js';
import type { DlqEntry, RunRecord } from '../store/index.js';
import { html, type SafeHtml } from './html.js';
import { badge, href, page, when, type PageContext } from './layout.js';

export type DlqVerb = 'retry' | 'drop';

const VERB_TEXT: Record<DlqVerb, { button: string; what: string }> = {
  retry: { button: 'Retry', what: 'sends the item back to the inbox: the daemon matches it again on its next tick; calls already done are not repeated (the effect ledger)' },
  drop: { button: 'Drop', what: 'forgets the entry; the item stays dead and is not retried' },
};

function oneLine(text: string, max = 100): string {
  const s = redact(text).replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A message after an action (`?retried=3`, `?dropped=all:4`). */
function flash(params: URLSearchParams): SafeHtml {
  const retried = params.get('retried');
  const dropped = params.get('dropped');
  if (retried) return html`<p class="flash" role="status">Requeued ${retried.startsWith('all:') ? `${retried.slice(4)} entries` : `entry ${retried}`}: the daemon picks the work up on its next tick.</p>`;
  if (dropped) return html`<p class="flash" role="status">Dropped ${dropped.startsWith('all:') ? `${dropped.slice(4)} entries` : `entry ${dropped}`}.</p>`;
  return html``;
}

export function dlqListPage(ctx: PageContext, entries: DlqEntry[], total: number, params: URLSearchParams): string {
  const rule = params.get('rule') ?? '';
  const table = entries.length
    ? html`<table class="grid" id="dlq">
<thead><tr><th>Entry</th><th>Rule</th><th>Run</th><th>Item</th><th>Since</th><th>Error</th><th></th></tr></thead>
<tbody>${entries.map(
        (e) => html`<tr data-entry="${e.id}">
<td><a href="${href(ctx, `/dlq/${e.id}`)}">${e.id}</a></td>
<td>${e.ruleId ?? '-'}</td>
<td>${e.runId === null ? '-' : html`<a href="${href(ctx, `/runs/${e.runId}`)}">${e.runId}</a>`}</td>
<td>${e.itemId}</td>
<td class="nowrap">${when(e.createdAt)}</td>
<td class="reason">${oneLine(e.error)}</td>
<td class="nowrap"><a class="button" href="${href(ctx, `/dlq/${e.id}/retry`)}">Retry</a> <a class="button button-quiet" href="${href(ctx, `/dlq/${e.id}/drop`)}">Drop</a></td>
</tr>`,
      )}</tbody></table>
<p class="actions-all"><a class="button" href="${href(ctx, '/dlq/all/retry')}">Retry all ${total}</a> <a class="button button-quiet" href="${href(ctx, '/dlq/all/drop')}">Drop all ${total}</a></p>`
    : html`<p class="empty">The dead-letter queue is empty${rule ? ` for rule ${rule}` : ''}.</p>`;
  return page(ctx, '/dlq', 'Dead letters', html`${flash(params)}<p class="muted">Work whose run exhausted its retries (on_error.then: dead_letter). ${total} entr${total === 1 ? 'y' : 'ies'}${rule ? html`; showing rule ${rule} (<a href="${href(ctx, '/dlq')}">all</a>)` : ''}.</p>${table}`);
}

export function dlqEntryPage(ctx: PageContext, entry: DlqEntry, run: RunRecord | undefined): string {
  const e = redactValue(entry);
  const body = html`<table class="facts">
<tr><th>Rule</th><td>${e.ruleId ?? '-'}</td></tr>
<tr><th>Run</th><td>${e.runId === null ? '-' : html`<a href="${href(ctx, `/runs/${e.runId}`)}">${e.runId}</a>${run ? html` ${badge(run.status)} trigger <code>${redact(run.triggerKey)}</code>` : ''}`}</td></tr>
<tr><th>Item</th><td>${e.itemId}</td></tr>
<tr><th>Since</th><td>${when(e.createdAt)}</td></tr>
<tr><th>Error</th><td class="error">${e.error}</td></tr>
</table>
<h2>Payload</h2>
<pre>${stringify(e.payload, { lineWidth: 120 }).trimEnd()}</pre>
<p><a class="button" href="${href(ctx, `/dlq/${e.id}/retry`)}">Retry</a> <a class="button button-quiet" href="${href(ctx, `/dlq/${e.id}/drop`)}">Drop</a></p>`;
  return page(ctx, '/dlq', `Dead letter ${e.id}`, body);
}

/** The confirmation: a POST form carrying the CSRF token. `target` is an entry id or 'all'. */
export function dlqConfirmPage(ctx: PageContext, verb: DlqVerb, target: number | 'all', count: number, entry?: DlqEntry): string {
  const t = VERB_TEXT[verb];
  const what = target === 'all' ? `all ${count} entries` : `entry ${target}${entry?.ruleId ? ` (rule ${entry.ruleId})` : ''}`;
  const body = html`<form method="post" action="${href(ctx, `/dlq/${target}/${verb}`)}" class="confirm" id="confirm">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<p>${t.button} ${what}? This ${t.what}.</p>
${entry ? html`<p class="muted">Error: ${oneLine(entry.error, 200)}</p>` : ''}
<button type="submit" class="button">Yes, ${t.button.toLowerCase()} ${target === 'all' ? `all ${count}` : `entry ${target}`}</button>
<a href="${href(ctx, target === 'all' ? '/dlq' : `/dlq/${target}`)}">Cancel</a>
</form>`;
  return page(ctx, '/dlq', `${t.button} ${target === 'all' ? 'all dead letters' : `dead letter ${target}`}?`, body);
}
