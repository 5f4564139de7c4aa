/**
 * When a work item's event happened at the portal, for the event-age
 * histogram: the portal's own timestamp when the payload carries one (an
 * offline event's TIMESTAMP_X, an outgoing webhook's `ts` in Unix seconds, a
 * schedule's planned time), else the moment the source stored it.
 */
import type { InboxItem } from '../store/index.js';

/** Epoch milliseconds of the item's event. */
export function eventTime(item: Pick<InboxItem, 'payload' | 'receivedAt'>): number {
  const p = item.payload && typeof item.payload === 'object' ? (item.payload as Record<string, unknown>) : {};
  const ts = p.ts;
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts < 1e11 ? ts * 1000 : ts;
  if (typeof ts === 'string' && ts.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(ts.trim())) {
      const n = Number(ts);
      return n < 1e11 ? n * 1000 : n;
    }
    const t = Date.parse(ts);
    if (!Number.isNaN(t)) return t;
  }
  const schedule = p.schedule && typeof p.schedule === 'object' ? (p.schedule as { at?: unknown }) : undefined;
  if (typeof schedule?.at === 'string') {
    const t = Date.parse(schedule.at);
    if (!Number.isNaN(t)) return t;
  }
  return item.receivedAt;
}
