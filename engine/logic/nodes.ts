/**
 * The closures a compiled expression is made of. Everything that can be
 * decided when the rule compiles is: the operator (no table lookup at
 * evaluation), `var` paths (split once, own-path.ts), literal arguments
 * (a regex compiled once, an `in_list` list normalized once), and whether a
 * node's value is a boolean. Each node also has `test`, its truthiness: a
 * condition only needs that, so `and`/`or`/`!` under it never carry values.
 * The common operators (comparisons, and, or, !, in, in_list, matches,
 * changed, var) allocate nothing when they evaluate; the others call the
 * operator table (operators.ts) with their arguments' values.
 */
import type { Facts } from '../rules/index.js';
import { LogicError } from './errors.js';
import { type OpFn, truthy } from './operators.js';
import { readOwn, varPath, type VarPath } from './own-path.js';
import { safeRegExp } from './safe-regex.js';

type Evaluate = (data: unknown, facts: Facts) => unknown;
type Test = (data: unknown, facts: Facts) => boolean;

/** A compiled node: evaluate with the data in scope and the whole facts. */
export interface LogicNode {
  source: unknown;
  /** The operator, for operation nodes. */
  op?: string;
  args: LogicNode[];
  evaluate(data: unknown, facts: Facts): unknown;
  /** Whether the value is truthy (json-logic truthiness), without building what only truthiness needs. */
  test(data: unknown, facts: Facts): boolean;
  /** A `var` with a literal path: the path, split (a comparison reads it without calling the node). */
  path?: VarPath;
}

const hasOwn = Object.hasOwn;

function node(source: unknown, op: string | undefined, args: LogicNode[], evaluate: Evaluate, test?: Test): LogicNode {
  return { source, op, args, evaluate, test: test ?? ((d, f) => truthy(evaluate(d, f))) };
}

/** A node whose value is always a boolean: its test is its evaluation. */
const boolNode = (source: unknown, op: string, args: LogicNode[], evaluate: Test): LogicNode => node(source, op, args, evaluate, evaluate);

/** A literal's value when the node is one (a plain value, or an array of literals), else undefined. */
export function constantOf(n: LogicNode | undefined): { value: unknown } | undefined {
  if (!n || n.op !== undefined) return undefined;
  if (Array.isArray(n.source) && !n.args.every((a) => constantOf(a) !== undefined)) return undefined;
  return { value: n.source };
}

/** A value that is not an operation. */
export function literalNode(source: unknown): LogicNode {
  const t = truthy(source);
  return node(
    source,
    undefined,
    [],
    () => source,
    () => t,
  );
}

/** An array whose items are expressions: a new array of their values at each evaluation. */
export function arrayNode(source: unknown[], items: LogicNode[]): LogicNode {
  const fns = items.map((n) => n.evaluate);
  const evaluate: Evaluate = (d, f) => {
    const out = new Array<unknown>(fns.length);
    for (let i = 0; i < fns.length; i++) out[i] = fns[i]!(d, f);
    return out;
  };
  return node(source, undefined, items, evaluate, () => fns.length > 0);
}

/** An eager operator called with its arguments' values (the general case). */
export function eagerNode(source: unknown, op: string, args: LogicNode[], fn: OpFn): LogicNode {
  return specialized(source, op, args) ?? generic(source, op, args, fn);
}

function generic(source: unknown, op: string, args: LogicNode[], fn: OpFn): LogicNode {
  const fns = args.map((n) => n.evaluate);
  const n = fns.length;
  return node(source, op, args, (d, f) => {
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) values[i] = fns[i]!(d, f);
    return fn(values, { data: d, facts: f });
  });
}

function specialized(source: unknown, op: string, args: LogicNode[]): LogicNode | undefined {
  const [A, B] = args;
  if (op === 'var') return varNode(source, args);
  if (op === '!' && args.length === 1) {
    const t = A!.test;
    return boolNode(source, op, args, (d, f) => !t(d, f));
  }
  if (op === '!!' && args.length === 1) return boolNode(source, op, args, A!.test);
  if (args.length === 2 && COMPARISONS.has(op)) return boolNode(source, op, args, compare(op, A!, B!));
  if (op === 'in' && args.length === 2) {
    const list = constantOf(B)?.value;
    if (!Array.isArray(list) && typeof list !== 'string') return undefined;
    if (A!.path) {
      const { segs, notFound } = A!.path;
      return boolNode(source, op, args, (d) => list.indexOf(readOwn(d, segs, notFound) as never) !== -1);
    }
    const a = A!.evaluate;
    return boolNode(source, op, args, (d, f) => list.indexOf(a(d, f) as never) !== -1);
  }
  if (op === 'in_list' && args.length === 2) return inListNode(source, args);
  if (op === 'matches' && (args.length === 2 || args.length === 3)) return matchesNode(source, args);
  if (op === 'changed' && args.length === 1) {
    const field = constantOf(A)?.value;
    if (typeof field !== 'string') return undefined;
    return boolNode(source, op, args, (_d, f) => {
      const ch = f.changes;
      return ch !== null && typeof ch === 'object' && hasOwn(ch, field);
    });
  }
  return undefined;
}

