/** The lost-answer invariant: the batch a lost `event.offline.get` answer reserved was found, processed and cleared within the limit. */
import { invariant, type Invariant } from './invariant.js';
import type { LostAnswerResult } from './lost-answer.js';

/** Check what the drill saw (null: the step never ran; the workload invariant says why). */
export function checkLostAnswer(r: LostAnswerResult | null): Invariant {
  if (r === null) return invariant('lost-answer', 'no event.offline.get answer was lost (the step did not run)');
  const limit = `${Math.round(r.limitMs / 1000)} s`;
  if (!r.happened) return invariant('lost-answer', `no reserving event.offline.get came to lose after new leads (${r.attempts} attempts)`, r.misses);
  const problems = r.recoveredMs === null ? [`the batch whose answer was lost (${r.left.join(', ')}) still in the queue after ${limit}`] : [];
  const after = r.recoveredMs === null ? `still hidden after ${limit}` : `cleared ${(r.recoveredMs / 1000).toFixed(1)} s later`;
  return invariant('lost-answer', `the answer to the event.offline.get that reserved ${r.leadIds.length > 0 ? 'new leads' : 'a batch'} was lost (attempt ${r.attempts}): its batch ${after} (limit ${limit})`, problems);
}
