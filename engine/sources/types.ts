/**
 * What every work source is built from (one file per kind in engine/sources/).
 * A source turns the outside world into inbox rows and, once the inbox says the
 * work is done, acknowledges it to the outside in its own way (offline:
 * `event.offline.clear`). It never runs rules itself. How the daemon starts,
 * reloads and stops a source is the plug-in contract in plugin.ts.
 */
import type { Clock, Timers } from '../clock.js';
import type { Logger } from '../logger.js';
import type { DaemonMetrics } from '../status/index.js';
import type { Inbox, SourceKind } from '../store/index.js';

/** Last-fire bookkeeping of schedules (kept in the state store), ms since epoch. */
export interface ScheduleBook {
  getLastFire(ruleId: string): number | null;
  setLastFire(ruleId: string, at: number): void;
}

/** What every source gets from the daemon. */
export interface SourceContext {
  inbox: Inbox;
  logger: Logger;
  clock: Clock;
  /** Polling and schedule timers. @default realTimers (engine/clock.ts) */
  timers?: Timers;
  metrics?: DaemonMetrics;
  /** Called after a source stored new items, so the daemon can tick the engine without waiting. */
  notify?: () => void;
}

/**
 * A source's own controls, which its plug-in's `attach` and `detach` drive
 * (engine/sources/plugin.ts). Tests use them directly; the daemon only sees
 * plug-ins.
 */
export interface Source {
  readonly kind: SourceKind;
  /** Begin taking work (bind, recover, arm timers). Resolves when started. */
  start(): Promise<void>;
  /** Stop taking new work. Idempotent. In-flight requests finish or are abandoned safely. */
  stop(): Promise<void>;
  /** Tell the outside which work is done (called by the daemon after each engine tick). */
  acknowledge?(): Promise<void>;
}

/** Record an `inbox.add` in the metrics and wake the engine when anything new arrived. */
export function recordAdded(ctx: SourceContext, kind: SourceKind, result: { inserted: number; duplicates: number }): void {
  if (result.inserted > 0) ctx.metrics?.eventsReceived.inc({ source: kind }, result.inserted);
  if (result.duplicates > 0) ctx.metrics?.eventsDuplicate.inc({ source: kind }, result.duplicates);
  if (result.inserted > 0) ctx.notify?.();
}

/** Retire finished items of a source that needs no outside acknowledgement (the HTTP 200 or the schedule bookkeeping was it). */
export function retireFinished(ctx: SourceContext, kind: SourceKind): void {
  const done = ctx.inbox.finished(kind);
  if (done.length === 0) return;
  ctx.inbox.markAcknowledged(done.map((i) => i.id));
  countFinished(ctx, kind, done);
}

/** Count items that reached their final state, by outcome. */
export function countFinished(ctx: SourceContext, kind: SourceKind, items: Array<{ status: string }>): void {
  for (const i of items) {
    ctx.metrics?.eventsProcessed.inc({ source: kind, outcome: i.status });
    if (i.status === 'dead') ctx.metrics?.eventsFailed.inc({ source: kind });
  }
}
