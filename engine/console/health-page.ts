/** The Health page: the `/healthz` report and small charts of the last hour, drawn as inline SVG (no script). */
import { redactValue } from '../redact.js';
import { html, type SafeHtml } from './html.js';
import { duration, page, when, type PageContext } from './layout.js';
import type { HealthSample, HealthView } from './source.js';

const W = 360;
const H = 80;
const MINUTES = 60;

interface Series {
  id: string;
  title: string;
  unit: string;
  value: (s: HealthSample) => number | null;
  kind: 'bars' | 'line';
}

const SERIES: Series[] = [
  { id: 'depth', title: 'Queue depth', unit: 'items', value: (s) => s.depth, kind: 'line' },
  { id: 'calls', title: 'Calls per minute', unit: 'calls', value: (s) => s.calls, kind: 'bars' },
  { id: 'waits', title: 'Rate-limit waits per minute', unit: 'waits', value: (s) => s.rateLimitWaits, kind: 'bars' },
  { id: 'offline', title: 'Offline queue: open reservations', unit: 'reservations', value: (s) => s.offlineReservations, kind: 'line' },
  { id: 'token', title: 'Access token: minutes left', unit: 'min', value: (s) => s.tokenMinutesLeft, kind: 'line' },
];

/** One chart: the last hour on the x axis (a slot per minute, now at the right), 0..max on the y axis. */
function chart(s: Series, samples: HealthSample[], now: number): SafeHtml {
  const points = samples.map((x) => ({ at: x.at, v: s.value(x) })).filter((p): p is { at: number; v: number } => p.v !== null);
  const max = Math.max(1, ...points.map((p) => p.v));
  const slot = W / MINUTES;
  const x = (at: number) => W - ((now - at) / 60_000) * slot - slot;
  const y = (v: number) => H - (Math.max(0, v) / max) * (H - 4);
  const last = points[points.length - 1];
  let marks: SafeHtml;
  if (s.kind === 'bars') {
    marks = html`${points.map((p) => html`<rect class="bar" x="${x(p.at).toFixed(1)}" y="${y(p.v).toFixed(1)}" width="${Math.max(1, slot - 1).toFixed(1)}" height="${(H - y(p.v)).toFixed(1)}"><title>${when(p.at)}: ${p.v} ${s.unit}</title></rect>`)}`;
  } else {
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${(x(p.at) + slot / 2).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    marks = html`<path class="line" d="${path}"></path>${points.map((p) => html`<circle class="dot" cx="${(x(p.at) + slot / 2).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="2"><title>${when(p.at)}: ${p.v} ${s.unit}</title></circle>`)}`;
  }
  return html`<figure class="chart" id="chart-${s.id}">
<figcaption>${s.title} <strong class="current">${last ? `${last.v} ${s.unit}` : 'no data'}</strong></figcaption>
<svg viewBox="0 0 ${W} ${H + 14}" width="${W}" height="${H + 14}" role="img" aria-label="${s.title}, last hour">
<line class="axis" x1="0" y1="${H}" x2="${W}" y2="${H}"></line>
<text class="tick" x="2" y="10">${max}</text>
<text class="tick" x="2" y="${H + 12}">-60 min</text><text class="tick" x="${W - 30}" y="${H + 12}">now</text>
${marks}
</svg>
</figure>`;
}

export function healthPage(ctx: PageContext, view: HealthView): string {
  const r = redactValue(view.report);
  const rows: Array<[string, unknown]> = [
    ['Status', r.ok ? 'ok' : 'unhealthy'],
    ['Rules running', r.rules],
    ['Queue depth', r.depth],
    ['Dead letters', r.dlq],
    ['Last tick', r.lastTickAt ?? '-'],
    ['Last tick error', r.lastTickError ?? 'none'],
    ['Sources', Array.isArray(r.sources) ? (r.sources as unknown[]).join(', ') : '-'],
    ['Offline events', view.offline ? 'on (OAuth): the daemon polls the portal\'s offline queue' : 'off'],
    ['Access token', view.tokenExpiresAt === null ? 'no expiry known (webhook auth, or not refreshed yet)' : `expires ${when(view.tokenExpiresAt)} (in ${duration(view.tokenExpiresAt - ctx.now)})`],
  ];
  const series = view.offline ? SERIES : SERIES.filter((s) => s.id !== 'offline');
  const body = html`<table class="facts" id="health-report">${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${String(v ?? '-')}</td></tr>`)}</table>
<p class="muted">One sample a minute, kept in memory for the last hour (${view.samples.length} so far); the rightmost is the current minute.</p>
<div class="charts">${series.map((s) => chart(s, view.samples, ctx.now))}</div>`;
  return page(ctx, '/health', 'Health', body);
}
