/**
 * Mutation operators over a rule file's YAML: each mutant is one small change
 * to a rule's conditions or values (a threshold moved, a comparison loosened,
 * `and` turned into `or`, a clause dropped, a literal changed, an
 * environment variable's default used regardless of the environment, a
 * foreach filter's comparison or value changed), with
 * the file:line:col of the node changed. `rules test --mutate` reruns a
 * rule's tests on each mutant: a mutant no test notices shows where the tests
 * are thin.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';

/** The kinds of change a mutant makes. */
export type MutationOperator = 'threshold' | 'comparison' | 'logic' | 'drop-clause' | 'literal' | 'env-default';

/** One mutant: a single change to one rule of a file. */
export interface Mutant {
  /** Index of the YAML document (rule) in the file. */
  doc: number;
  /** The rule's id (`(document N)` when it has none). */
  ruleId: string;
  operator: MutationOperator;
  /** 1-based position of the node changed. */
  line: number;
  col: number;
  /** What was there, and what the mutant has instead (for the report). */
  from: string;
  to: string;
  /** Path from the document's root to the node changed. */
  path: Array<string | number>;
}

/** Swaps of comparison operators: each side of a boundary. */
const COMPARISONS: Record<string, string> = { '>=': '>', '>': '>=', '<=': '<', '<': '<=', '==': '!=', '!=': '==', '===': '!==', '!==': '===' };
const LOGIC: Record<string, string> = { and: 'or', or: 'and' };
/** Comparison prefixes of a Bitrix24 list filter's keys (`<DATE_MODIFY`), each to the other side of its boundary. */
const FILTER_PREFIX = /^(<=|>=|<|>)(?=[A-Za-z_])/;
const FILTER_SWAP: Record<string, string> = { '<=': '<', '>=': '>', '<': '<=', '>': '>=' };
/** Keys whose values are logic (conditions, a foreach's filter) or values (let) worth mutating. */
const LOGIC_KEYS = new Set(['condition', 'when']);
const VALUE_KEYS = new Set(['let']);
const ENV_DEFAULT = /\{\{\s*env\.[A-Za-z_][A-Za-z0-9_]*\s*\|\s*default:\s*('([^']*)'|"([^"]*)"|[^|}\s]+)\s*\}\}/g;

/** The changed values of a number: ±1 for small integers, ×0.8 and ×1.2 otherwise. */
export function numberMutations(x: number): number[] {
  if (Number.isInteger(x) && Math.abs(x) <= 100) return [x - 1, x + 1];
  const round = (v: number): number => (Number.isInteger(x) ? Math.round(v) : Number(v.toPrecision(12)));
  return [round(x * 0.8), round(x * 1.2)].filter((v) => v !== x);
}

/** The string a changed literal becomes. */
export function literalMutation(s: string): string {
  return `${s}-mutant`;
}

/** `{{ env.X | default: V }}` → V, in every place of a string. Undefined when the string has no such default. */
export function envDefaultMutation(s: string): string | undefined {
  if (!new RegExp(ENV_DEFAULT.source).test(s)) return undefined;
  return s.replace(new RegExp(ENV_DEFAULT.source, 'g'), (_m, raw: string, single?: string, double?: string) => single ?? double ?? raw);
}

function keyOf(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

/** All the mutants of a rule file's text, in document and source order. */
export function mutantsOf(text: string): Mutant[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  if (!Array.isArray(docs)) return [];
  const out: Mutant[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0 || !isMap(doc.contents)) return;
    const id = doc.get('id');
    const ruleId = typeof id === 'string' ? id : `(document ${index + 1})`;
    const add = (node: YamlNode | null | undefined, operator: MutationOperator, from: string, to: string, path: Array<string | number>): void => {
      const pos = lines.linePos(node?.range?.[0] ?? 0);
      out.push({ doc: index, ruleId, operator, line: pos.line, col: pos.col, from, to, path });
    };
    const walk = (node: unknown, path: Array<string | number>, mode: 'none' | 'logic' | 'value' | 'filter'): void => {
      if (isMap(node)) {
        node.items.forEach((pair) => {
          const key = keyOf(pair.key);
          if (key === undefined) return;
          const childPath = [...path, key];
          if (mode === 'none') {
            const filter = key === 'filter' && path[path.length - 1] === 'foreach';
            const next = filter ? 'filter' : LOGIC_KEYS.has(key) ? 'logic' : VALUE_KEYS.has(key) && path.length === 0 ? 'value' : 'none';
            walk(pair.value, childPath, next);
            return;
          }
          if (mode === 'filter') {
            const prefix = FILTER_PREFIX.exec(key)?.[1];
            if (prefix !== undefined) add(pair.key as YamlNode, 'comparison', key, `${FILTER_SWAP[prefix]}${key.slice(prefix.length)}`, [...childPath, '#key']);
            walk(pair.value, childPath, 'logic');
            return;
          }
          if (key === 'var') return;
          const swap = COMPARISONS[key] ?? LOGIC[key];
          if (swap !== undefined) add(pair.key as YamlNode, key in LOGIC ? 'logic' : 'comparison', key, swap, [...childPath, '#key']);
          if (key in LOGIC && isSeq(pair.value) && pair.value.items.length >= 2) {
            pair.value.items.forEach((item, i) => add(item as YamlNode, 'drop-clause', `${key} clause ${i + 1}`, 'dropped', [...childPath, i, '#drop']));
          }
          walk(pair.value, childPath, mode);
        });
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => walk(item, [...path, i], mode));
      } else if (isScalar(node)) {
        if (typeof node.value === 'number' && mode !== 'none') {
          for (const v of numberMutations(node.value)) add(node, 'threshold', String(node.value), String(v), [...path, `#number:${v}`]);
        } else if (typeof node.value === 'string' && mode === 'none') {
          const to = envDefaultMutation(node.value);
          if (to !== undefined) add(node, 'env-default', node.value, to, [...path, '#env']);
        } else if (typeof node.value === 'string' && mode === 'logic' && !node.value.includes('{{')) {
          add(node, 'literal', node.value, literalMutation(node.value), [...path, '#literal']);
        }
      }
    };
    walk(doc.contents, [], 'none');
  });
  return out;
}

/** The file's text with one mutant applied (the file is re-serialized; positions in it are not the original's). */
export function applyMutant(text: string, mutant: Mutant): string {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error('the rule file is not YAML');
  const doc = docs[mutant.doc] as Document;
  const path = mutant.path.slice(0, -1);
  const op = String(mutant.path[mutant.path.length - 1]);
  if (op === '#key') {
    const parentPath = path.slice(0, -1);
    const map = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    const pair = isMap(map) ? map.items.find((p) => isPair(p) && keyOf(p.key) === path[path.length - 1]) : undefined;
    if (!pair || !isScalar(pair.key)) throw new Error(`mutant ${mutant.line}:${mutant.col}: the key is gone`);
    pair.key.value = mutant.to;
  } else if (op === '#drop') {
    const seq = doc.getIn(path.slice(0, -1), true);
    if (!isSeq(seq)) throw new Error(`mutant ${mutant.line}:${mutant.col}: the list is gone`);
    seq.items.splice(Number(path[path.length - 1]), 1);
  } else {
    const scalar = doc.getIn(path, true);
    if (!isScalar(scalar)) throw new Error(`mutant ${mutant.line}:${mutant.col}: the value is gone`);
    scalar.value = op.startsWith('#number:') ? Number(op.slice('#number:'.length)) : mutant.to;
  }
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('');
}
