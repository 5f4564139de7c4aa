/** The rule hash recorded with each run. */
import { canonicalSha256 } from '../canonical-json.js';

/** sha256 (hex) of the canonical JSON (engine/canonical-json.ts) of a rule document. */
export function ruleHash(value: unknown): string {
  return canonicalSha256(value);
}
