/**
 * Acknowledging the offline queue: `event.offline.clear` of the message ids
 * the inbox says are done, `event.offline.error` of the dead ones, and only
 * then the inbox items marked acknowledged (an acknowledgement is done when
 * the portal's answer came back; a failure leaves the items for the next
 * pass, and events the portal hands out again are deduplicated by the inbox).
 *
 * Clears are cheap to share: `event.offline.clear` is idempotent, so the
 * clears of a pass either ride along in the next `batch` request anyone sends
 * (the next tick's reads or writes; `rideAlong`, while the daemon runs) or
 * go at once, all reservations' clears in one request (a plain call for one,
 * a batch for several). The pass that rides along does not wait for the
 * answers; the items stay out of later passes until their clear is answered.
 *
 * Dead reports are not: `event.offline.error` deletes the newer unreserved
 * records of the same objects, so sent twice it could delete a change that
 * arrived in between. They go alone, one call per reservation, as before.
 */
import type { B24ClientApi, BatchCommand, BatchItemResult } from '../client/index.js';
import type { InboxItem } from '../store/index.js';
import { countFinished, type SourceContext } from './types.js';

export interface OfflineAcker {
  /** One pass over the finished items not yet being acknowledged. `rideAlong`: queue the clears for the next batch and return. */
  run(rideAlong: boolean): Promise<void>;
  /** Send the clears still waiting to ride along and wait until every clear in flight is answered. */
  settle(): Promise<void>;
}

interface Reservation {
  processId: string;
  done: InboxItem[];
  dead: InboxItem[];
  /** Nothing to tell the portal (no message id): acknowledged as they are. */
  silent: InboxItem[];
}

export function createOfflineAcker(client: B24ClientApi, connector: string, ctx: SourceContext): OfflineAcker {
  /** Inbox ids whose clear is on its way. */
  const inFlight = new Set<number>();
  const pending = new Set<Promise<void>>();

  function acknowledged(items: InboxItem[]): void {
    if (items.length === 0) return;
    ctx.inbox.markAcknowledged(items.map((i) => i.id));
    countFinished(ctx, 'offline', items);
  }

  function cleared(r: Reservation, answer: BatchItemResult | undefined): void {
    if (answer?.ok) {
      acknowledged(r.done);
      ctx.metrics?.offlineAcks.inc({ method: 'clear' }, r.done.length);
      return;
    }
    // Not marked: the next acknowledgement (or the next start) clears them.
    ctx.logger.warn({ processId: r.processId, error: answer?.error }, 'offline: the portal refused to clear done events; will retry');
  }

  function clearFailed(r: Reservation, err: unknown): void {
    ctx.logger.warn({ err, processId: r.processId }, 'offline: clearing done events failed; will retry');
  }

  function clearCommand(r: Reservation): BatchCommand {
    return { method: 'event.offline.clear', params: { process_id: r.processId, message_id: r.done.map((i) => i.messageId), auth_connector: connector } };
  }

  /** Finished items by reservation, leaving out those whose clear is on its way. */
  function due(): Reservation[] {
    const byPid = new Map<string, Reservation>();
    for (const item of ctx.inbox.finished('offline')) {
      if (inFlight.has(item.id) || item.processId === undefined || item.processId === null) continue;
      let r = byPid.get(item.processId);
      if (!r) byPid.set(item.processId, (r = { processId: item.processId, done: [], dead: [], silent: [] }));
      if (item.messageId === undefined) r.silent.push(item);
      else if (item.status === 'dead') r.dead.push(item);
      else r.done.push(item);
    }
    return [...byPid.values()];
  }

  async function reportDead(r: Reservation): Promise<void> {
    const ids = r.dead.map((i) => i.messageId);
    try {
      await client.call('event.offline.error', { process_id: r.processId, message_id: ids, auth_connector: connector });
    } catch (err) {
      ctx.logger.warn({ err, processId: r.processId }, 'offline: reporting dead-lettered events failed; will retry');
      return;
    }
    acknowledged(r.dead);
    ctx.metrics?.offlineAcks.inc({ method: 'error' }, r.dead.length);
    ctx.logger.warn({ processId: r.processId, messageIds: ids }, `offline: ${r.dead.length} event(s) dead-lettered; reported with event.offline.error`);
  }

  function rideAlong(clears: Reservation[], ride: NonNullable<B24ClientApi['rideAlong']>): void {
    for (const r of clears) {
      for (const i of r.done) inFlight.add(i.id);
      const p: Promise<void> = ride(clearCommand(r))
        .then(
          (answer) => cleared(r, answer),
          (err: unknown) => clearFailed(r, err),
        )
        // Nobody awaits a ride (settle() may never come): recording the answer can fail (the state closed while the
        // worker or daemon stopped), and must not become an unhandled rejection that ends the process. The items stay
        // unacknowledged; the next pass or start clears them again (event.offline.clear is idempotent).
        .catch((err: unknown) => ctx.logger.warn({ err, processId: r.processId }, 'offline: a clear was answered but could not be recorded; the next start clears those events again'))
        .finally(() => {
          for (const i of r.done) inFlight.delete(i.id);
          pending.delete(p);
        });
      pending.add(p);
    }
  }

  /** Every clear of the pass now: one plain call for one reservation, batch requests (50 commands each) for several. */
  async function clearNow(clears: Reservation[]): Promise<void> {
    const [only] = clears;
    if (clears.length === 1 && only) {
      try {
        await client.call('event.offline.clear', clearCommand(only).params);
      } catch (err) {
        clearFailed(only, err);
        return;
      }
      cleared(only, { key: 'clear', ok: true });
      return;
    }
    const commands: Record<string, BatchCommand> = {};
    clears.forEach((r, n) => (commands[`clear${n}`] = clearCommand(r)));
    let answers: Record<string, BatchItemResult>;
    try {
      answers = await client.batch(commands);
    } catch (err) {
      for (const r of clears) clearFailed(r, err);
      return;
    }
    clears.forEach((r, n) => cleared(r, answers[`clear${n}`]));
  }

  return {
    async run(ride) {
      const reservations = due();
      for (const r of reservations) acknowledged(r.silent);
      for (const r of reservations) if (r.dead.length > 0) await reportDead(r);
      const clears = reservations.filter((r) => r.done.length > 0);
      if (clears.length === 0) return;
      if (ride && client.rideAlong) rideAlong(clears, client.rideAlong.bind(client));
      else await clearNow(clears);
    },
    async settle() {
      if (pending.size === 0) return;
      await client.flushRideAlong?.();
      await Promise.all([...pending]);
    },
  };
}
