/**
 * Compile a json-logic expression once into a tree of closures. Nothing is
 * ever evaluated as JavaScript: operators come from a fixed table
 * (operators.ts), `var` reads own properties only, and an unknown operator is a
 * compile error. Semantics follow json-logic-js (test/rules/logic-parity.test.ts
 * checks them against it).
 */
import type { Facts } from '../rules/index.js';
import { closest } from '../suggest.js';
import { LogicError } from './errors.js';
import { EAGER_OPERATORS, LAZY_OPERATORS, OPERATOR_NAMES, SCOPED_OPERATORS, truthy, type OpContext } from './operators.js';

/** A compiled node: evaluate with the data in scope and the whole facts. */
export interface LogicNode {
  source: unknown;
  /** The operator, for operation nodes. */
  op?: string;
  args: LogicNode[];
  evaluate(data: unknown, facts: Facts): unknown;
}

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

function literal(source: unknown): LogicNode {
  return { source, args: [], evaluate: () => source };
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
      return literal(null);
    }
    if (Array.isArray(src)) {
      const items = src.map((x, i) => build(x, [...path, i], depth + 1));
      return { source: src, args: items, evaluate: (d, f) => items.map((n) => n.evaluate(d, f)) };
    }
    if (!isOperation(src)) return literal(src);
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
      return literal(null);
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
      const fn = eager.fn;
      return {
        source: src,
        op,
        args,
        evaluate: (d, f) => {
          const ctx: OpContext = { data: d, facts: f };
          return fn(
            args.map((n) => n.evaluate(d, f)),
            ctx,
          );
        },
      };
    }
    return { source: src, op, args, evaluate: lazyEvaluator(op, args) };
  };
  return build(expr, basePath, 0);
}

function lazyEvaluator(op: string, args: LogicNode[]): LogicNode['evaluate'] {
  switch (op) {
    case 'if':
    case '?:':
      return (d, f) => {
        let i = 0;
        for (; i < args.length - 1; i += 2) if (truthy(args[i]!.evaluate(d, f))) return args[i + 1]!.evaluate(d, f);
        return args.length === i + 1 ? args[i]!.evaluate(d, f) : null;
      };
    case 'and':
      return (d, f) => {
        let cur: unknown;
        for (const a of args) {
          cur = a.evaluate(d, f);
          if (!truthy(cur)) return cur;
        }
        return cur;
      };
    case 'or':
      return (d, f) => {
        let cur: unknown;
        for (const a of args) {
          cur = a.evaluate(d, f);
          if (truthy(cur)) return cur;
        }
        return cur;
      };
    default: {
      const [listNode, scoped, initNode] = args;
      return (d, f) => {
        const list = listNode ? listNode.evaluate(d, f) : undefined;
        const each = (x: unknown) => (scoped ? scoped.evaluate(x, f) : undefined);
        switch (op) {
          case 'filter':
            return Array.isArray(list) ? list.filter((x) => truthy(each(x))) : [];
          case 'map':
            return Array.isArray(list) ? list.map(each) : [];
          case 'reduce': {
            const init = initNode ? initNode.evaluate(d, f) : null;
            if (!Array.isArray(list)) return init;
            return list.reduce((acc: unknown, cur: unknown) => (scoped ? scoped.evaluate({ current: cur, accumulator: acc }, f) : undefined), init);
          }
          case 'all':
            return Array.isArray(list) && list.length > 0 && list.every((x) => truthy(each(x)));
          case 'none':
            return !Array.isArray(list) || !list.some((x) => truthy(each(x)));
          case 'some':
            return Array.isArray(list) && list.some((x) => truthy(each(x)));
          default:
            throw new LogicError('LOGIC_NO_EVALUATOR', `no evaluator for '${op}'`, { kind: 'bug' });
        }
      };
    }
  }
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
