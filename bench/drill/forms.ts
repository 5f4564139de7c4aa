/**
 * The form posts: each plan form is posted to the running daemon's form hook
 * once the backlog's progress reaches its moment, and posted again, as a form
 * tool would, until a 200 says it is stored: a daemon being killed or
 * restarted refuses the connection or answers 503, and one killed after
 * storing but before answering gets the same body again (the receiver's
 * idempotency key must make that one lead).
 */
import type { FormSpec } from './plan.js';
import { FORM_PATH } from './rules.js';

export interface FormPostResult {
  n: number;
  accepted: boolean;
  attempts: number;
  /** Answers other than 200, by status (0: no connection). */
  refusals: Record<number, number>;
  /** The answers' bodies (scanned for secrets). */
  bodies: string[];
}

/** Post every form in order, each when `reached(at)` says its moment came; stops early when `stopped()`. */
export async function postForms(
  forms: readonly FormSpec[],
  options: { secret: string; daemonUrl: () => string | null; reached: (at: number) => boolean; stopped: () => boolean },
): Promise<FormPostResult[]> {
  const results: FormPostResult[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (const f of forms) {
    while (!options.reached(f.at) && !options.stopped()) await sleep(100);
    const result: FormPostResult = { n: f.n, accepted: false, attempts: 0, refusals: {}, bodies: [] };
    results.push(result);
    while (!result.accepted && !options.stopped()) {
      const url = options.daemonUrl();
      if (url === null) {
        await sleep(100);
        continue;
      }
      result.attempts++;
      let status = 0;
      try {
        const res = await fetch(`${url}${FORM_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rules-secret': options.secret }, body: JSON.stringify(f.body), signal: AbortSignal.timeout(15_000) });
        status = res.status;
        const text = await res.text();
        if (result.bodies.length < 5) result.bodies.push(text);
      } catch {
        status = 0;
      }
      if (status === 200) result.accepted = true;
      else {
        result.refusals[status] = (result.refusals[status] ?? 0) + 1;
        await sleep(250);
      }
    }
  }
  return results;
}
