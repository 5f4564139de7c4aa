/**
 * Compile a json-logic expression once into a tree of closures (nodes.ts).
 * Nothing is ever evaluated as JavaScript: operators come from a fixed table
 * (operators.ts), `var` reads own properties only, and an unknown operator is a
 * compile error. Semantics follow json-logic-js (test/rules/logic-parity.test.ts
 * checks them against it).
 */
import { closest } from '../suggest.js';
import { LogicError } from './errors.js';
import { andOrNode, arrayNode, eagerNode, ifNode, literalNode, scopedNode, type LogicNode } from './nodes.js';
import { EAGER_OPERATORS, LAZY_OPERATORS, OPERATOR_NAMES, SCOPED_OPERATORS } from './operators.js';

export type { LogicNode };

/** Limits for expressions. */
export const LOGIC_LIMITS = {
  /** Deepest nesting of operations. @default 64 */
  maxDepth: 64,
} as const;

type Path = Array<string | number>;

const REGEX_HINT = 'patterns are limited to a subset that runs in linear time: at most 200 characters, no nested quantifiers, backreferences or lookaround';

/** Whether `v` is an operation (an object with exactly one key), as json-logic defines it. */
export function isOperation(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1;
}

/**
 * Compile `expr`. Problems go to `problems` when given (compilation goes on so
 * all of them are reported); otherwise the first one is thrown as LogicError.
 */
export function compileLogic(expr: unknown, problems?: LogicError[], basePath: Path = []): LogicNode {
  const report = (err: LogicError) => {
    if (!problems) throw err;
    problems.push(err);
  };
  const build = (src: unknown, path: Path, depth: number): LogicNode => {
    if (depth > LOGIC_LIMITS.maxDepth) {
      report(new LogicError('LOGIC_INVALID', `the expression is nested more than ${LOGIC_LIMITS.maxDepth} levels deep`, { path }));
      return literalNode(null);
    }
    if (Array.isArray(src)) {
      const items = src.map((x, i) => build(x, [...path, i], depth + 1));
      return arrayNode(src, items);
    }
    if (!isOperation(src)) return literalNode(src);
    const op = Object.keys(src)[0]!;
    const raw = src[op];
    const rawArgs = Array.isArray(raw) ? raw : [raw];
    const opPath = [...path, op];
    const lazy = Object.hasOwn(LAZY_OPERATORS, op) ? LAZY_OPERATORS[op] : undefined;
    const eager = Object.hasOwn(EAGER_OPERATORS, op) ? EAGER_OPERATORS[op] : undefined;
    if (!lazy && !eager) {
      const guess = closest(op, OPERATOR_NAMES);
      report(
        new LogicError('LOGIC_UNKNOWN_OPERATOR', `unknown json-logic operator '${op}'${guess ? `; did you mean '${guess}'?` : ''}`, {
          path: opPath,
          hint: `known operators: ${OPERATOR_NAMES.join(', ')}`,
        }),
      );
      return literalNode(null);
    }
    const [min, max] = (lazy ?? eager)!.arity;
    const usage = (lazy ?? eager)!.usage;
    if (rawArgs.length < min || rawArgs.length > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      report(new LogicError('LOGIC_ARGUMENTS', `'${op}' takes ${want} argument${min === 1 && max === 1 ? '' : 's'}, got ${rawArgs.length}`, { path: opPath, hint: usage }));
    }
    const args = rawArgs.map((a, i) => build(a, Array.isArray(raw) ? [...opPath, i] : opPath, depth + 1));
    if (eager) {
      const bad = eager.check?.(rawArgs);
      if (bad instanceof LogicError) {
        const regex = bad.code === 'REGEX_UNSAFE' || bad.code === 'REGEX_INVALID';
        report(new LogicError(bad.code, `'${op}': ${bad.message}`, { path: opPath, hint: regex ? REGEX_HINT : (bad.hint ?? usage) }));
      } else if (bad) {
        report(new LogicError('LOGIC_ARGUMENTS', `'${op}': ${bad}`, { path: opPath, hint: usage }));
      }
      return eagerNode(src, op, args, eager.fn);
    }
    if (op === 'and' || op === 'or') return andOrNode(src, op, args);
    if (op === 'if' || op === '?:') return ifNode(src, op, args);
    return scopedNode(src, op, args);
  };
  return build(expr, basePath, 0);
}

/**
 * Names an expression reads from the facts: the first segment of every literal
 * `var` path (and `missing` keys), outside the per-element scope of
 * map/filter/reduce/all/none/some. With `paths`, also where each was read.
 */
export function logicRefs(expr: unknown, basePath: Path = []): Array<{ name: string; varPath: string; path: Path }> {
  const out: Array<{ name: string; varPath: string; path: Path }> = [];
  const walk = (src: unknown, path: Path, depth: number) => {
    if (depth > LOGIC_LIMITS.maxDepth) return;
    if (Array.isArray(src)) return src.forEach((x, i) => walk(x, [...path, i], depth + 1));
    if (!isOperation(src)) return;
    const op = Object.keys(src)[0]!;
    const raw = src[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const argPath = (i: number) => (Array.isArray(raw) ? [...path, op, i] : [...path, op]);
    if (op === 'var') {
      const p = args[0];
      if (typeof p === 'string' && p !== '') out.push({ name: p.split('.')[0]!, varPath: p, path: argPath(0) });
      else if (typeof p === 'number') out.push({ name: String(p), varPath: String(p), path: argPath(0) });
      else walk(p, argPath(0), depth + 1);
      if (args.length > 1) walk(args[1], argPath(1), depth + 1);
      return;
    }
    if (op === 'missing' || op === 'missing_some') {
      const keys = op === 'missing' ? (Array.isArray(args[0]) ? args[0] : args) : args[1];
      if (Array.isArray(keys)) for (const k of keys) if (typeof k === 'string' && k !== '') out.push({ name: k.split('.')[0]!, varPath: k, path: argPath(0) });
      return;
    }
    if (SCOPED_OPERATORS.has(op)) {
      walk(args[0], argPath(0), depth + 1);
      if (op === 'reduce' && args.length > 2) walk(args[2], argPath(2), depth + 1);
      return;
    }
    args.forEach((a, i) => walk(a, argPath(i), depth + 1));
  };
  walk(expr, basePath, 0);
  return out;
}
