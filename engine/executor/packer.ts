/**
 * Batch packing: the pending calls of every run of the tick, in each run's
 * order, into `batch` requests of at most 50 commands, sent one after the
 * other. The planner only puts calls whose inputs are known into one stage (a
 * call that needs an earlier call's result is planned once that result is
 * back), so no command depends on another one of its batch and `halt=0` is
 * safe: one failing command never stops the others.
 */

export const MAX_BATCH = 50;

/** Split calls (already in run order) into consecutive batches of at most `max`. */
export function packBatches<T>(calls: readonly T[], max = MAX_BATCH): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < calls.length; i += max) batches.push(calls.slice(i, i + max));
  return batches;
}
