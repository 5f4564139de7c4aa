/**
 * Contract between the work sources (engine/sources/: offline events, outgoing
 * webhooks, inbound form webhooks, schedules, manual runs), the state store
 * (engine/store/) and the pipeline (engine/pipeline/). Sources only turn the
 * outside world into inbox rows and acknowledge their own kind once the inbox
 * says the work is done (docs in /ARCHITECTURE notes of the README).
 */

export type SourceKind = 'offline' | 'outgoing' | 'form' | 'schedule' | 'manual' | 'timer';

/** A unit of work to be processed by the rules. */
export interface InboxItemInput {
  source: SourceKind;
  /**
   * Identity of the item within its source, so that a repeat is harmless:
   * offline: `${process_id}:${MESSAGE_ID}`; outgoing: hash of event+ts+data;
   * form: the submission id or a hash of the body; schedule: `${ruleId}@${tickIso}`;
   * manual: a generated id; timer: `for:${timerId}:${createdAt}` (a fired `for:` timer, engine/pipeline/timers.ts).
   */
  key: string;
  /** The Bitrix24 event name (ONCRMDEALUPDATE), or null for schedules, forms and manual runs. */
  event: string | null;
  /** For schedules, forms and manual runs: the rule this item is for. Null means: match all rules by event. */
  ruleId: string | null;
  /** The raw payload (event data, request body, schedule tick info, manual params). */
  payload: Record<string, unknown>;
  /** Offline source bookkeeping: the reservation this item came from. */
  processId?: string;
  messageId?: string;
  /** When the item was received (ms since epoch). */
  receivedAt: number;
}

export type InboxStatus = 'pending' | 'running' | 'done' | 'dead';

export interface InboxItem extends InboxItemInput {
  id: number;
  status: InboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/** The part of the state store that sources use. Every method is one SQLite transaction. */
export interface Inbox {
  /** Insert items durably; a repeated (source, key) is ignored. Returns the number newly inserted. */
  add(items: InboxItemInput[]): { inserted: number; duplicates: number };
  /** Items of a source that reached a final state (done or dead) and are not yet acknowledged to the source. */
  finished(source: SourceKind, processId?: string): InboxItem[];
  /** Record that the source acknowledged these items to the outside (e.g. event.offline.clear succeeded). */
  markAcknowledged(ids: number[]): void;
  /** Offline reservations the engine knows about and has not fully cleared. */
  openProcessIds(): string[];
  /** Number of items not yet done or dead. */
  depth(): number;
}
