/** Loose value comparison between what a rule wants and what the portal returned (the portal answers numbers as strings, Y/N for booleans). */
import { canonicalJson } from '../canonical-json.js';

function norm(v: unknown): unknown {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'Y' : 'N';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(norm);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) out[k] = norm(x);
    return out;
  }
  return String(v);
}

/** Whether the portal's value already equals the wanted one ("5" equals 5, true equals "Y", null equals ""). */
export function sameValue(current: unknown, wanted: unknown): boolean {
  const a = norm(current);
  const b = norm(wanted);
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return true;
    const na = Number(a);
    const nb = Number(b);
    return a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb) && na === nb;
  }
  return canonicalJson(a) === canonicalJson(b);
}
