/** The page frame: title, navigation, the portal selector (more than one portal), the footer. */
import { html, query, type SafeHtml } from './html.js';
import type { PortalView } from './source.js';

/** What every page of one request shares. */
export interface PageContext {
  portal: PortalView;
  portals: PortalView[];
  /** The CSRF token for forms that POST. */
  csrf: string;
  /** Whether a login is needed (a logout button shows). */
  locked: boolean;
  /** The console clock (ms). */
  now: number;
}

export const BASE = '/console';

/** A console URL for this portal: the `portal` parameter is added when there is more than one. */
export function href(ctx: Pick<PageContext, 'portal' | 'portals'>, path: string, params: Record<string, string | number | undefined | null> = {}): string {
  return `${BASE}${path}${query({ ...params, portal: ctx.portals.length > 1 ? ctx.portal.key : undefined })}`;
}

/** A time as people read it in a table: `2026-01-05 09:00:00Z`; '-' for none. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A duration: `340 ms`, `2.5 s`, `3 min`, `2 h`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3600_000).toFixed(1)} h`;
}

/** A status as a badge (`done`, `skipped`, `failed`, `dead`, ...). */
export function badge(status: string): SafeHtml {
  return html`<span class="badge badge-${status.replace(/[^a-z_-]/g, '')}">${status}</span>`;
}

/** The mark of a shadow run (`mode: shadow`): its calls were journaled, never sent. Nothing for a live run. */
export function shadowMark(mode: string): SafeHtml {
  return mode === 'shadow' ? html` <span class="badge badge-shadow" title="a shadow rule's run: its calls were journaled, never sent">shadow</span>` : html``;
}

const NAV: Array<[string, string]> = [
  ['/rules', 'Rules'],
  ['/runs', 'Runs'],
  ['/dlq', 'Dead letters'],
  ['/health', 'Health'],
];

/** The whole document. `section` is the nav entry to mark (`/rules`...). */
export function page(ctx: PageContext, section: string, title: string, body: SafeHtml): string {
  const selector =
    ctx.portals.length > 1
      ? html`<nav class="portals" aria-label="Portal">Portal: ${ctx.portals.map(
          (p) => html`<a href="${`${BASE}${section}${query({ portal: p.key })}`}"${p.key === ctx.portal.key ? html` aria-current="page" class="current"` : ''}>${p.label}</a> `,
        )}</nav>`
      : '';
  const logout = ctx.locked
    ? html`<form method="post" action="${BASE}/logout" class="logout"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · b24-rules</title>
<link rel="stylesheet" href="${BASE}/assets/console.css">
<script src="${BASE}/assets/console.js" defer></script>
</head>
<body>
<header>
<a class="brand" href="${href(ctx, '/rules')}">b24-rules</a>
<nav aria-label="Sections">${NAV.map(([path, label]) => html`<a href="${href(ctx, path)}"${path === section ? html` aria-current="page" class="current"` : ''}>${label}</a>`)}</nav>
${logout}
</header>
${selector}
<main>
<h1>${title}</h1>
${body}
</main>
<footer>Shown at ${when(ctx.now)} · portal ${ctx.portal.label}</footer>
</body>
</html>
`.text;
}
