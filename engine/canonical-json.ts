/**
 * Canonical JSON, the one implementation: object keys sorted at every level
 * (by UTF-16 code units, as `Array#sort` orders strings), no whitespace, so
 * equal values always give the same text and the same hash. Rule hashes,
 * inbound-webhook idempotency keys, plan fingerprints and the values plans
 * and rule-test diffs print all go through it.
 */
import { createHash } from 'node:crypto';

/**
 * JSON text with object keys sorted at every level. Otherwise as
 * JSON.stringify: `toJSON` is honoured (a Date is its ISO string), object
 * members that are undefined, functions or symbols are left out and in arrays
 * they become `null`. A value with no JSON form at all gives `null`.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') value = (value as { toJSON(): unknown }).toJSON();
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    // Built as text, not by JSON.stringify of a sorted copy: JS enumerates integer-like keys ("9", "10") first whatever the insertion order.
    for (const k of Object.keys(value).sort()) {
      const v = write((value as Record<string, unknown>)[k]);
      if (v !== undefined) members.push(`${JSON.stringify(k)}:${v}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) as string | undefined;
}

/** Hex sha256 of the canonical JSON of `value`. */
export function canonicalSha256(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * A deep copy with object keys inserted in sorted order (arrays keep their
 * order; undefined members are dropped; Dates are kept), for output meant to
 * read in a stable order, such as a plan printed with indentation. JS still
 * enumerates integer-like keys first, so for text to compare or hash use
 * `canonicalJson`.
 */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out as T;
  }
  return value;
}
