/**
 * The clauses of a condition for `rules test --coverage`: each test joined by
 * `and`, `or`, `!` or `!!` (a comparison, `in_list`, `matches`, `changed`, a
 * `var`, a quantifier...; an `and`/`or` inside counts through its own
 * clauses). A probe evaluates the condition as the engine does, left to
 * right with the same short-circuits, and counts each clause it reached as
 * true or false: a clause after an `and` part that was false is not reached.
 */
import { compileLogic, isOperation, type LogicNode } from '../logic/index.js';
import type { Facts } from '../rules/index.js';

/** One clause: where it is (a JSON pointer into the rule document, and the operator key to point at) and how it reads. */
export interface ClauseSpec {
  pointer: string;
  /** The operator's key in the mapping at `pointer`, for an operation. */
  key?: string;
  /** The clause as written, short: `lead.OPPORTUNITY >= 1000000`. */
  text: string;
}

type Probe = { kind: 'leaf'; clause: number; node: LogicNode } | { kind: 'and' | 'or'; args: Probe[] } | { kind: 'not' | 'bool'; arg: Probe };

/** A condition's clauses and an evaluation that counts them. */
export interface ClauseProbe {
  clauses: ClauseSpec[];
  /** Evaluate as the engine does, calling `hit` for each clause reached with its truthiness. */
  run(facts: Facts, hit: (clause: number, value: boolean) => void): boolean;
}

const INFIX = new Set(['==', '===', '!=', '!==', '>', '>=', '<', '<=', 'in', '+', '-', '*', '/', '%']);
const MAX_TEXT = 70;

const escape = (s: string | number) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** How an expression reads, short (its source, not its values). */
export function clauseText(src: unknown): string {
  const t = render(src, 0);
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
}

function render(src: unknown, depth: number): string {
  if (depth > 8) return '…';
  if (Array.isArray(src)) return `[${src.map((x) => render(x, depth + 1)).join(', ')}]`;
  if (!isOperation(src)) return JSON.stringify(src) ?? 'null';
  const op = Object.keys(src)[0]!;
  const raw = src[op];
  const args = Array.isArray(raw) ? raw : [raw];
  if (op === 'var') return typeof args[0] === 'string' || typeof args[0] === 'number' ? String(args[0]) : `var(${render(args[0], depth + 1)})`;
  if (INFIX.has(op) && args.length >= 2) return args.map((a) => render(a, depth + 1)).join(` ${op} `);
  if (op === '!') return `not ${render(args[0], depth + 1)}`;
  return `${op}(${args.map((a) => render(a, depth + 1)).join(', ')})`;
}

/** The probe of a condition written at `pointer` (`/condition`, `/actions/2/when`). */
export function clauseProbe(source: unknown, pointer: string): ClauseProbe {
  const clauses: ClauseSpec[] = [];
  const build = (src: unknown, node: LogicNode, ptr: string): Probe => {
    if (isOperation(src)) {
      const op = Object.keys(src)[0]!;
      const raw = src[op];
      const argPtr = (i: number) => (Array.isArray(raw) ? `${ptr}/${escape(op)}/${i}` : `${ptr}/${escape(op)}`);
      const args = Array.isArray(raw) ? raw : [raw];
      if ((op === 'and' || op === 'or') && args.length > 0) return { kind: op, args: args.map((a, i) => build(a, node.args[i]!, argPtr(i))) };
      if ((op === '!' || op === '!!') && args.length === 1) return { kind: op === '!' ? 'not' : 'bool', arg: build(args[0], node.args[0]!, argPtr(0)) };
      clauses.push({ pointer: ptr, key: op, text: clauseText(src) });
    } else {
      clauses.push({ pointer: ptr, text: clauseText(src) });
    }
    return { kind: 'leaf', clause: clauses.length - 1, node };
  };
  const root = build(source, compileLogic(source), pointer);
  const evaluate = (p: Probe, facts: Facts, hit: (clause: number, value: boolean) => void): boolean => {
    switch (p.kind) {
      case 'leaf': {
        const v = p.node.test(facts, facts);
        hit(p.clause, v);
        return v;
      }
      case 'and':
        for (const a of p.args) if (!evaluate(a, facts, hit)) return false;
        return true;
      case 'or':
        for (const a of p.args) if (evaluate(a, facts, hit)) return true;
        return false;
      case 'not':
        return !evaluate(p.arg, facts, hit);
      case 'bool':
        return evaluate(p.arg, facts, hit);
    }
  };
  return { clauses, run: (facts, hit) => evaluate(root, facts, hit) };
}
