/** What a run's requests were, from the counting proxy's records: the breakdown the issue reports, and the floor. */
import type { ProxyRecord } from './counting-proxy.js';

export interface RequestTally {
  /** Requests the client sent (pushes to it and token refreshes apart). */
  httpRequests: number;
  batch: number;
  offlineGet: number;
  /** `event.offline.clear` sent as a request of its own (a clear inside a batch is counted under commands). */
  offlineClear: number;
  /** Any other REST request (binding, lists, single calls). */
  other: number;
  /** Token-server requests. */
  oauth: number;
  /** REST commands by method (a batch's commands one by one). */
  commands: Record<string, number>;
  /** Commands that change the CRM (write methods other than `event.*`). */
  writeCommands: number;
  /** Records asked for by read commands (a get: 1; the IDs of an `@ID`/`ID` list filter are not visible here, so a list counts 1). */
  readCommands: number;
  /** Largest number of records one `event.offline.get` answer held. */
  largestQueuePage: number;
  /** Date.now() when the answer to the last request carrying a CRM write came back (0: none). */
  lastWriteAt: number;
  /** Requests the portal answered with a 5xx or not at all (they count in httpRequests too). */
  failed: number;
}

/** A command that changes the CRM (the work), as opposed to the queue's bookkeeping. */
export function isWorkWrite(c: { method: string; write: boolean }): boolean {
  return c.write && !c.method.startsWith('event.');
}

/** Tally `records` (only those at or after `since`, Date.now() ms, when given). */
export function tallyRequests(records: readonly ProxyRecord[], since = 0): RequestTally {
  const t: RequestTally = { httpRequests: 0, batch: 0, offlineGet: 0, offlineClear: 0, other: 0, oauth: 0, commands: {}, writeCommands: 0, readCommands: 0, largestQueuePage: 0, lastWriteAt: 0, failed: 0 };
  for (const r of records) {
    if (r.at < since || r.kind === 'push') continue;
    if (r.kind === 'oauth') {
      t.oauth++;
      continue;
    }
    t.httpRequests++;
    if (r.status === 0 || r.status >= 500) t.failed++;
    if (r.kind === 'batch') t.batch++;
    else if (r.kind === 'event.offline.get') t.offlineGet++;
    else if (r.kind === 'event.offline.clear') t.offlineClear++;
    else t.other++;
    if (r.events !== undefined) t.largestQueuePage = Math.max(t.largestQueuePage, r.events);
    let wrote = false;
    for (const c of r.commands) {
      t.commands[c.method] = (t.commands[c.method] ?? 0) + 1;
      if (isWorkWrite(c)) {
        t.writeCommands++;
        wrote = true;
      } else if (!c.write && c.method.startsWith('crm.')) {
        t.readCommands++;
      }
    }
    if (wrote) t.lastWriteAt = Math.max(t.lastWriteAt, r.answeredAt);
  }
  return t;
}

/**
 * The floor for the work: `ceil(write commands / 50) + ceil(records read / 2,500) + queue`,
 * with the write commands the run sent, the records the work needs read and the queue requests it made.
 */
export function requestFloor(writeCommands: number, recordsRead: number, queueRequests: number): number {
  return Math.ceil(writeCommands / 50) + Math.ceil(recordsRead / 2500) + queueRequests;
}

/** `method count` pairs, most first, as one line. */
export function formatCommands(commands: Record<string, number>): string {
  return Object.entries(commands)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([m, n]) => `${m} ${n.toLocaleString('en-US')}`)
    .join(', ');
}
