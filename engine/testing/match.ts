/**
 * Subset matching of expected calls against planned ones: every key given in
 * the expectation must be present with an equal value; keys not given are not
 * compared. Strings and numbers compare loosely ("5" equals 5), as Bitrix24
 * itself treats them.
 */
import type { ExpectedCall } from './types.js';

export interface Mismatch {
  /** Dotted path of the differing value (`params.fields.ASSIGNED_BY_ID`). */
  path: string;
  expected: unknown;
  actual: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === 'string' || typeof a === 'number') && (typeof b === 'string' || typeof b === 'number')) {
    return String(a) === String(b);
  }
  return false;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/** Every way `actual` fails to contain `expected`. Empty when it matches. */
export function subsetMismatches(expected: unknown, actual: unknown, path = ''): Mismatch[] {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [{ path, expected, actual }];
    const out: Mismatch[] = [];
    for (const [k, v] of Object.entries(expected)) {
      if (!(k in actual)) out.push({ path: join(path, k), expected: v, actual: undefined });
      else out.push(...subsetMismatches(v, actual[k], join(path, k)));
    }
    return out;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
    return expected.flatMap((v, i) => subsetMismatches(v, actual[i], join(path, i)));
  }
  return scalarEqual(expected, actual) ? [] : [{ path, expected, actual }];
}

/** Mismatches of one expected call against one planned call. */
export function callMismatches(expected: ExpectedCall, actual: ExpectedCall): Mismatch[] {
  const out: Mismatch[] = [];
  if (expected.method.toLowerCase() !== actual.method.toLowerCase()) out.push({ path: 'method', expected: expected.method, actual: actual.method });
  if (expected.rule !== undefined && expected.rule !== actual.rule) out.push({ path: 'rule', expected: expected.rule, actual: actual.rule });
  if (expected.shadow !== undefined && expected.shadow !== (actual.shadow ?? false)) out.push({ path: 'shadow', expected: expected.shadow, actual: actual.shadow ?? false });
  if (expected.params !== undefined) out.push(...subsetMismatches(expected.params, actual.params ?? {}, 'params'));
  return out;
}
