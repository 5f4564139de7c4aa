/**
 * The lost answer (outside drill item 1): the answer to one reserving
 * `event.offline.get` is lost after the portal reserved its batch, so the
 * daemon's retry reserves the next batch and nobody knows the first.
 *
 * The step comes when the work is done and the queue empty: every
 * reservation a killed daemon left has been recovered and cleared by then, so
 * the daemon's gets are reserving polls, not re-reads. The drill makes fresh
 * work for the get: with every other fault paused
 * (and a second of calm, so no earlier failure's check is pending) it adds a
 * few leads while every `event.offline.get` is refused unrun, then loses the
 * answer to the next one, which reserves their events. If that get was a
 * re-read of a known reservation, the drill tries again with new leads (at
 * most three times). Then it does nothing else to the daemon (a restart would
 * find the batch anyway and hide the defect) and measures how long until the
 * lost batch is cleared: found again, processed and acknowledged.
 */
import type { CallRecord } from '../../emulator/index.js';
import type { FaultSchedule } from './portal.js';

/** What the drill saw of the lost answer. */
export interface LostAnswerResult {
  /** A reserving get lost its answer after the new leads existed. */
  happened: boolean;
  /** The leads added (their effects are expected like the backlog's). */
  leadIds: string[];
  /** Attempts made (each adds leads), and why each one that did not count did not. */
  attempts: number;
  misses: string[];
  /** Reservations holding the new leads' events right after the lost answer: the lost batch. */
  lost: string[];
  /** From the lost answer until no such reservation was left; null: one was still there at the limit. */
  recoveredMs: number | null;
  /** Reservations still there at the limit. */
  left: string[];
  limitMs: number;
}

/** The longest the batch of a lost answer may stay hidden, processing included (docs/operations.md promises the next poll that reaches the portal: at most 30 s of backoff). */
export const LOST_ANSWER_LIMIT_MS = 60_000;
const ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One queue record as the drill reads it. */
interface QueueRecord {
  processId: string;
  eventData: unknown;
}

function recordId(r: QueueRecord): string {
  return String((r.eventData as { FIELDS?: { ID?: unknown } } | null)?.FIELDS?.ID ?? '');
}

/** Lose the answer to the `event.offline.get` that reserves new leads, and wait (at most `limitMs`) for that batch to be cleared. */
export async function loseOfflineAnswer(options: {
  faults: FaultSchedule;
  queue: () => readonly QueueRecord[];
  /** Add leads (attempt 0, 1, 2) and return their IDs and the sequence number of the call that made them. */
  addLeads: (attempt: number) => Promise<{ ids: string[]; seq: number }>;
  limitMs?: number;
}): Promise<LostAnswerResult> {
  const limitMs = options.limitMs ?? LOST_ANSWER_LIMIT_MS;
  const result: LostAnswerResult = { happened: false, leadIds: [], attempts: 0, misses: [], lost: [], recoveredMs: null, left: [], limitMs };
  let dropped: CallRecord | null = null;
  let made = { ids: [] as string[], seq: 0 };
  while (!result.happened && result.attempts < ATTEMPTS) {
    options.faults.pause();
    try {
      await sleep(1000);
      dropped = await options.faults.loseOneAnswer('event.offline.get', 60_000, async () => {
        made = await options.addLeads(result.attempts);
      });
    } finally {
      options.faults.resume();
    }
    result.attempts++;
    result.leadIds.push(...made.ids);
    // Lost after the leads existed, and a reserving get (one with a process_id re-reads a reservation the daemon knows).
    const miss =
      dropped === null
        ? 'no event.offline.get within 60 s'
        : dropped.seq <= made.seq
          ? `the get lost (call ${dropped.seq}) came before the leads (call ${made.seq})`
          : dropped.params.process_id !== undefined && dropped.params.process_id !== ''
            ? `the get lost re-read a reservation (${JSON.stringify(dropped.params).slice(0, 200)})`
            : null;
    if (miss) result.misses.push(`attempt ${result.attempts}: ${miss}`);
    else result.happened = true;
  }
  if (!result.happened) return result;
  const at = Date.now();
  const mine = new Set(made.ids);
  result.lost = [...new Set(options.queue().filter((r) => mine.has(recordId(r)) && r.processId !== '').map((r) => r.processId))];
  for (;;) {
    const still = new Set(options.queue().map((r) => r.processId));
    const left = result.lost.filter((p) => still.has(p));
    if (left.length === 0) {
      result.recoveredMs = Date.now() - at;
      return result;
    }
    if (Date.now() - at > limitMs) {
      result.left = left;
      return result;
    }
    await sleep(100);
  }
}
