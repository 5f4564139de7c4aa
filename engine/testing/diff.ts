/** Readable explanations of why planned calls differ from the expected ones. */
import { canonicalJson } from '../canonical-json.js';
import { callMismatches } from './match.js';
import type { ExpectedCall } from './types.js';

function show(v: unknown): string {
  return v === undefined ? '(missing)' : canonicalJson(v);
}

function callLine(c: ExpectedCall): string {
  return `${c.method}${c.params ? ` ${canonicalJson(c.params)}` : ''}${c.rule ? `  (rule ${c.rule}${c.shadow ? ', shadow' : ''})` : ''}`;
}

/**
 * Compare expected and planned calls in order. Returns null when they match,
 * else a multi-line diff: `-` an expected call that was not planned, `+` a
 * planned call that was not expected, `~` a call that differs (with each field).
 */
export function diffCalls(expected: ExpectedCall[], actual: ExpectedCall[]): string | null {
  const lines: string[] = [];
  let failed = expected.length !== actual.length;
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e && a) {
      const mism = callMismatches(e, a);
      if (mism.length === 0) {
        lines.push(`    ${i + 1}. ${e.method}  ok`);
      } else {
        failed = true;
        lines.push(`  ~ ${i + 1}. ${a.method}${a.rule ? `  (rule ${a.rule}${a.shadow ? ', shadow' : ''})` : ''}`);
        for (const m of mism) lines.push(`         ${m.path}: expected ${show(m.expected)}, planned ${show(m.actual)}`);
      }
    } else if (e) {
      lines.push(`  - ${i + 1}. ${callLine(e)}   (expected, not planned)`);
    } else if (a) {
      lines.push(`  + ${i + 1}. ${callLine(a)}   (planned, not expected)`);
    }
  }
  if (!failed) return null;
  const head = `expected ${expected.length} call${expected.length === 1 ? '' : 's'}, planned ${actual.length}:`;
  return [head, ...lines].join('\n');
}
