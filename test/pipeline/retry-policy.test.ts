/**
 * The pipeline's retry policy, decision by decision: the backoff curve and
 * its cap, a wait (no retry spent) only when every failure is the portal's
 * load refusal, no retry once a call is in doubt, and the retry budget from
 * both sides, for failed calls and for runs that failed before acting.
 * Found by mutation testing (Stryker) of engine/pipeline/retry-policy.ts: the
 * engine-level tests left the backoff arithmetic, the wait's every-or-some,
 * the in-doubt some-or-every and all of afterRunFailed unchecked.
 */
import { describe, expect, it } from 'vitest';
import { afterCallsFailed, afterRunFailed, backoff, busyWait } from '../../engine/pipeline/retry-policy.js';
import { loadRuleSource, type CompiledRule } from '../../engine/rules/index.js';
import type { EffectRecord } from '../../engine/store/index.js';

const B = { backoffBaseMs: 1_000, backoffMaxMs: 60_000 };
const NOW = 1_800_000_000_000;

function ruleWithRetries(retries: number): CompiledRule {
  const r = loadRuleSource(`id: r\ntrigger: { manual: {} }\non_error: { retries: ${retries} }\nactions: [ { stop: {} } ]\n`, 'r.yaml');
  expect(r.diagnostics).toEqual([]);
  return r.rules[0]!;
}

function failed(errorCode: string | null, id = 1): EffectRecord {
  return {
    id, effectKey: `r:k:${id}`, runId: 1, seq: id, actionIndex: 0, kind: 'update', method: 'crm.deal.update', params: {}, asName: null, recovery: 'resend', meta: null,
    state: 'failed', final: false, result: null, error: errorCode, errorCode, attempts: 1, createdAt: NOW, sentAt: NOW, doneAt: null,
  };
}

describe('backoff', () => {
  it('starts at the base, multiplies by 4 per attempt, and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoff(a, B))).toEqual([1_000, 1_000, 4_000, 16_000, 60_000, 60_000]);
    expect(busyWait(B)).toBe(4_000);
  });
});

describe('afterCallsFailed', () => {
  const rule = ruleWithRetries(2);

  it('waits without spending a retry when every failure is a load refusal', () => {
    const refusals = [failed('QUERY_LIMIT_EXCEEDED', 1), failed('OPERATION_TIME_LIMIT', 2), failed('OVERLOAD_LIMIT', 3)];
    expect(afterCallsFailed(0, rule, refusals, NOW, B)).toEqual({ kind: 'wait', at: NOW + 4_000 });
    expect(afterCallsFailed(2, rule, refusals, NOW, B)).toEqual({ kind: 'wait', at: NOW + 4_000 });
  });

  it('spends a retry when one failure is something else, and backs off by the attempt', () => {
    const mixed = [failed('QUERY_LIMIT_EXCEEDED', 1), failed('ACCESS_DENIED', 2)];
    expect(afterCallsFailed(0, rule, mixed, NOW, B)).toEqual({ kind: 'retry', attempts: 1, at: NOW + 1_000 });
    expect(afterCallsFailed(1, rule, [failed(null)], NOW, B)).toEqual({ kind: 'retry', attempts: 2, at: NOW + 4_000 });
  });

  it('gives up once the retries are spent', () => {
    expect(afterCallsFailed(2, rule, [failed('INTERNAL_SERVER_ERROR')], NOW, B)).toEqual({ kind: 'give-up', attempts: 3 });
    expect(afterCallsFailed(0, ruleWithRetries(0), [failed('INTERNAL_SERVER_ERROR')], NOW, B)).toEqual({ kind: 'give-up', attempts: 1 });
  });

  it('never retries when one of the calls is in doubt, even with retries left', () => {
    expect(afterCallsFailed(0, rule, [failed('ACCESS_DENIED', 1), failed('EFFECT_IN_DOUBT', 2)], NOW, B)).toEqual({ kind: 'give-up', attempts: 1 });
    expect(afterCallsFailed(0, rule, [failed('EFFECT_IN_DOUBT')], NOW, B)).toEqual({ kind: 'give-up', attempts: 1 });
  });
});

describe('afterRunFailed', () => {
  const rule = ruleWithRetries(2);

  it('retries an operational failure (a read that failed) up to the budget, with backoff', () => {
    expect(afterRunFailed(0, rule, 'operational', NOW, B)).toEqual({ kind: 'retry', attempts: 1, at: NOW + 1_000 });
    expect(afterRunFailed(1, rule, 'operational', NOW, B)).toEqual({ kind: 'retry', attempts: 2, at: NOW + 4_000 });
    expect(afterRunFailed(2, rule, 'operational', NOW, B)).toEqual({ kind: 'give-up', attempts: 3 });
  });

  it("gives up at once when the rule could not be evaluated (the user's failure): retrying cannot help", () => {
    expect(afterRunFailed(0, rule, 'user', NOW, B)).toEqual({ kind: 'give-up', attempts: 1 });
  });
});
