/** Plan fingerprints over canonical JSON (engine/canonical-json.ts), and the order of record IDs in plans. */
import { canonicalSha256 } from '../canonical-json.js';

/** `sha256:` + hex digest of the canonical JSON of `value`. */
export function hashValue(value: unknown): string {
  return `sha256:${canonicalSha256(value)}`;
}

/** Compare IDs as numbers when both are numeric ("9" < "10"), else as strings. */
export function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
