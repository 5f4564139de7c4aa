/**
 * Whether two rules' writes provably never happen for the same event: the
 * conjuncts of their conditions (and of the writing action's `when:`, the
 * trigger's `changed: { F: { to } }` and a foreach filter's plain keys) are
 * read as simple facts about one value each (`== X`, `!= X`, a numeric range,
 * one of a list, truthy or falsy), and two facts about the same value that no
 * value satisfies together make the writes exclusive. Anything else (an `or`,
 * a `let` name, a computed value) says nothing: the pair is not exempt.
 * json-logic's loose equality is respected: only literals that no value can
 * equal both count as different (`5` and `"5"` are the same, `""` and `0`
 * unknown).
 */
import { canonicalJson } from '../canonical-json.js';
import { isOperation } from '../logic/index.js';
import type { ActionSpec, CompiledRule } from './types.js';

/** One simple fact about the value at a path. */
export type Fact =
  | { kind: 'eq'; value: unknown }
  | { kind: 'ne'; value: unknown }
  | { kind: 'oneOf'; values: unknown[] }
  | { kind: 'range'; lo: number; loIn: boolean; hi: number; hiIn: boolean }
  | { kind: 'truthy' }
  | { kind: 'falsy' };

/** Facts by what they are about: a path (the run's record is `$record`, the event's record or the foreach row; `event` and `changes` stay), or `expr:` and a test's expression in those terms. */
export type Facts = Map<string, Fact[]>;

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * How one rule's names read in terms both rules share: its own record is
 * `$record` (the event's record, or the foreach row whatever its `as`),
 * `event` and `changes` stay, a `let` name stands for its expression; a load
 * or an action's result is this rule's alone (undefined).
 */
class Names {
  private readonly roots = new Set<string>();
  private readonly lets = new Map<string, unknown>();
  constructor(rule: CompiledRule) {
    if (rule.trigger.kind === 'event' && rule.trigger.entity) this.roots.add(rule.trigger.entity);
    if (rule.foreach) this.roots.add(rule.foreach.as);
    for (const l of rule.let) this.lets.set(l.name, l.expr.source);
  }

  /** A var path both rules read alike, or undefined. */
  path(path: string): string | undefined {
    const [root, ...rest] = path.split('.');
    if (root === undefined || rest.length === 0) return undefined;
    if (this.roots.has(root)) return ['$record', ...rest].join('.');
    if (root === 'event' || root === 'changes') return path;
    return undefined;
  }

  /** The expression with its vars in shared terms and its `let` names replaced by their expressions; undefined when it reads something of this rule alone. */
  expression(node: unknown, depth = 0): unknown {
    if (depth > 32) return undefined;
    if (Array.isArray(node)) {
      const items = node.map((x) => this.expression(x, depth + 1));
      return items.includes(undefined) ? undefined : items;
    }
    if (!isOperation(node)) return node;
    const op = Object.keys(node)[0]!;
    if (op === 'var') {
      const p = varOf(node);
      if (p === undefined) return undefined;
      if (this.lets.has(p)) return this.expression(this.lets.get(p), depth + 1);
      const shared = this.path(p);
      return shared === undefined ? undefined : { var: shared };
    }
    const args = this.expression(node[op], depth + 1);
    return args === undefined ? undefined : { [op]: args };
  }
}

function varOf(node: unknown): string | undefined {
  if (!isOperation(node) || !('var' in node)) return undefined;
  const arg = node.var;
  const p = Array.isArray(arg) ? (arg.length === 1 ? arg[0] : undefined) : arg;
  return typeof p === 'string' ? p : undefined;
}

const isLiteral = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function rangeOf(op: string, n: number): Fact {
  switch (op) {
    case '<':
      return { kind: 'range', lo: -Infinity, loIn: false, hi: n, hiIn: false };
    case '<=':
      return { kind: 'range', lo: -Infinity, loIn: false, hi: n, hiIn: true };
    case '>':
      return { kind: 'range', lo: n, loIn: false, hi: Infinity, hiIn: false };
    default:
      return { kind: 'range', lo: n, loIn: true, hi: Infinity, hiIn: false };
  }
}

/** The value a var reads, in shared terms: a path, or (a `let` name) its whole expression. */
function subject(node: unknown, names: Names): string | undefined {
  const p = varOf(node);
  if (p === undefined) return undefined;
  const e = names.expression(node);
  if (e === undefined) return undefined;
  const v = varOf(e);
  return v !== undefined ? v : `expr:${canonicalJson(e)}`;
}

/** The facts one conjunct states, keyed by what they are about. */
function factsOfClause(node: unknown, names: Names): Array<[string, Fact]> {
  if (!isOperation(node)) return [];
  const op = Object.keys(node)[0]!;
  const raw = node[op];
  const args = Array.isArray(raw) ? raw : [raw];
  if (op === 'and') return args.flatMap((a) => factsOfClause(a, names));
  const s0 = subject(args[0], names);
  const s1 = subject(args[1], names);
  const simple = simpleFacts(op, args, s0, s1);
  if (simple.length > 0) return simple;
  if (op === '!' && args.length === 1) {
    const inner = args[0];
    // not (x == a) is x != a; not X is X false.
    if (isOperation(inner) && ('==' in inner || '===' in inner)) {
      const f = factsOfClause(inner, names);
      if (f.length === 1 && f[0]![1].kind === 'eq') return [[f[0]![0], { kind: 'ne', value: f[0]![1].value }]];
    }
    const key = clauseKey(inner, names);
    return key === undefined ? [] : [[key, { kind: 'falsy' }]];
  }
  if (op === '!!' && args.length === 1) {
    const key = clauseKey(args[0], names);
    return key === undefined ? [] : [[key, { kind: 'truthy' }]];
  }
  // Any other test (matches, some, an or...): true here; `!` of the same test elsewhere is false.
  const key = clauseKey(node, names);
  return key === undefined ? [] : [[key, { kind: 'truthy' }]];
}

/** A test as a key both rules compute alike: a shared path for a var, else its expression in shared terms. */
function clauseKey(node: unknown, names: Names): string | undefined {
  const e = names.expression(node);
  if (e === undefined) return undefined;
  const v = varOf(e);
  return v !== undefined ? v : `expr:${canonicalJson(e)}`;
}

function simpleFacts(op: string, args: unknown[], s0: string | undefined, s1: string | undefined): Array<[string, Fact]> {
  if ((op === '==' || op === '===' || op === '!=' || op === '!==') && args.length === 2) {
    const [key, lit] = s0 !== undefined ? [s0, args[1]] : [s1, args[0]];
    if (key === undefined || !isLiteral(lit)) return [];
    return [[key, { kind: op.startsWith('!') ? 'ne' : 'eq', value: lit }]];
  }
  if (Object.hasOwn(FLIP, op)) {
    if (args.length === 2) {
      if (s0 !== undefined && typeof args[1] === 'number') return [[s0, rangeOf(op, args[1])]];
      if (s1 !== undefined && typeof args[0] === 'number') return [[s1, rangeOf(FLIP[op]!, args[0])]];
    }
    // Between: a < x < b.
    if (args.length === 3 && (op === '<' || op === '<=') && typeof args[0] === 'number' && typeof args[2] === 'number' && s1 !== undefined) {
      return [[s1, { kind: 'range', lo: args[0], loIn: op === '<=', hi: args[2], hiIn: op === '<=' }]];
    }
    return [];
  }
  if ((op === 'in_list' || op === 'in') && s0 !== undefined && Array.isArray(args[1]) && args[1].every(isLiteral)) return [[s0, { kind: 'oneOf', values: args[1] }]];
  return [];
}

/** A Bitrix24 list filter's key: its comparison prefix and field. */
const FILTER_KEY = /^(>=|<=|>|<|!=|!|=)?([A-Za-z_][A-Za-z0-9_]*)$/;

function filterFacts(filter: unknown): Array<[string, Fact]> {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) return [];
  const out: Array<[string, Fact]> = [];
  for (const [key, value] of Object.entries(filter)) {
    const m = FILTER_KEY.exec(key);
    if (!m) continue;
    const [, prefix = '', field] = m;
    const path = `$record.${field!}`;
    if (typeof value === 'string' && value.includes('{{')) continue;
    if (prefix === '' || prefix === '=') {
      if (Array.isArray(value) && value.every(isLiteral)) out.push([path, { kind: 'oneOf', values: value }]);
      else if (isLiteral(value)) out.push([path, { kind: 'eq', value }]);
    } else if ((prefix === '!' || prefix === '!=') && isLiteral(value)) out.push([path, { kind: 'ne', value }]);
    else if (typeof value === 'number') out.push([path, rangeOf(prefix, value)]);
  }
  return out;
}