const COMPARISONS = new Set(['==', '===', '!=', '!==', '>', '>=', '<', '<=']);

// One closure per operator, so that no comparison is looked up or dispatched at evaluation.
function compare(op: string, A: LogicNode, B: LogicNode): Test {
  const a = A.evaluate;
  const k = constantOf(B);
  if (k && A.path) return comparePath(op, A.path, k.value);
  if (k) {
    const v = k.value as number;
    switch (op) {
      case '==':
        return (d, f) => a(d, f) == v;
      case '===':
        return (d, f) => a(d, f) === v;
      case '!=':
        return (d, f) => a(d, f) != v;
      case '!==':
        return (d, f) => a(d, f) !== v;
      case '>':
        return (d, f) => (a(d, f) as number) > v;
      case '>=':
        return (d, f) => (a(d, f) as number) >= v;
      case '<':
        return (d, f) => (a(d, f) as number) < v;
      default:
        return (d, f) => (a(d, f) as number) <= v;
    }
  }
  const b = B.evaluate;
  switch (op) {
    case '==':
      return (d, f) => a(d, f) == b(d, f);
    case '===':
      return (d, f) => a(d, f) === b(d, f);
    case '!=':
      return (d, f) => a(d, f) != b(d, f);
    case '!==':
      return (d, f) => a(d, f) !== b(d, f);
    case '>':
      return (d, f) => (a(d, f) as number) > (b(d, f) as number);
    case '>=':
      return (d, f) => (a(d, f) as number) >= (b(d, f) as number);
    case '<':
      return (d, f) => (a(d, f) as number) < (b(d, f) as number);
    default:
      return (d, f) => (a(d, f) as number) <= (b(d, f) as number);
  }
}

/** A path compared with a literal: the most common condition, read and compared in one closure. */
function comparePath(op: string, path: VarPath, k: unknown): Test {
  const { segs, notFound: nf } = path;
  const v = k as number;
  switch (op) {
    case '==':
      return (d) => readOwn(d, segs, nf) == v;
    case '===':
      return (d) => readOwn(d, segs, nf) === v;
    case '!=':
      return (d) => readOwn(d, segs, nf) != v;
    case '!==':
      return (d) => readOwn(d, segs, nf) !== v;
    case '>':
      return (d) => (readOwn(d, segs, nf) as number) > v;
    case '>=':
      return (d) => (readOwn(d, segs, nf) as number) >= v;
    case '<':
      return (d) => (readOwn(d, segs, nf) as number) < v;
    default:
      return (d) => (readOwn(d, segs, nf) as number) <= v;
  }
}

/** `var` with a literal path (and default): the path is split now. */
function varNode(source: unknown, args: LogicNode[]): LogicNode | undefined {
  const [P, D] = args;
  const path = P ? constantOf(P) : { value: undefined };
  const dflt = D ? constantOf(D) : { value: undefined };
  if (!path || !dflt || args.length > 2) return undefined;
  const p = path.value;
  if (p === undefined || p === '' || p === null) return node(source, 'var', args, (d) => d);
  const vp = varPath(String(p), dflt.value === undefined ? null : dflt.value);
  const { segs, notFound } = vp;
  const n = node(source, 'var', args, (d) => readOwn(d, segs, notFound));
  n.path = vp;
  return n;
}

const loose = (x: unknown) => (typeof x === 'number' || typeof x === 'string' ? String(x) : x);

/** `in_list` over a literal list: normalized once (numbers as strings), then one lookup. */
function inListNode(source: unknown, args: LogicNode[]): LogicNode | undefined {
  const list = constantOf(args[1])?.value;
  if (!Array.isArray(list)) return undefined;
  // After `loose` no NaN is left, so a Set's SameValueZero is the operator's ===.
  const keys = list.map(loose);
  const set = new Set(keys);
  const path = args[0]!.path;
  if (path) {
    const { segs, notFound } = path;
    return boolNode(source, 'in_list', args, keys.length > 8 ? (d) => set.has(loose(readOwn(d, segs, notFound))) : (d) => keys.includes(loose(readOwn(d, segs, notFound))));
  }
  const a = args[0]!.evaluate;
  return boolNode(source, 'in_list', args, keys.length > 8 ? (d, f) => set.has(loose(a(d, f))) : (d, f) => keys.includes(loose(a(d, f))));
}

