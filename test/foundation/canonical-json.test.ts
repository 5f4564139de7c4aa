/**
 * The one canonical JSON (engine/canonical-json.ts): keys sorted at every
 * level by code units, JSON.stringify's rules otherwise; and the hashes built
 * on it (inbound idempotency keys, plan fingerprints) agree with it.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSha256, sortKeys } from '../../engine/canonical-json.js';
import { hashValue } from '../../engine/plan/canonical.js';
import { stableHash } from '../../engine/sources/http-body.js';

const VALUE = { b: [1, { d: 2, c: 3 }], a: 'x', '10': 1, '9': 2, é: true, Z: null, s: 'ü"\n' };
const TEXT = '{"10":1,"9":2,"Z":null,"a":"x","b":[1,{"c":3,"d":2}],"s":"ü\\"\\n","é":true}';
// sha256 of TEXT: the rule hash and inbound idempotency keys had this value before there was one implementation,
// so hashes already stored in state files stay valid.
const SHA = 'ebe842dd4034d4773527b83901eef3ddd6d89c4b7e66c1006ac70cbe0d4ceb42';

describe('canonicalJson', () => {
  it('sorts keys at every level by code units, integer-like keys included', () => {
    expect(canonicalJson(VALUE)).toBe(TEXT);
    const reordered = { s: 'ü"\n', Z: null, é: true, '9': 2, a: 'x', '10': 1, b: [1, { c: 3, d: 2 }] };
    expect(canonicalJson(reordered)).toBe(TEXT);
  });

  it('follows JSON.stringify otherwise: undefined members dropped, null in arrays, toJSON honoured', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, () => 1, 2], f: () => 1 })).toBe('{"a":[null,null,2]}');
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 10, 24, 6)) })).toBe('{"at":"2026-11-24T06:00:00.000Z"}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('text')).toBe('"text"');
    expect(canonicalJson(Number.NaN)).toBe('null');
  });

  it('hashes: canonicalSha256, inbound idempotency keys and plan fingerprints all hash the same text', () => {
    expect(canonicalSha256(VALUE)).toBe(SHA);
    expect(stableHash(VALUE)).toBe(SHA.slice(0, 32));
    expect(hashValue(VALUE)).toBe(`sha256:${SHA}`);
  });
});

describe('sortKeys', () => {
  it('copies with keys in sorted order at every level, dropping undefined members and keeping Dates', () => {
    const at = new Date(0);
    const copy = sortKeys({ b: { z: 1, y: undefined, x: [{ q: 1, p: 2 }] }, a: at });
    expect(Object.keys(copy)).toEqual(['a', 'b']);
    expect(Object.keys(copy.b)).toEqual(['x', 'z']);
    expect(Object.keys(copy.b.x[0] as object)).toEqual(['p', 'q']);
    expect(copy.a).toBe(at);
  });
});