/** Everything known about the values a run of `rule` sees when `action` runs; `filter` is its foreach filter as written. */
export function factsOf(rule: CompiledRule, action: ActionSpec, filter?: unknown): Facts {
  const names = new Names(rule);
  const found: Array<[string, Fact]> = [];
  const t = rule.trigger;
  if (t.kind === 'event' && t.changed && t.entity) {
    for (const [field, ch] of Object.entries(t.changed)) {
      if (ch.to && ch.to.every(isLiteral)) found.push([`$record.${field}`, { kind: 'oneOf', values: ch.to }]);
      if (ch.from && ch.from.every(isLiteral)) found.push([`changes.${field}.from`, { kind: 'oneOf', values: ch.from }]);
    }
  }
  if (rule.condition) found.push(...factsOfClause(rule.condition.source, names));
  if (action.when) found.push(...factsOfClause(action.when.source, names));
  if (rule.foreach) found.push(...filterFacts(filter));
  const out: Facts = new Map();
  for (const [key, fact] of found) out.set(key, [...(out.get(key) ?? []), fact]);
  return out;
}

/** A literal as a comparable key: a number for numbers and numeric strings, the text for other non-empty strings; undefined for what loose equality makes unsure. */
function norm(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function inRange(n: number, r: Extract<Fact, { kind: 'range' }>): boolean {
  return (n > r.lo || (r.loIn && n === r.lo)) && (n < r.hi || (r.hiIn && n === r.hi));
}

/** Whether no value satisfies both facts. */
export function disjoint(a: Fact, b: Fact): boolean {
  if (a.kind === 'oneOf') return a.values.every((value) => disjoint({ kind: 'eq', value }, b));
  if (b.kind === 'oneOf') return disjoint(b, a);
  if ((a.kind === 'truthy' && b.kind === 'falsy') || (a.kind === 'falsy' && b.kind === 'truthy')) return true;
  if (a.kind === 'eq' && b.kind === 'eq') {
    const x = norm(a.value);
    const y = norm(b.value);
    return x !== undefined && y !== undefined && x !== y;
  }
  // x != a is not (x == a): exclusive with exactly that equality.
  if ((a.kind === 'eq' && b.kind === 'ne') || (a.kind === 'ne' && b.kind === 'eq')) return a.value === b.value && isLiteral(a.value);
  if (a.kind === 'eq' && b.kind === 'range') {
    const x = norm(a.value);
    // A value equal to a non-numeric text compares as NaN: outside every range.
    return x !== undefined && (typeof x === 'string' || !inRange(x, b));
  }
  if (a.kind === 'range' && b.kind === 'eq') return disjoint(b, a);
  if (a.kind === 'range' && b.kind === 'range') {
    const lo = Math.max(a.lo, b.lo);
    const hi = Math.min(a.hi, b.hi);
    if (lo < hi) return false;
    if (lo > hi) return true;
    return !(inRange(lo, a) && inRange(lo, b));
  }
  return false;
}

/** Whether the two sets of facts cannot hold together: some path has a fact in each that exclude each other. */
export function exclusive(a: Facts, b: Facts): boolean {
  for (const [path, fa] of a) {
    const fb = b.get(path);
    if (fb && fa.some((x) => fb.some((y) => disjoint(x, y)))) return true;
  }
  return false;
}
