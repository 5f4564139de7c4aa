/**
 * Explanations of a condition's value (engine/logic/explain.ts), table-driven:
 * a negation keeps its `not` (issue 13, item 12: `"!": [{ matches ... }]` was
 * explained as "matches(...) (true) is true", which reads as the opposite of
 * what happened), `!!` explains its operand, and the quantifiers name the
 * element that decided them, with the values read from that element. The last
 * test runs `rules dry-run` as a user does, on the four routing rules of scenario
 * 03 as they were before they became a group (test/fixtures/dry-run/tests/route.yaml:
 * the inbound rule's condition ends with the negated `matches`).
 */
import { describe, expect, it } from 'vitest';
import { compileCondition, compileLogic, explainTrue } from '../../engine/logic/index.js';
import { runCli } from '../helpers/cli.js';

const NOW = '2026-03-10T12:00:00.000Z';
const reason = (expr: unknown, facts: Record<string, unknown>) => compileCondition(expr).evaluate({ now: NOW, ...facts });
const ITEMS = { items: [{ qty: 1 }, { qty: 9 }] };
const gt5 = { '>': [{ var: 'qty' }, 5] };
const REGION = 'урал|сибир';

describe('why a condition is false', () => {
  it.each<[string, unknown, Record<string, unknown>, string]>([
    // Negations keep their "not".
    ['! of a comparison', { '!': [{ '==': [{ var: 'a' }, 1] }] }, { a: 1 }, 'not (a (1) == 1) is false'],
    ['! of matches inside and (scenario 03)', { and: [{ '==': [{ var: 's' }, 'NEW'] }, { '!': [{ matches: [{ var: 'region' }, REGION, 'i'] }] }] }, { s: 'NEW', region: 'Урал' }, `not matches(region ("Урал"), "${REGION}", "i") (true) is false`],
    ['! of a var', { '!': { var: 'done' } }, { done: 'yes' }, 'not done ("yes") is false'],
    ['! of or names the true part', { '!': [{ or: [{ '==': [{ var: 'a' }, 2] }, { '==': [{ var: 'b' }, 2] }] }] }, { a: 1, b: 2 }, 'not (a (1) == 2 or b (2) == 2) is false: b (2) == 2 is true'],
    ['! of and says all parts are true', { '!': [{ and: [{ var: 'a' }, { var: 'b' }] }] }, { a: 1, b: 2 }, 'not (a (1) and b (2)) is false: all are true: a (1) is true; b (2) is true'],
    ['! of !', { '!': [{ '!': [{ var: 'a' }] }] }, { a: 0 }, 'not not a (0) is false: not a (0) is true'],
    ['! inside or', { or: [{ '!': [{ var: 'a' }] }, { '<': [{ var: 'b' }, 1] }] }, { a: 1, b: 2 }, 'none is true: not a (1) is false; b (2) < 1 is false'],
    // !! is truthiness: its operand explains it.
    ['!! of an empty string', { '!!': [{ var: 'email' }] }, { email: '' }, 'email ("") is false'],
    ['!! of an empty list', { '!!': [{ var: 'tags' }] }, { tags: [] }, 'tags ([]) is false'],
    ['! of !!', { '!': [{ '!!': [{ var: 'email' }] }] }, { email: 'x@y' }, 'not !!(email ("x@y")) (true) is false: email ("x@y") is true'],
    // Quantifiers name the deciding element, with values read from it.
    ['none: the element that matches', { none: [{ var: 'items' }, gt5] }, ITEMS, 'none(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},5]}) (false) is false: element 1 ({"qty":9}): qty (9) > 5 is true'],
    ['all: the element that fails', { all: [{ var: 'items' }, gt5] }, ITEMS, 'all(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},5]}) (false) is false: element 0 ({"qty":1}): qty (1) > 5 is false'],
    ['all of an empty list', { all: [{ var: 'items' }, gt5] }, { items: [] }, 'all(items ([]), {">":[{"var":"qty"},5]}) (false) is false: the list is empty'],
    ['some: no element matches', { some: [{ var: 'items' }, { '>': [{ var: 'qty' }, 50] }] }, ITEMS, 'some(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},50]}) (false) is false: none of the 2 elements makes {">":[{"var":"qty"},50]} true'],
    ['some of what is not a list', { some: [{ var: 'items' }, gt5] }, { items: null }, 'some(items (null), {">":[{"var":"qty"},5]}) (false) is false: items (null) is not a list'],
    ['not some: the element that matches', { '!': [{ some: [{ var: 'items' }, gt5] }] }, ITEMS, 'not some(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},5]}) (true) is false: element 1 ({"qty":9}): qty (9) > 5 is true'],
    ['not none: why none is true', { '!': [{ none: [{ var: 'items' }, { '>': [{ var: 'qty' }, 50] }] }] }, ITEMS, 'not none(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},50]}) (true) is false: none of the 2 elements makes {">":[{"var":"qty"},50]} true'],
    // Unchanged forms.
    ['and: the first false part', { and: [{ '==': [{ var: 'a' }, 1] }, { '>': [{ var: 'b' }, 14] }] }, { a: 1, b: 3 }, 'b (3) > 14 is false'],
    ['an operator with its value', { in_list: [{ var: 'a' }, [5, 6]] }, { a: 1 }, 'in_list(a (1), [5, 6]) (false) is false'],
  ])('%s', (_name, expr, facts, expected) => {
    expect(reason(expr, facts)).toEqual({ value: false, reason: expected });
  });
});

describe('why an expression is true (what a negation or a quantifier hides)', () => {
  const why = (expr: unknown, facts: Record<string, unknown>) => explainTrue(compileLogic(expr), { now: NOW, ...facts }, { now: NOW, ...facts });
  it.each<[string, unknown, Record<string, unknown>, string]>([
    ['or: the first true part', { or: [{ var: 'a' }, { var: 'b' }] }, { a: 0, b: 2 }, 'b (2) is true'],
    ['! of a comparison', { '!': [{ '==': [{ var: 'a' }, 2] }] }, { a: 1 }, 'not (a (1) == 2) is true'],
    ['! of and names the false part', { '!': [{ and: [{ var: 'a' }, { var: 'b' }] }] }, { a: 1, b: 0 }, 'not (a (1) and b (0)) is true: b (0) is false'],
    ['some: the element that matches', { some: [{ var: 'items' }, gt5] }, ITEMS, 'some(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},5]}) (true) is true: element 1 ({"qty":9}): qty (9) > 5 is true'],
    ['all: every element', { all: [{ var: 'items' }, { '>': [{ var: 'qty' }, 0] }] }, ITEMS, 'all(items ([{"qty":1},{"qty":9}]), {">":[{"var":"qty"},0]}) (true) is true: each of the 2 elements makes {">":[{"var":"qty"},0]} true'],
  ])('%s', (_name, expr, facts, expected) => {
    expect(why(expr, facts)).toBe(expected);
  });
});

describe('rules dry-run on scenario 03', () => {
  it('says "not matches(...)" for the inbound rule, whose condition ends with "!": [{ matches ... }]', async () => {
    const r = await runCli(['dry-run', 'test/fixtures/dry-run/tests/route.yaml', '--fixtures', 'rules/fixtures/03-route-leads.fixtures.yaml', '--at', '2026-11-24T09:00:00+03:00'], {
      env: { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '' },
    });
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes('route-leads-inbound on lead 303'));
    expect(line).toContain('condition false: not matches(region ("новосибирская область"), "сибир|урал|siberia|ural|новосибирск|екатеринбург", "i") (true) is false');
  });
});
