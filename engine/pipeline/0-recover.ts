/**
 * Before the stages, recover: in-doubt effects. a `sent` effect at the start of a tick was handed to the
 * portal (or to an http receiver) without its answer being recorded, because
 * the process died or the request failed after leaving. Per effect:
 * - resend: idempotent (updates to fixed values, reads, http with Idempotency-Key): back to pending;
 * - lookup: creates: search for what the first attempt made (ORIGIN_ID, or the
 *   comment/task/to-do/workflow on its record since the first send); found → done
 *   with that result at once; not found → still `sent`, looked up again, and back
 *   to pending only by a lookup made once the first send cannot land any more
 *   (`sentAt + inDoubtSettleMs`): a request the portal already received runs to
 *   its end even when its sender died, so an early "not found" proves nothing;
 * - sent through REST 3.0 with an Idempotency-Key (meta `v3`, execute-v3.ts): back
 *   to pending once `sentAt + inDoubtSettleMs` has passed, whatever its mode: the
 *   portal answers the same key from the first send, so nothing is looked up;
 *   unless the portal answered it 5xx (`v3.serverError`): it keeps no failure
 *   under the key, and the work may have been done, so a create is looked up
 *   as above (and sent again with its key if not found after the settle), and
 *   a call with no look-up is failed as `none` (at-most-once: done);
 * - at-most-once (notifications): not sent again, marked done with a note;
 * - none (other writes): cannot be checked; failed with `EFFECT_IN_DOUBT` (never retried), the run follows on_error.
 * See docs/engine.md for the per-method table.
 */
import { sameValue, type LookupSpec } from '../actions/index.js';
import type { B24ClientApi, BatchCommand } from '../client/index.js';
import type { Logger } from '../logger.js';
import type { EffectFailure, EffectRecord, StateStore } from '../store/index.js';

export interface RecoveryDeps {
  store: StateStore;
  client: B24ClientApi;
  logger: Logger;
  /** The engine's clock (ms since epoch), the one `sentAt` was written with. */
  now: () => number;
  lookupMarginMs: number;
  /** How long after its send a create may still land on the portal (ms): not found before that, it is not sent again. */
  inDoubtSettleMs: number;
  /** When each create waiting to settle was last looked up (effect id → ms); kept by the engine across ticks. */
  lookedUp: Map<number, number>;
  onDone(effect: EffectRecord, result: unknown): void;
}

/** What one recovery pass did. */
export interface Recovery {
  /** Effects resolved: pending again, done, or failed. */
  resolved: number;
  /** Creates not found yet whose first send may still land: still `sent`, their runs wait. */
  waiting: number;
  /** The earliest instant (ms) one of them may be sent again; null when none waits. */
  settleAt: number | null;
}

/** A REST 3.0 send the portal answered 5xx (execute-v3.ts): its key does not cover it. */
function serverError(e: EffectRecord): boolean {
  const v3 = e.meta?.v3 as { serverError?: boolean } | undefined;
  return v3?.serverError === true;
}

/** A create waiting to settle is looked up again at most this often (ms), and once more when its settle is over. */
export const LOOK_AGAIN_MS = 5_000;

