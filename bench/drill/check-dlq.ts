/**
 * The DLQ invariant: every dead letter is explained. It names its rule and
 * its run, that run ended dead, and its error is a message a person can act
 * on (not empty, not `undefined`, not `[object Object]`). The drill feeds the
 * rules only good work, so the count is expected to be 0; a dead letter of a
 * lead or a form shows in the lost invariant too.
 */
import { invariant, type Invariant } from './invariant.js';

/** A DLQ entry as `rules dlq list --json` prints it. */
export interface DlqFacts {
  id: number;
  runId: number | null;
  ruleId: string | null;
  error: string;
}

const MEANINGLESS = /^\s*$|\bundefined\b|\[object Object\]|^null$/;

/** Check the dead letters against the runs (`rules runs --json`). */
export function checkDlq(entries: readonly DlqFacts[], runs: ReadonlyArray<{ id: number; status: string }>): Invariant & { deadLetters: number } {
  const problems: string[] = [];
  const status = new Map(runs.map((r) => [r.id, r.status]));
  for (const e of entries) {
    const why: string[] = [];
    if (!e.ruleId) why.push('names no rule');
    if (e.runId === null) why.push('names no run');
    else if (status.get(e.runId) !== 'dead') why.push(`its run ${e.runId} is ${status.get(e.runId) ?? 'missing'}, not dead`);
    if (typeof e.error !== 'string' || MEANINGLESS.test(e.error)) why.push(`its error says nothing: '${String(e.error).slice(0, 200)}'`);
    if (why.length > 0) problems.push(`dead letter ${e.id} (rule ${e.ruleId ?? '?'}): ${why.join('; ')}`);
  }
  const byRule = new Map<string, number>();
  for (const e of entries) byRule.set(e.ruleId ?? '?', (byRule.get(e.ruleId ?? '?') ?? 0) + 1);
  const list = [...byRule].map(([r, n]) => `${r} ${n}`).join(', ');
  return { ...invariant('dlq', `${entries.length} dead letters${list ? ` (${list})` : ''}, ${entries.length - problems.length} explained`, problems), deadLetters: entries.length };
}
