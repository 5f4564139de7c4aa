/**
 * The project evaluates json-logic with its own compiled interpreter (so that
 * operators can be private, the clock injected and nothing read through
 * prototypes). Its standard operators must behave exactly like json-logic-js.
 */
import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../engine/logic/index.js';

const data = { a: 1, b: '1', s: 'hello', list: [1, 2, 3], empty: [], nested: { x: { y: 5 } }, nul: null, t: true, f: false, z: 0, str0: '0' };

const CASES: unknown[] = [
  { '==': [1, '1'] },
  { '===': [1, '1'] },
  { '!=': [{ var: 'a' }, { var: 'b' }] },
  { '!==': [{ var: 'a' }, { var: 'b' }] },
  { '==': [null, { var: 'missing' }] },
  { '>': ['2', 1] },
  { '>=': [{ var: 'a' }, 1] },
  { '<': [1, 2, 3] },
  { '<': [1, 4, 3] },
  { '<=': [1, 1, 3] },
  { '!!': [{ var: 'empty' }] },
  { '!!': [{ var: 'str0' }] },
  { '!': [{ var: 'z' }] },
  { '!': { var: 't' } },
  { '%': [10, 3] },
  { in: ['ell', { var: 's' }] },
  { in: [2, { var: 'list' }] },
  { in: [2, { var: 'nul' }] },
  { cat: ['a', 1, null, true] },
  { substr: ['jsonlogic', 4] },
  { substr: ['jsonlogic', -5] },
  { substr: ['jsonlogic', 1, 3] },
  { substr: ['jsonlogic', 4, -2] },
  { '+': [1, '2', 3.5] },
  { '+': ['3'] },
  { '*': [2, '3'] },
  { '-': [10, 4] },
  { '-': [2] },
  { '/': [7, 2] },
  { min: [3, 1, 2] },
  { max: [3, 1, 2] },
  { merge: [[1, 2], 3, [4, [5]]] },
  { var: 'nested.x.y' },
  { var: ['nested.x.q', 'dflt'] },
  { var: 'list.1' },
  { var: '' },
  { missing: ['a', 'nope', 'nested.x.y', 'nested.q'] },
  { missing_some: [1, ['a', 'nope']] },
  { missing_some: [2, ['a', 'nope', 'nada']] },
  { if: [{ var: 'f' }, 'yes', 'no'] },
  { if: [false, 1, { var: 't' }, 2, 3] },
  { if: [false, 1] },
  { '?:': [true, 'x', 'y'] },
  { and: [true, 'a', 0, 'never'] },
  { and: [1, 2, 3] },
  { or: [false, 0, '', 'first'] },
  { or: [false, 0] },
  { filter: [{ var: 'list' }, { '>=': [{ var: '' }, 2] }] },
  { map: [{ var: 'list' }, { '+': [{ var: '' }, 1] }] },
  { reduce: [{ var: 'list' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 10] },
  { reduce: [{ var: 'nul' }, { '+': [1, 1] }, 7] },
  { all: [{ var: 'list' }, { '>': [{ var: '' }, 0] }] },
  { all: [{ var: 'empty' }, { '>': [{ var: '' }, 0] }] },
  { none: [{ var: 'list' }, { '>': [{ var: '' }, 2] }] },
  { some: [{ var: 'list' }, { '>': [{ var: '' }, 2] }] },
  { some: [{ var: 'nul' }, true] },
  [1, { var: 'a' }, 'x'],
  { a: 1, b: 2 },
  'plain',
  42,
];

describe('parity with json-logic-js for the standard operators', () => {
  it.each(CASES.map((c) => [JSON.stringify(c), c]))('%s', (_name, expr) => {
    const ours = compileExpression(expr).evaluate(structuredClone(data));
    const theirs = jsonLogic.apply(expr as jsonLogic.RulesLogic, structuredClone(data));
    expect(ours).toEqual(theirs);
  });
});
