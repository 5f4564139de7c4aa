/** The Runs page: a filterable list, newest first, paged by run id. */
import { redact } from '../redact.js';
import type { RunSummary } from '../store/index.js';
import { html } from './html.js';
import { badge, duration, href, page, shadowMark, when, type PageContext } from './layout.js';
import { OUTCOMES, type RunsQuery } from './runs-filter.js';

function oneLine(text: string | null, max = 90): string {
  if (!text) return '';
  const s = redact(text).replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function runsPage(ctx: PageContext, q: RunsQuery, runs: RunSummary[], ruleIds: string[]): string {
  const keep = { rule: q.rule, record: q.record, outcome: q.outcome, mode: q.mode || undefined, from: q.from, to: q.to, limit: q.limit === 50 ? undefined : q.limit };
  const older = runs.length === q.limit ? href(ctx, '/runs', { ...keep, before: runs[runs.length - 1]?.id }) : null;
  const form = html`<form method="get" action="/console/runs" class="filters" id="run-filter">
${ctx.portals.length > 1 ? html`<input type="hidden" name="portal" value="${ctx.portal.key}">` : ''}
<label>Rule <select name="rule"><option value="">any</option>${ruleIds.map((id) => html`<option value="${id}"${id === q.rule ? html` selected` : ''}>${id}</option>`)}</select></label>
<label>Record <input name="record" value="${q.record}" placeholder="lead:42" size="12"></label>
<label>Outcome <select name="outcome"><option value="">any</option>${OUTCOMES.map((o) => html`<option value="${o}"${o === q.outcome ? html` selected` : ''}>${o}</option>`)}</select></label>
<label>From (UTC) <input type="datetime-local" name="from" value="${q.from}" step="1"></label>
<label>To (UTC) <input type="datetime-local" name="to" value="${q.to}" step="1"></label>
<button type="submit">Filter</button> <a href="${href(ctx, '/runs')}">clear</a>
</form>`;
  const problems = q.problems.length ? html`<ul class="problems">${q.problems.map((p) => html`<li>${p}</li>`)}</ul>` : '';
  const table = runs.length
    ? html`<table class="grid" id="runs">
<thead><tr><th>Run</th><th>Rule</th><th>Outcome</th><th>Trigger</th><th>Record</th><th>Started</th><th>Took</th><th>Error / reason</th></tr></thead>
<tbody>
${runs.map(
  (r) => html`<tr data-run="${r.id}">
<td><a href="${href(ctx, `/runs/${r.id}`)}">${r.id}</a></td>
<td>${r.ruleId}</td>
<td>${badge(r.status)}${shadowMark(r.mode)}</td>
<td class="small trigger-key">${oneLine(r.triggerKey, 40)}</td>
<td>${r.recordKey ? html`<a href="${href(ctx, '/runs', { record: r.recordKey })}">${r.recordKey}</a>` : '-'}</td>
<td class="nowrap">${when(r.createdAt)}</td>
<td>${r.finishedAt === null ? '-' : duration(r.finishedAt - r.createdAt)}</td>
<td class="reason">${oneLine(r.error ?? r.reason)}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="empty">No runs${q.rule || q.record || q.outcome || q.mode || q.from || q.to ? ' match this filter' : ' recorded yet'}.</p>`;
  const paging = html`<nav class="paging">${q.before !== undefined ? html`<a href="${href(ctx, '/runs', keep)}">« Newest</a> ` : ''}${older ? html`<a href="${older}" rel="next">Older »</a>` : ''}</nav>`;
  return page(ctx, '/runs', 'Runs', html`${form}${problems}${table}${paging}`);
}
