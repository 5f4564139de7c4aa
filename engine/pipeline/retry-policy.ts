/**
 * The one retry policy of the pipeline: how long a failing run waits, and
 * when it gives up. Every decision reads error codes, never message text.
 */
import { PORTAL_LIMIT_CODES } from '../client/index.js';
import type { CompiledRule } from '../rules/index.js';
import type { EffectRecord } from '../store/index.js';

export interface Backoff {
  /** First retry delay (ms); multiplied by 4 per attempt. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** First retry delay of a workflow start the portal refused for its limit (WORKFLOW_LIMIT). @default 60000 */
  workflowLimitBackoffMs?: number;
}

/** A workflow refused for the two-at-once limit waits for a running one to end: minutes, not seconds. */
const WORKFLOW_LIMIT_BACKOFF_MS = 60_000;


/** Delay before attempt `attempt` (1-based). */
export function backoff(attempt: number, b: Backoff): number {
  return Math.min(b.backoffMaxMs, b.backoffBaseMs * 4 ** Math.max(0, attempt - 1));
}

/** The wait for a portal that is busy or unreachable: the rule's retries are not spent. */
export function busyWait(b: Backoff): number {
  return backoff(2, b);
}

export type Verdict =
  /** Try again at `at` without spending a retry (the portal's limits). */
  | { kind: 'wait'; at: number }
  /** Try again at `at`, as attempt `attempts`. */
  | { kind: 'retry'; attempts: number; at: number }
  /** Retries spent, or retrying cannot help: the rule's `on_error.then` decides. */
  | { kind: 'give-up'; attempts: number };

/** After some of a run's calls failed. A call in doubt is never retried: sending it again could do it twice. */
export function afterCallsFailed(attempts: number, rule: CompiledRule, failed: ReadonlyArray<Pick<EffectRecord, 'errorCode'>>, now: number, b: Backoff): Verdict {
  if (failed.every((e) => e.errorCode !== null && PORTAL_LIMIT_CODES.has(e.errorCode))) return { kind: 'wait', at: now + busyWait(b) };
  const next = attempts + 1;
  const inDoubt = failed.some((e) => e.errorCode === 'EFFECT_IN_DOUBT');
  const workflowLimit = failed.every((e) => e.errorCode === 'WORKFLOW_LIMIT');
  const curve = workflowLimit ? { backoffBaseMs: b.workflowLimitBackoffMs ?? WORKFLOW_LIMIT_BACKOFF_MS, backoffMaxMs: b.backoffMaxMs } : b;
  if (!inDoubt && next <= rule.onError.retries) return { kind: 'retry', attempts: next, at: now + backoff(next, curve) };
  return { kind: 'give-up', attempts: next };
}

/** After a run failed before its first action (a read failed, or the rule could not be evaluated). */
export function afterRunFailed(attempts: number, rule: CompiledRule, kind: 'user' | 'operational', now: number, b: Backoff): Exclude<Verdict, { kind: 'wait' }> {
  const next = attempts + 1;
  if (kind === 'operational' && next <= rule.onError.retries) return { kind: 'retry', attempts: next, at: now + backoff(next, b) };
  return { kind: 'give-up', attempts: next };
}
