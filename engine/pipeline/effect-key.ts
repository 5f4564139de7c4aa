/**
 * Stable effect keys. The identity of a run is the rule's dedupe key when it
 * has one, else (rule id, trigger identity, record); an effect adds the action
 * index and the call's position within the action. The key is hashed to keep
 * ORIGIN_ID short and free of characters a portal filter might treat specially.
 */
import { createHash } from 'node:crypto';

export function runIdentity(ruleId: string, triggerKey: string, recordKey: string, dedupeKey: string | null): string {
  return dedupeKey ? `${ruleId}|dedupe|${dedupeKey}` : `${ruleId}|${triggerKey}|${recordKey}`;
}

/** `<rule id>:<24 hex of sha256(identity)>:<action index>.<call index>` */
export function effectKey(ruleId: string, identity: string, actionIndex: number, callIndex: number): string {
  const h = createHash('sha256').update(identity).digest('hex').slice(0, 24);
  return `${ruleId}:${h}:${actionIndex}.${callIndex}`;
}
