/** The Rules page: the running set, each rule's activity, and the reload the daemon refused. */
import { formatDiagnostics } from '../rules/index.js';
import { html, type SafeHtml } from './html.js';
import { badge, href, page, when, type PageContext } from './layout.js';
import type { RuleRow, RulesView } from './rules-view.js';

const ORDER = ['done', 'skipped', 'failed', 'dead', 'active', 'waiting', 'delayed', 'new'];

function counts(c: Partial<Record<string, number>>): SafeHtml {
  const parts = ORDER.filter((s) => (c[s] ?? 0) > 0).map((s) => html`<span class="count count-${s}" title="${s}">${s} ${c[s]}</span> `);
  return parts.length ? html`${parts}` : html`<span class="muted">none</span>`;
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function row(ctx: PageContext, r: RuleRow): SafeHtml {
  return html`<tr data-rule="${r.id}">
<td><a href="${href(ctx, '/runs', { rule: r.id })}"><strong>${r.id}</strong></a>${r.enabled ? '' : html` <span class="badge badge-off">disabled</span>`}<div class="muted small">${r.description}</div></td>
<td><span title="${r.file}">${fileName(r.file)}:${r.line}</span></td>
<td><code>${r.trigger}</code></td>
<td>${r.invalidOnDisk ? html`<span class="badge badge-failed" title="the file on disk has errors; this rule runs as last loaded">running; errors on disk</span>` : badge('valid')}</td>
<td>${when(r.lastActedAt)}</td>
<td>${counts(r.runs.hour)}</td>
<td>${counts(r.runs.day)}</td>
<td>${r.dlq > 0 ? html`<a href="${href(ctx, '/dlq', { rule: r.id })}" class="count count-dead">${r.dlq}</a>` : '0'}</td>
</tr>`;
}

export function rulesPage(ctx: PageContext, view: RulesView): string {
  const refused = view.refusedReload;
  const refusal = refused
    ? html`<section class="panel panel-error" id="refused-reload">
<h2>Reload refused at ${when(refused.at)}</h2>
<p>The rule files on disk have ${refused.diagnostics.length || 'some'} error(s), so the daemon kept the rule set it was running (below). Fix the files; the next reload (a saved file, SIGHUP) takes them.</p>
${refused.diagnostics.length ? html`<pre class="diagnostics">${formatDiagnostics(refused.diagnostics, 'text')}</pre>` : html`<pre class="diagnostics">${refused.message}</pre>`}
</section>`
    : '';
  const body = html`${refusal}
<p class="muted">Running rule set: ${view.rules.length} rule(s)${refused ? ' (the set loaded before the refused reload)' : ''}. Runs count from the creation of each run; "last acted" is the newest run that was not skipped.</p>
<table class="grid" id="rules">
<thead><tr><th>Rule</th><th>File</th><th>Trigger</th><th>Valid</th><th>Last acted</th><th>Runs, last hour</th><th>Runs, last day</th><th>DLQ</th></tr></thead>
<tbody>
${view.rules.map((r) => row(ctx, r))}
</tbody>
</table>`;
  return page(ctx, '/rules', 'Rules', body);
}
