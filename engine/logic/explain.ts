/**
 * Human reasons for a condition's value, for dry-run output and traces:
 * `days_idle (3) > 14 is false` names the first false part of an `and` with the
 * values it saw. A negation stays in the reason (`not matches(...) (true) is
 * false`), and a quantifier names the element that decided it, with the values
 * read from that element.
 */
import type { Facts } from '../rules/index.js';
import type { LogicNode } from './compile.js';
import { SCOPED_OPERATORS, truthy } from './operators.js';

const INFIX = new Set(['==', '===', '!=', '!==', '>', '>=', '<', '<=', 'in', '%', '+', '-', '*', '/']);
const MAX_VALUE_CHARS = 60;

function show(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

function safeEval(node: LogicNode, data: unknown, facts: Facts): unknown {
  try {
    return node.evaluate(data, facts);
  } catch (err) {
    return `<error: ${err instanceof Error ? err.message : String(err)}>`;
  }
}

const isInfix = (node: LogicNode) => node.op !== undefined && INFIX.has(node.op) && node.args.length >= 2;
const isNegation = (node: LogicNode) => node.op === '!' || node.op === '!!';
const isScoped = (node: LogicNode) => node.op === 'some' || node.op === 'all' || node.op === 'none';
/** Nodes whose own description does not show why they have their value. */
const isComposite = (node: LogicNode) => node.op === 'and' || node.op === 'or' || isNegation(node) || isScoped(node);

/** A short description of a node with the values it evaluates to. */
export function describe(node: LogicNode, data: unknown, facts: Facts): string {
  if (node.op === undefined) {
    if (Array.isArray(node.source)) return `[${node.args.map((a) => describe(a, data, facts)).join(', ')}]`;
    return show(node.source);
  }
  const args = node.args;
  if (node.op === 'var') {
    const path = args[0]?.op === undefined ? String(args[0]?.source ?? '') : describe(args[0], data, facts);
    return `${path || 'var'} (${show(safeEval(node, data, facts))})`;
  }
  if (isInfix(node)) return args.map((a) => describe(a, data, facts)).join(` ${node.op} `);
  if (node.op === '!') {
    const inner = args[0];
    if (!inner) return 'not';
    const d = describe(inner, data, facts);
    return isInfix(inner) ? `not (${d})` : `not ${d}`;
  }
  if (node.op === 'and' || node.op === 'or') return `(${args.map((a) => describe(a, data, facts)).join(` ${node.op} `)})`;
  // The per-element expression reads each element, not this data: show it as written.
  if (SCOPED_OPERATORS.has(node.op)) {
    const [list, each, ...rest] = args;
    const parts = [list ? describe(list, data, facts) : '', each ? show(each.source) : '', ...rest.map((a) => describe(a, data, facts))];
    return `${node.op}(${parts.join(', ')}) (${show(safeEval(node, data, facts))})`;
  }
  return `${node.op}(${args.map((a) => describe(a, data, facts)).join(', ')}) (${show(safeEval(node, data, facts))})`;
}

/** Why `node` is falsy for these facts (call only when it is). */
export function explainFalse(node: LogicNode, data: unknown, facts: Facts): string {
  const first = node.args[0];
  switch (node.op) {
    case 'and':
      for (const a of node.args) if (!truthy(safeEval(a, data, facts))) return explainFalse(a, data, facts);
      break;
    case 'or':
      if (node.args.length > 1) return `none is true: ${node.args.map((a) => explainFalse(a, data, facts)).join('; ')}`;
      if (first) return explainFalse(first, data, facts);
      break;
    case '!':
      if (first) return negation(node, first, data, facts, 'false');
      break;
    case '!!':
      if (first) return explainFalse(first, data, facts);
      break;
    case 'some':
    case 'all':
    case 'none':
      return quantifier(node, data, facts, false);
  }
  return `${describe(node, data, facts)} is false`;
}

/** Why `node` is truthy for these facts (call only when it is): the counterpart of explainFalse, for what a negation or a quantifier hides. */
export function explainTrue(node: LogicNode, data: unknown, facts: Facts): string {
  const first = node.args[0];
  switch (node.op) {
    case 'or':
      for (const a of node.args) if (truthy(safeEval(a, data, facts))) return explainTrue(a, data, facts);
      break;
    case 'and':
      if (node.args.length > 1) return `all are true: ${node.args.map((a) => explainTrue(a, data, facts)).join('; ')}`;
      if (first) return explainTrue(first, data, facts);
      break;
    case '!':
      if (first) return negation(node, first, data, facts, 'true');
      break;
    case '!!':
      if (first) return explainTrue(first, data, facts);
      break;
    case 'some':
    case 'all':
    case 'none':
      return quantifier(node, data, facts, true);
  }
  return `${describe(node, data, facts)} is true`;
}

/** `not X` has `value` because X has the other one; a composite X also says why. */
function negation(node: LogicNode, inner: LogicNode, data: unknown, facts: Facts, value: 'true' | 'false'): string {
  const head = `${describe(node, data, facts)} is ${value}`;
  if (!isComposite(inner)) return head;
  // X is true when `not X` is false, and the other way round.
  const innerValue = value === 'false';
  const why = isScoped(inner) ? quantifierWhy(inner, data, facts, innerValue) : innerValue ? explainTrue(inner, data, facts) : explainFalse(inner, data, facts);
  return why ? `${head}: ${why}` : head;
}

/** some/all/none with this value: the quantifier, then the element that decided it (or why no element did). */
function quantifier(node: LogicNode, data: unknown, facts: Facts, value: boolean): string {
  const head = `${describe(node, data, facts)} is ${value}`;
  const why = quantifierWhy(node, data, facts, value);
  return why ? `${head}: ${why}` : head;
}

function quantifierWhy(node: LogicNode, data: unknown, facts: Facts, value: boolean): string | undefined {
  const [listNode, each] = node.args;
  if (!listNode || !each) return undefined;
  const list = safeEval(listNode, data, facts);
  if (!Array.isArray(list)) return `${describe(listNode, data, facts)} is not a list`;
  if (list.length === 0) return 'the list is empty';
  const hits = (x: unknown) => truthy(safeEval(each, x, facts));
  const element = (i: number, why: string) => `element ${i} (${show(list[i])}): ${why}`;
  // Name one element when one decides: a passing one for some-true and none-false, a failing one for all-false.
  if ((node.op === 'some' && value) || (node.op === 'none' && !value)) {
    const i = list.findIndex(hits);
    return i >= 0 ? element(i, explainTrue(each, list[i], facts)) : undefined;
  }
  if (node.op === 'all' && !value) {
    const i = list.findIndex((x) => !hits(x));
    return i >= 0 ? element(i, explainFalse(each, list[i], facts)) : undefined;
  }
  const n = list.length;
  return `${node.op === 'all' ? 'each' : 'none'} of the ${n} element${n === 1 ? '' : 's'} makes ${show(each.source)} true`;
}
