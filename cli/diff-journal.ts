/**
 * The daemon's own journal as input of `rules diff --journal STATE`: the last
 * events its inbox holds (offline events and outgoing webhooks; schedule
 * ticks, forms, manual runs and timers are not events), oldest first, as the
 * JSON lines a dry-run reads. Only the event's name, data and time are kept:
 * an outgoing webhook's `auth` (its application token) never leaves the store.
 */
import { openExistingState } from '../engine/daemon/index.js';

/** The journal's events as JSON lines, and how many. */
export interface JournalEvents {
  text: string;
  events: number;
}

export function journalEvents(statePath: string, limit: number): JournalEvents {
  const store = openExistingState(statePath);
  try {
    // The last `limit` events: each source's newest, merged (schedule, form and timer items do not count against it).
    const items = [...store.inbox.list({ source: 'offline', limit }), ...store.inbox.list({ source: 'outgoing', limit })]
      .sort((a, b) => b.id - a.id)
      .slice(0, limit)
      .reverse();
    const lines: string[] = [];
    for (const item of items) {
      const p = item.payload;
      const name = typeof p.event === 'string' && p.event !== '' ? p.event : item.event;
      if (!name || (item.source !== 'offline' && item.source !== 'outgoing')) continue;
      lines.push(JSON.stringify({ event: name, data: p.data ?? {}, ts: p.ts ?? Math.floor(item.receivedAt / 1000) }));
    }
    return { text: lines.join('\n'), events: lines.length };
  } finally {
    store.close();
  }
}
