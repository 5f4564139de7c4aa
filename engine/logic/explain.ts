/**
 * Human reasons for a false condition, for dry-run output and traces:
 * `days_idle (3) > 14 is false` names the first false part of an `and` with the
 * values it saw.
 */
import type { Facts } from '../rules/index.js';
import type { LogicNode } from './compile.js';
import { truthy } from './operators.js';

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
  if (INFIX.has(node.op) && args.length >= 2) return args.map((a) => describe(a, data, facts)).join(` ${node.op} `);
  if (node.op === '!') return `not ${args[0] ? describe(args[0], data, facts) : ''}`;
  if (node.op === 'and' || node.op === 'or') return `(${args.map((a) => describe(a, data, facts)).join(` ${node.op} `)})`;
  return `${node.op}(${args.map((a) => describe(a, data, facts)).join(', ')}) (${show(safeEval(node, data, facts))})`;
}

/** Why `node` is falsy for these facts (call only when it is). */
export function explainFalse(node: LogicNode, data: unknown, facts: Facts): string {
  if (node.op === 'and') {
    for (const a of node.args) if (!truthy(safeEval(a, data, facts))) return explainFalse(a, data, facts);
  }
  if (node.op === 'or' && node.args.length > 1) return `none is true: ${node.args.map((a) => explainFalse(a, data, facts)).join('; ')}`;
  if (node.op === 'or' && node.args[0]) return explainFalse(node.args[0], data, facts);
  if (node.op === '!' && node.args[0]) return `${describe(node.args[0], data, facts)} is true`;
  return `${describe(node, data, facts)} is false`;
}