function dig(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

function resultOf(row: Record<string, unknown>, how: LookupSpec['result']): unknown {
  const id = row.ID ?? row.id;
  switch (how) {
    case 'id-number':
      return Number(id);
    case 'id-string':
      return String(id);
    case 'id-object':
      return { id: Number(id) };
    case 'task':
      return { task: row };
    case 'item':
      return { item: row };
    case 'row':
      return row;
  }
}

/** The ledger failure of a call whose outcome is unknown and stays so. */
function inDoubt(why: string): EffectFailure {
  return { code: 'EFFECT_IN_DOUBT', message: `EFFECT_IN_DOUBT: ${why}` };
}

/** Find the row a lookup describes among the rows the portal returned. */
export function findCreated(rows: unknown[], spec: LookupSpec, sentAt: number, marginMs: number): Record<string, unknown> | undefined {
  for (const r of rows) {
    if (!r || typeof r !== 'object') continue;
    const row = r as Record<string, unknown>;
    if (spec.match && !Object.entries(spec.match).every(([k, v]) => sameValue(row[k], v))) continue;
    if (spec.createdField) {
      const t = Date.parse(String(row[spec.createdField] ?? ''));
      if (Number.isFinite(t) && t < sentAt - marginMs) continue;
    }
    return row;
  }
  return undefined;
}

/** Whether a waiting create is looked up this pass: never looked up by this engine, due again, or its settle just ended. */
function lookupDue(e: EffectRecord, deps: RecoveryDeps, now: number): boolean {
  const last = deps.lookedUp.get(e.id);
  if (last === undefined) return true;
  const settleAt = (e.sentAt ?? 0) + deps.inDoubtSettleMs;
  return now >= last + LOOK_AGAIN_MS || (last < settleAt && now >= settleAt);
}

/** Resolve the `sent` effects that can be resolved now. */
export async function recoverInDoubt(deps: RecoveryDeps): Promise<Recovery> {
  const { store, logger } = deps;
  const out: Recovery = { resolved: 0, waiting: 0, settleAt: null };
  const sent = store.effects.inState('sent');
  // Forget what was resolved meanwhile (here, by a DLQ drop, ...).
  const ids = new Set(sent.map((e) => e.id));
  for (const id of deps.lookedUp.keys()) if (!ids.has(id)) deps.lookedUp.delete(id);
  if (sent.length === 0) return out;
  const now = deps.now();
  const wait = (e: EffectRecord): void => {
    const at = (e.sentAt ?? 0) + deps.inDoubtSettleMs;
    out.waiting++;
    // Past its settle only when its lookup failed: the next tick tries again; no wake-up in the past (the daemon would spin).
    if (at > now) out.settleAt = out.settleAt === null ? at : Math.min(out.settleAt, at);
  };
  const lookups: EffectRecord[] = [];
  store.transaction(() => {
    for (const e of sent) {
      if (e.meta?.v3 && serverError(e) && !(e.recovery === 'lookup' && e.meta.lookup)) {
        // Answered 5xx, and nothing to look it up by (a REST 3.0-only call:): the key keeps no failure, so a resend
        // could do it twice. Not sent again, as a call that cannot be checked; an at-most-once call counts as done.
        if (e.recovery === 'at-most-once') {
          store.effects.markDone(e.id, null);
          deps.onDone(e, null);
        } else store.effects.markFailed(e.id, inDoubt(`${e.method} was answered 5xx through REST 3.0, which keeps no failure under its Idempotency-Key; it may have run, so it is not sent again`));
        out.resolved++;
        continue;
      }
      if (e.meta?.v3 && !serverError(e)) {
        // Sent through REST 3.0 with its Idempotency-Key (execute-v3.ts): sent again with the same key once the
        // first send cannot be running any more (two overlapping sends with one key may both run), no look-up.
        if (now >= (e.sentAt ?? 0) + deps.inDoubtSettleMs) {
          store.effects.markPending(e.id);
          out.resolved++;
        } else wait(e);
        continue;
      }
      switch (e.recovery) {
        case 'resend':
          store.effects.markPending(e.id);
          out.resolved++;
          break;
        case 'at-most-once':
          logger.warn({ effect: e.effectKey, method: e.method }, 'in-doubt call not sent again (at most once)');
          store.effects.markDone(e.id, null);
          deps.onDone(e, null);
          out.resolved++;
          break;
        case 'lookup':
          if (!e.meta || !e.meta.lookup) {
            store.effects.markFailed(e.id, inDoubt('sent without an answer and no way to look it up'));
            out.resolved++;
          } else if (lookupDue(e, deps, now)) lookups.push(e);
          else wait(e);
          break;
        default:
          logger.warn({ effect: e.effectKey, method: e.method }, 'in-doubt call cannot be checked; failed for good');
          store.effects.markFailed(e.id, inDoubt(`${e.method} was sent but its answer was lost; it cannot be checked, so it is not sent again`));
          out.resolved++;
      }
    }
  });
  if (lookups.length === 0) return out;
  const cmds: Record<string, BatchCommand> = {};
  for (const e of lookups) {
    const spec = e.meta!.lookup as LookupSpec;
    cmds[`l${e.id}`] = { method: spec.method, params: spec.params };
  }
  // Taken before the lookup leaves: a "not found" counts as final only when the whole lookup came after the settle.
  const lookedAt = deps.now();
  let res: Awaited<ReturnType<B24ClientApi['batch']>>;
  try {
    res = await deps.client.batch(cmds, { halt: false });
  } catch (err) {
    logger.warn({ err, effects: lookups.length }, 'lookup of in-doubt creates failed; will try again next tick');
    for (const e of lookups) wait(e);
    return out;
  }
  store.transaction(() => {
    for (const e of lookups) {
      const spec = e.meta!.lookup as LookupSpec;
      const item = res[`l${e.id}`];
      if (!item?.ok) {
        store.effects.markFailed(e.id, inDoubt(`lookup ${spec.method} failed (${item?.error?.error_description ?? 'no answer'}); not sent again`));
        deps.lookedUp.delete(e.id);
        out.resolved++;
        continue;
      }
      const rows = spec.rows.length ? dig(item.result, spec.rows) : item.result;
      const row = findCreated(Array.isArray(rows) ? rows : [], spec, e.sentAt ?? 0, deps.lookupMarginMs);
      if (row) {
        const result = resultOf(row, spec.result);
        store.effects.markDone(e.id, result);
        deps.onDone(e, result);
        logger.info({ effect: e.effectKey, method: e.method }, 'in-doubt create found on the portal; not sent again');
      } else if (lookedAt >= (e.sentAt ?? 0) + deps.inDoubtSettleMs) {
        store.effects.markPending(e.id);
        logger.info({ effect: e.effectKey, method: e.method }, 'in-doubt create not on the portal after its settle; sent again');
      } else {
        // The first send may still be running at the portal (its sender died, the request did not): not yet.
        deps.lookedUp.set(e.id, lookedAt);
        wait(e);
        continue;
      }
      deps.lookedUp.delete(e.id);
      out.resolved++;
    }
  });
  return out;
}
