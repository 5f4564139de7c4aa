/**
 * Guarded regular expressions for the `matches` operator. Rules come from
 * files anyone on the team edits, and a catastrophic pattern such as `(a+)+$`
 * can pin the event loop for minutes, so patterns are limited to a subset that
 * backtracks linearly: at most 200 characters, no nested quantifiers, no
 * backreferences, no lookaround; flags i, m, s, u only.
 */
import { LogicError } from './errors.js';

export const REGEX_LIMITS = {
  /** @default 200 */
  maxLength: 200,
  /** @default 'imsu' */
  flags: 'imsu',
  /** Compiled patterns kept (patterns computed at run time). @default 500 */
  cacheSize: 500,
} as const;

const cache = new Map<string, RegExp>();

/** Why a pattern is refused, or undefined when it is acceptable. */
export function unsafeReason(pattern: string, flags = ''): string | undefined {
  if (pattern.length > REGEX_LIMITS.maxLength) return `the pattern is ${pattern.length} characters; at most ${REGEX_LIMITS.maxLength} are allowed`;
  for (const f of flags) if (!REGEX_LIMITS.flags.includes(f)) return `flag '${f}' is not allowed; use ${[...REGEX_LIMITS.flags].join(', ')}`;
  // Scan the pattern tracking groups: a quantified group that itself contains a quantifier (or an alternation) backtracks exponentially.
  const stack: Array<{ quantified: boolean; alternation: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (!inClass && /[1-9k]/.test(n)) return 'backreferences are not allowed';
      i++;
      if (!inClass && isQuantifierAt(pattern, i + 1)) markQuantified(stack);
      continue;
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        if (isQuantifierAt(pattern, i + 1)) markQuantified(stack);
      }
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        return 'lookahead and lookbehind are not allowed';
      }
      stack.push({ quantified: false, alternation: false });
    } else if (c === ')') {
      const g = stack.pop();
      if (!g) continue;
      if (isQuantifierAt(pattern, i + 1)) {
        if (g.quantified) return `nested quantifiers like '(a+)+' can take exponential time; quantify only single items`;
        if (g.alternation && isUnbounded(pattern, i + 1)) return `a repeated alternation like '(a|ab)*' can take exponential time`;
        markQuantified(stack);
      } else if (g.quantified) markQuantified(stack);
    } else if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.alternation = true;
    } else if (isQuantifierAt(pattern, i + 1) && c !== '?' && c !== '*' && c !== '+' && c !== '}') {
      markQuantified(stack);
    }
  }
  return undefined;
}

function isQuantifierAt(p: string, i: number): boolean {
  const c = p[i];
  return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(p.slice(i)));
}

function isUnbounded(p: string, i: number): boolean {
  const c = p[i];
  return c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(p.slice(i)));
}

function markQuantified(stack: Array<{ quantified: boolean }>): void {
  const top = stack[stack.length - 1];
  if (top) top.quantified = true;
}

/** Compile a pattern after the safety checks; throws LogicError REGEX_UNSAFE or REGEX_INVALID. Cached. */
export function safeRegExp(pattern: string, flags = ''): RegExp {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const why = unsafeReason(pattern, flags);
  if (why) throw new LogicError('REGEX_UNSAFE', `regular expression refused: ${why}`, { hint: 'use a simpler pattern such as ^\\+?[0-9 ()-]{7,20}$' });
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch (err) {
    throw new LogicError('REGEX_INVALID', `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (cache.size >= REGEX_LIMITS.cacheSize) cache.delete(cache.keys().next().value!);
  cache.set(key, re);
  return re;
}
