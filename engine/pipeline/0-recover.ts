/**
 * Before the stages, recover: in-doubt effects. a `sent` effect at the start of a tick was handed to the
 * portal (or to an http receiver) without its answer being recorded, because
 * the process died or the request failed after leaving. Per effect:
 * - resend: idempotent (updates to fixed values, reads, http with Idempotency-Key): back to pending;
 * - lookup: creates: search for what the first attempt made (ORIGIN_ID, or the
 *   comment/task/to-do/workflow on its record since the first send); found → done
 *   with that result, not found → pending;
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
  lookupMarginMs: number;
  onDone(effect: EffectRecord, result: unknown): void;
}

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

/** Resolve every `sent` effect; returns how many were resolved. */
export async function recoverInDoubt(deps: RecoveryDeps): Promise<number> {
  const { store, logger } = deps;
  const sent = store.effects.inState('sent');
  if (sent.length === 0) return 0;
  let resolved = 0;
  const lookups: EffectRecord[] = [];
  store.transaction(() => {
    for (const e of sent) {
      switch (e.recovery) {
        case 'resend':
          store.effects.markPending(e.id);
          resolved++;
          break;
        case 'at-most-once':
          logger.warn({ effect: e.effectKey, method: e.method }, 'in-doubt call not sent again (at most once)');
          store.effects.markDone(e.id, null);
          deps.onDone(e, null);
          resolved++;
          break;
        case 'lookup':
          if (e.meta && e.meta.lookup) lookups.push(e);
          else {
            store.effects.markFailed(e.id, inDoubt('sent without an answer and no way to look it up'));
            resolved++;
          }
          break;
        default:
          logger.warn({ effect: e.effectKey, method: e.method }, 'in-doubt call cannot be checked; failed for good');
          store.effects.markFailed(e.id, inDoubt(`${e.method} was sent but its answer was lost; it cannot be checked, so it is not sent again`));
          resolved++;
      }
    }
  });
  if (lookups.length === 0) return resolved;
  const cmds: Record<string, BatchCommand> = {};
  for (const e of lookups) {
    const spec = e.meta!.lookup as LookupSpec;
    cmds[`l${e.id}`] = { method: spec.method, params: spec.params };
  }
  let res: Awaited<ReturnType<B24ClientApi['batch']>>;
  try {
    res = await deps.client.batch(cmds, { halt: false });
  } catch (err) {
    logger.warn({ err, effects: lookups.length }, 'lookup of in-doubt creates failed; will try again next tick');
    return resolved;
  }
  store.transaction(() => {
    for (const e of lookups) {
      const spec = e.meta!.lookup as LookupSpec;
      const item = res[`l${e.id}`];
      if (!item?.ok) {
        store.effects.markFailed(e.id, inDoubt(`lookup ${spec.method} failed (${item?.error?.error_description ?? 'no answer'}); not sent again`));
        resolved++;
        continue;
      }
      const rows = spec.rows.length ? dig(item.result, spec.rows) : item.result;
      const row = findCreated(Array.isArray(rows) ? rows : [], spec, e.sentAt ?? 0, deps.lookupMarginMs);
      if (row) {
        const result = resultOf(row, spec.result);
        store.effects.markDone(e.id, result);
        deps.onDone(e, result);
        logger.info({ effect: e.effectKey, method: e.method }, 'in-doubt create found on the portal; not sent again');
      } else {
        store.effects.markPending(e.id);
      }
      resolved++;
    }
  });
  return resolved;
}
