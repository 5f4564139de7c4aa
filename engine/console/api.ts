/**
 * The console's data: the JSON documents of `/api/...` and what the pages
 * render, read from one portal's store. The runs, trace and DLQ documents are
 * the CLI's `--format json` ones (engine/daemon/journal-json.ts).
 */
import { dlqEntryJson, dlqListJson, runsJson, traceJson } from '../daemon/index.js';
import { redactValue } from '../redact.js';
import type { RunsQuery } from './runs-filter.js';
import { rulesView, type RulesView } from './rules-view.js';
import type { DlqVerb } from './dlq-page.js';
import type { PortalView } from './source.js';
import type { TraceData } from './trace-page.js';

export const DEFAULTS = {
  /** @default 100 entries on the DLQ page and in /api/dlq without ?limit (as `rules dlq list`) */
  dlqLimit: 100,
  /** @default 500 entries at most (?limit= above is clamped) */
  maxDlqLimit: 500,
  /** @default 500 entries per store read when retrying or dropping all */
  dlqChunk: 500,
};

export function rulesDoc(portal: PortalView, now: number): RulesView {
  return rulesView(portal, now);
}

/** `/api/runs`: `rules runs --format json`. */
export function runsDoc(portal: PortalView, q: RunsQuery): unknown {
  return runsJson(portal.store.runs.summaries(q.filter));
}

/** What the trace page needs, or undefined when there is no such run. */
export function traceData(portal: PortalView, id: number): TraceData | undefined {
  const store = portal.store;
  const run = store.runs.get(id);
  if (!run) return undefined;
  return { run, calls: store.effects.forRun(id), rule: portal.rules().find((r) => r.id === run.ruleId), item: store.inbox.get(run.itemId), dlq: store.dlq.forRun(id) };
}

/** `/api/runs/:id`: `rules trace ID --format json`. */
export function traceDoc(portal: PortalView, id: number): unknown {
  const run = portal.store.runs.get(id);
  return run ? traceJson(run, portal.store.effects.forRun(id)) : undefined;
}

/** `/api/dlq`: `rules dlq list --format json`. */
export function dlqDoc(portal: PortalView, ruleId: string | undefined, limit = DEFAULTS.dlqLimit): unknown {
  return dlqListJson(portal.store.dlq.list({ ...(ruleId ? { ruleId } : {}), limit }));
}

/** `/api/dlq/:id`: `rules dlq show ID --format json`. */
export function dlqEntryDoc(portal: PortalView, id: number): unknown {
  const entry = portal.store.dlq.get(id);
  if (!entry) return undefined;
  return dlqEntryJson(entry, entry.runId === null ? undefined : portal.store.runs.get(entry.runId));
}

/** Retry or drop one entry or all; the ids acted on (an unknown id: none). */
export function dlqAct(portal: PortalView, verb: DlqVerb, target: number | 'all'): number[] {
  const dlq = portal.store.dlq;
  const act = (id: number) => (verb === 'retry' ? dlq.retry(id) : dlq.drop(id));
  if (target !== 'all') {
    if (!dlq.get(target)) return [];
    act(target);
    return [target];
  }
  const ids: number[] = [];
  for (;;) {
    const batch = dlq.list({ limit: DEFAULTS.dlqChunk });
    if (batch.length === 0) break;
    for (const e of batch) {
      // A retry requeues the item and takes all its entries (two rules of one item dead-lettered): the others are gone.
      if (!dlq.get(e.id)) continue;
      act(e.id);
      ids.push(e.id);
    }
  }
  return ids;
}

/** `/api/health`: the report, the last hour's samples, the token's expiry. */
export function healthDoc(portal: PortalView): unknown {
  return redactValue(portal.health());
}