/** `matches` with a literal pattern (and flags): the regex is compiled with the rule. */
function matchesNode(source: unknown, args: LogicNode[]): LogicNode | undefined {
  const [V, P, F] = args;
  const pattern = constantOf(P)?.value;
  const flags = F ? constantOf(F) : { value: '' };
  if (typeof pattern !== 'string' || !flags) return undefined;
  let re: RegExp;
  try {
    re = safeRegExp(pattern, typeof flags.value === 'string' ? flags.value : '');
  } catch (err) {
    // Reported when the rule loaded; evaluating it throws the same error, as the operator does.
    if (err instanceof LogicError) return undefined;
    throw err;
  }
  const v = V!.evaluate;
  return boolNode(source, 'matches', args, (d, f) => {
    const value = v(d, f);
    return value === null || value === undefined ? false : re.test(String(value));
  });
}

/** if / ?: — the first truthy condition's branch, else the last odd argument, else null. */
export function ifNode(source: unknown, op: string, args: LogicNode[]): LogicNode {
  const n = args.length;
  return node(source, op, args, (d, f) => {
    let i = 0;
    for (; i < n - 1; i += 2) if (args[i]!.test(d, f)) return args[i + 1]!.evaluate(d, f);
    return n === i + 1 ? args[i]!.evaluate(d, f) : null;
  });
}

/** and / or: the deciding value; as a test, a chain of tests. */
export function andOrNode(source: unknown, op: 'and' | 'or', args: LogicNode[]): LogicNode {
  const evs = args.map((a) => a.evaluate);
  const ts = args.map((a) => a.test);
  const n = evs.length;
  const stopOn = op === 'or';
  const evaluate: Evaluate = (d, f) => {
    let cur: unknown;
    for (let i = 0; i < n; i++) {
      cur = evs[i]!(d, f);
      if (truthy(cur) === stopOn) return cur;
    }
    return cur;
  };
  return node(source, op, args, evaluate, op === 'and' ? chainAnd(ts) : chainOr(ts));
}

function chainAnd(ts: Test[]): Test {
  const [t0, t1, t2, t3] = ts;
  switch (ts.length) {
    case 0:
      return () => false;
    case 1:
      return t0!;
    case 2:
      return (d, f) => t0!(d, f) && t1!(d, f);
    case 3:
      return (d, f) => t0!(d, f) && t1!(d, f) && t2!(d, f);
    case 4:
      return (d, f) => t0!(d, f) && t1!(d, f) && t2!(d, f) && t3!(d, f);
    default:
      return (d, f) => {
        for (let i = 0; i < ts.length; i++) if (!ts[i]!(d, f)) return false;
        return true;
      };
  }
}

function chainOr(ts: Test[]): Test {
  const [t0, t1, t2, t3] = ts;
  switch (ts.length) {
    case 0:
      return () => false;
    case 1:
      return t0!;
    case 2:
      return (d, f) => t0!(d, f) || t1!(d, f);
    case 3:
      return (d, f) => t0!(d, f) || t1!(d, f) || t2!(d, f);
    case 4:
      return (d, f) => t0!(d, f) || t1!(d, f) || t2!(d, f) || t3!(d, f);
    default:
      return (d, f) => {
        for (let i = 0; i < ts.length; i++) if (ts[i]!(d, f)) return true;
        return false;
      };
  }
}

/** filter/map/reduce/all/none/some: the second argument evaluated per element, with the element as data. */
export function scopedNode(source: unknown, op: string, args: LogicNode[]): LogicNode {
  const [listNode, scoped, initNode] = args;
  const list = listNode ? listNode.evaluate : () => undefined;
  const each = scoped ? scoped.evaluate : () => undefined;
  const hit = scoped ? scoped.test : () => false;
  switch (op) {
    case 'filter':
      return node(source, op, args, (d, f) => {
        const l = list(d, f);
        return Array.isArray(l) ? l.filter((x) => hit(x, f)) : [];
      });
    case 'map':
      return node(source, op, args, (d, f) => {
        const l = list(d, f);
        return Array.isArray(l) ? l.map((x) => each(x, f)) : [];
      });
    case 'reduce':
      return node(source, op, args, (d, f) => {
        const l = list(d, f);
        const init = initNode ? initNode.evaluate(d, f) : null;
        if (!Array.isArray(l)) return init;
        return l.reduce((acc: unknown, cur: unknown) => each({ current: cur, accumulator: acc }, f), init);
      });
    // The array methods, not for-of: they skip the holes of a sparse array, as json-logic-js does.
    case 'all':
      return boolNode(source, op, args, (d, f) => {
        const l = list(d, f);
        return Array.isArray(l) && l.length > 0 && l.every((x) => hit(x, f));
      });
    case 'none':
      return boolNode(source, op, args, (d, f) => {
        const l = list(d, f);
        return !Array.isArray(l) || !l.some((x) => hit(x, f));
      });
    case 'some':
      return boolNode(source, op, args, (d, f) => {
        const l = list(d, f);
        return Array.isArray(l) && l.some((x) => hit(x, f));
      });
    default:
      throw new LogicError('LOGIC_NO_EVALUATOR', `no evaluator for '${op}'`, { kind: 'bug' });
  }
}
