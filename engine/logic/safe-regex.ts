/**
 * Regular expressions for the `matches` operator. Field values are
 * attacker-controlled (a web form fills them) and rules come from files anyone
 * on the team edits, so matching must never backtrack: every pattern runs on
 * RE2 (the `re2` package: Google's automaton engine), whose time is linear in
 * the length of the input whatever the pattern. `.*.*.*=x`, which the
 * backtracking engine needs ~35 s for on 1,000 characters, takes milliseconds
 * on 100,000 there.
 *
 * A pattern must also be a valid JavaScript pattern (so it means what a regex
 * tester shows), at most 200 characters, with flags i, m, s, u only. The
 * static check below still refuses, when the rule loads, what RE2 cannot run
 * (backreferences, lookaround) and the shapes that are catastrophic for a
 * backtracking engine (`(a+)+`, `(a|ab)*`): they are almost always a mistake,
 * and the diagnostic says so with the rule's file:line:col.
 */
import RE2 from 're2';
import { LogicError } from './errors.js';

export const REGEX_LIMITS = {
  /** @default 200 */
  maxLength: 200,
  /** @default 'imsu' */
  flags: 'imsu',
  /** Compiled patterns kept (patterns computed at run time). @default 500 */
  cacheSize: 500,
  /** test() answers a pattern remembers, for inputs of at most `memoInputChars` characters. @default 128 */
  memoSize: 128,
  /** @default 128 */
  memoInputChars: 128,
} as const;

const cache = new Map<string, LinearRegExp>();

/**
 * A RegExp whose matching runs on RE2. It is a real RegExp (the JavaScript
 * engine parsed the pattern, so `source` and `flags` are as written), but
 * `exec` and `test` never reach the backtracking engine; String.prototype
 * match, replace, search and split go through `exec`.
 */
export class LinearRegExp extends RegExp {
  readonly #re2: RE2;
  /**
   * Answers of test() for short inputs. A call into RE2 costs microseconds (it
   * is native, and converts the string), and a rule tests the same few values
   * (a region, a source, a stage) event after event. Only without g or y,
   * whose test() depends on lastIndex.
   */
  readonly #answers: Map<string, boolean> | undefined;

  constructor(pattern: string, flags = '') {
    super(pattern, flags);
    this.#re2 = new RE2(pattern, flags);
    this.#answers = this.global || this.sticky ? undefined : new Map();
  }

  override exec(input: string): RegExpExecArray | null {
    this.#re2.lastIndex = this.lastIndex;
    const m = this.#re2.exec(String(input));
    this.lastIndex = this.#re2.lastIndex;
    return m;
  }

  override test(input: string): boolean {
    const s = String(input);
    const answers = this.#answers;
    if (!answers || s.length > REGEX_LIMITS.memoInputChars) {
      this.#re2.lastIndex = this.lastIndex;
      const hit = this.#re2.test(s);
      this.lastIndex = this.#re2.lastIndex;
      return hit;
    }
    let hit = answers.get(s);
    if (hit === undefined) {
      hit = this.#re2.test(s);
      if (answers.size >= REGEX_LIMITS.memoSize) answers.clear();
      answers.set(s, hit);
    }
    return hit;
  }
}

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

/** Compile a pattern after the safety checks into a RegExp that matches in linear time; throws LogicError REGEX_UNSAFE or REGEX_INVALID. Cached. */
export function safeRegExp(pattern: string, flags = ''): LinearRegExp {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const why = unsafeReason(pattern, flags);
  if (why) throw new LogicError('REGEX_UNSAFE', `regular expression refused: ${why}`, { hint: 'use a simpler pattern such as ^\\+?[0-9 ()-]{7,20}$' });
  let re: LinearRegExp;
  try {
    re = new LinearRegExp(pattern, flags);
  } catch (err) {
    throw new LogicError('REGEX_INVALID', `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (cache.size >= REGEX_LIMITS.cacheSize) cache.delete(cache.keys().next().value!);
  cache.set(key, re);
  return re;
}
