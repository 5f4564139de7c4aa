/**
 * The form-posts invariant: every form post was stored (a 200) in the end,
 * and the only refusals on the way were the ones a restart explains: no
 * connection, or 503 while a daemon stops.
 */
import { invariant, type Invariant } from './invariant.js';

/** Check the poster's results. */
export function checkForms(results: ReadonlyArray<{ n: number; accepted: boolean; attempts: number; refusals: Record<number, number> }>, planned: number): Invariant {
  const problems: string[] = [];
  let retries = 0;
  for (const r of results) {
    retries += Math.max(0, r.attempts - 1);
    if (!r.accepted) problems.push(`form post ${r.n}: never stored (${r.attempts} attempts)`);
    for (const [status, n] of Object.entries(r.refusals)) {
      if (status !== '0' && status !== '503') problems.push(`form post ${r.n}: answered ${status} (${n} times)`);
    }
  }
  if (results.length < planned) problems.push(`${planned - results.length} form posts never sent (the workload ended first)`);
  return invariant('form-posts', `${results.filter((r) => r.accepted).length} of ${planned} form posts stored (${retries} re-posts during restarts)`, problems);
}
