/**
 * `rollout:` (docs/rule-format.md): a rule acts only on the records inside
 * its rollout. The share (`percent`) is sticky: a record's place is a hash of
 * the rule id and the record (`deal:42`), one of 10,000 buckets, and the
 * record is in while its bucket is below percent × 100, so a record is in or
 * out for good and raising the percent keeps those already in. `where` is
 * json-logic over the run's facts, read as the condition is. Checked after
 * the condition, so a run skipped here is one the rule would have acted on.
 */
import { createHash } from 'node:crypto';
import type { Facts } from '../rules/index.js';
import type { Run } from './run.js';

/** Buckets of the share: percent in steps of 0.01. */
const BUCKETS = 10_000;

/** The record's bucket for a rule, 0 to 9,999: the first four bytes of sha256(`<rule id>|<record key>`). */
export function rolloutBucket(ruleId: string, recordKey: string): number {
  return createHash('sha256').update(`${ruleId}|${recordKey}`).digest().readUInt32BE(0) % BUCKETS;
}

/** Whether the record is inside a share of `percent` (0-100) of the rule's records. */
export function inShare(ruleId: string, recordKey: string, percent: number): boolean {
  return rolloutBucket(ruleId, recordKey) < Math.round(percent * (BUCKETS / 100));
}

/** `deal 42`, `item 5`, or the row's key for a foreach over a method. */
function recordName(run: Run): string {
  return run.record ? `${run.record.entity} ${run.record.id}` : run.recordKey;
}

/** Why the run is outside its rule's rollout (the skip reason), or undefined when it is inside (or the rule has none). */
export function outsideRollout(run: Run, facts: Facts): string | undefined {
  const r = run.rule.rollout;
  if (!r) return undefined;
  if (r.where) {
    const w = r.where.evaluate(facts);
    if (!w.value) return `rollout: ${recordName(run)} is outside the rollout (where: ${w.reason ?? 'false'})`;
  }
  if (r.percent !== undefined && !inShare(run.rule.id, run.recordKey, r.percent)) return `rollout: ${recordName(run)} is outside the ${r.percent} % share`;
  return undefined;
}
