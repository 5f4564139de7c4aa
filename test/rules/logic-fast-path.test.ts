/**
 * The compiled fast path (engine/logic/nodes.ts, own-path.ts) against the
 * operator table read the plain way (the reference below: every argument
 * evaluated, then the operator's function), on seeded random expressions over
 * facts with missing, null, empty, nested and prototype-named values: the same
 * value or the same error, and `test` is the value's truthiness. Then the lazy
 * explanation (lazy-reason.ts): worked out only when read, once, and the same
 * text and trace JSON as Condition.evaluate gives.
 */
import RE2 from 're2';
import { describe, expect, it } from 'vitest';
import {
  checkCondition,
  compileCondition,
  compileLogic,
  CONDITION_TRUE,
  ConditionSkip,
  EAGER_OPERATORS,
  FalseCondition,
  isOperation,
  REGEX_LIMITS,
  safeRegExp,
  truthy,
} from '../../engine/logic/index.js';

type Facts = Record<string, unknown>;

/** The operators' semantics without any compilation: the table's functions on evaluated arguments. */
function reference(expr: unknown, data: unknown, facts: Facts): unknown {
  if (Array.isArray(expr)) return expr.map((x) => reference(x, data, facts));
  if (!isOperation(expr)) return expr;
  const op = Object.keys(expr)[0]!;
  const raw = expr[op];
  const args = Array.isArray(raw) ? raw : [raw];
  const ev = (a: unknown, d: unknown = data) => reference(a, d, facts);
  switch (op) {
    case 'if':
    case '?:': {
      let i = 0;
      for (; i < args.length - 1; i += 2) if (truthy(ev(args[i]))) return ev(args[i + 1]);
      return args.length === i + 1 ? ev(args[i]) : null;
    }
    case 'and':
    case 'or': {
      let cur: unknown;
      for (const a of args) {
        cur = ev(a);
        if (truthy(cur) === (op === 'or')) return cur;
      }
      return cur;
    }
    case 'filter':
    case 'map':
    case 'all':
    case 'none':
    case 'some': {
      const list = ev(args[0]);
      const hit = (x: unknown) => truthy(ev(args[1], x));
      if (op === 'filter') return Array.isArray(list) ? list.filter(hit) : [];
      if (op === 'map') return Array.isArray(list) ? list.map((x) => ev(args[1], x)) : [];
      if (op === 'all') return Array.isArray(list) && list.length > 0 && list.every(hit);
      if (op === 'none') return !Array.isArray(list) || !list.some(hit);
      return Array.isArray(list) && list.some(hit);
    }
    default:
      return EAGER_OPERATORS[op]!.fn(
        args.map((a) => ev(a)),
        { data, facts },
      );
  }
}

/** mulberry32: the same seed draws the same expressions. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ['lead.STATUS_ID', 'lead.OPPORTUNITY', 'lead.TAGS', 'lead.EMPTY', 'lead.NUL', 'lead.MISSING', 'lead.constructor', 'lead.__proto__', 'lead.toString', 'lead.TAGS.length', 'lead.TAGS.0', 'lead.TITLE.length', 'deep.a.b.c', 'deep.a.b', 'flag', 'zero', 'list', 'nothing.at.all', 'hasOwnProperty', ''];
const CONSTS: unknown[] = [0, 1, 1000, '1000', '', 'NEW', 'new', null, true, false, [], ['NEW', 'WON'], [1, '1000', ''], 'ell'];
const COMPARE = ['==', '===', '!=', '!==', '>', '>=', '<', '<='];

function expression(r: () => number, depth: number): unknown {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const value = (): unknown => (r() < 0.6 ? (r() < 0.2 ? { var: [pick(PATHS), pick(CONSTS)] } : { var: pick(PATHS) }) : pick(CONSTS));
  const sub = () => (depth > 0 && r() < 0.4 ? expression(r, depth - 1) : value());
  switch (Math.floor(r() * 14)) {
    case 0:
    case 1:
    case 2:
      return { [pick(COMPARE)]: [sub(), r() < 0.7 ? pick(CONSTS) : sub()] };
    case 3:
      return { [pick(['!', '!!'])]: [sub()] };
    case 4:
      return { in: [value(), r() < 0.7 ? pick([['NEW', 'WON'], 'hello', [1000, '']]) : value()] };
    case 5:
      return { in_list: [value(), r() < 0.8 ? pick([['NEW', 1000], [1, ''], ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'NEW']]) : value()] };
    case 6:
      return { matches: [value(), pick(['^ne', 'W$', '^\\d+$']), ...(r() < 0.5 ? ['i'] : [])] };
    case 7:
      return { changed: [pick(['STATUS_ID', 'TITLE', 'constructor'])] };
    case 8:
    case 9:
      return { [pick(['and', 'or'])]: Array.from({ length: 1 + Math.floor(r() * 5) }, sub) };
    case 10:
      return { if: [sub(), sub(), sub()] };
    case 11:
      return { [pick(['some', 'all', 'none', 'filter', 'map'])]: [{ var: pick(['list', 'lead.TAGS', 'lead.EMPTY', 'lead.NUL']) }, { '>=': [{ var: '' }, pick([1, 2, '2'])] }] };
    case 12:
      return { [pick(['cat', '+', 'missing'])]: [value(), value()] };
    default:
      return value();
  }
}

const FACTS: Facts[] = [
  { now: '2026-03-10T12:00:00Z', lead: { STATUS_ID: 'NEW', OPPORTUNITY: '1000', TAGS: ['NEW', 'x'], EMPTY: [], NUL: null, TITLE: 'Hello' }, deep: { a: { b: { c: 0 } } }, flag: true, zero: 0, list: [1, 2, 3], changes: { STATUS_ID: {} } },
  { now: '2026-03-10T12:00:00Z', lead: { STATUS_ID: 'WON', OPPORTUNITY: 5, TAGS: [], EMPTY: [1], NUL: 'x', TITLE: '' }, deep: { a: null }, flag: '', zero: '0', list: [], changes: null },
  { now: '2026-03-10T12:00:00Z', lead: null, deep: 'abc', flag: [], list: 'not a list' },
  { now: '2026-03-10T12:00:00Z', lead: 'a string', deep: { a: { b: [] } }, zero: false, list: [3, '2', null] },
  { now: '2026-03-10T12:00:00Z', lead: Object.assign(Object.create(null) as object, { STATUS_ID: 'new', OPPORTUNITY: 999.5 }) },
  { now: '2026-03-10T12:00:00Z' },
];

const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe('the compiled fast path agrees with the operator table', () => {
  it('on 3,000 seeded random expressions over 6 fact shapes: same value or error, and test() is its truthiness', () => {
    const r = rng(12);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const expr = expression(r, 2);
      const node = compileLogic(expr);
      for (const facts of FACTS) {
        const want = outcome(() => reference(expr, facts, facts));
        const got = outcome(() => node.evaluate(facts, facts));
        expect(got, JSON.stringify(expr)).toEqual(want);
        const t = outcome(() => node.test(facts, facts));
        expect(t, `test of ${JSON.stringify(expr)}`).toEqual('error' in want ? want : { value: truthy(want.value) });
        compared++;
      }
    }
    expect(compared).toBe(18_000);
  });

  it('a literal path never reads through a prototype, even one that gained a property after the rule compiled', () => {
    const cond = compileCondition({ or: [{ '==': [{ var: 'lead.polluted' }, 'yes'] }, { in: [{ var: 'lead.polluted' }, ['yes']] }, { var: 'lead.polluted' }] });
    const node = compileLogic({ var: ['lead.polluted', 'fallback'] });
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'yes';
    try {
      expect(cond.test({ lead: {} })).toBe(false);
      expect(node.evaluate({ lead: {} }, {})).toBe('fallback');
      expect(cond.test({ lead: { polluted: 'yes' } })).toBe(true);
    } finally {
      delete proto.polluted;
    }
  });
});

describe('the lazy explanation', () => {
  const source = { and: [{ '==': [{ var: 'lead.STATUS_ID' }, 'NEW'] }, { '>=': [{ var: 'lead.OPPORTUNITY' }, 1000] }] };
  const cond = compileCondition(source);

  /** Facts whose lead counts the reads of OPPORTUNITY: the evaluation reads it once, an explanation again. */
  function counted(opportunity: number) {
    let reads = 0;
    const lead = { STATUS_ID: 'NEW' };
    Object.defineProperty(lead, 'OPPORTUNITY', {
      enumerable: true,
      get: () => {
        reads++;
        return opportunity;
      },
    });
    return { facts: { lead }, reads: () => reads };
  }

  it('a true condition is the shared true outcome, with nothing to explain', () => {
    const { facts } = counted(5000);
    expect(checkCondition(cond, facts)).toBe(CONDITION_TRUE);
    expect(JSON.stringify({ condition: CONDITION_TRUE })).toBe('{"condition":{"value":true}}');
  });

  it('a false one is explained only when its reason is read, once, with the text Condition.evaluate gives', () => {
    const { facts, reads } = counted(10);
    const c = checkCondition(cond, facts);
    expect(c).toBeInstanceOf(FalseCondition);
    expect(c.value).toBe(false);
    expect(reads()).toBe(1);
    const skip = new ConditionSkip(c as FalseCondition);
    expect(skip.kind).toBe('skip');
    expect(reads()).toBe(1);
    const why = (c as FalseCondition).reason;
    expect(reads()).toBeGreaterThan(1);
    const after = reads();
    expect(skip.reason).toBe(`condition false: ${why}`);
    expect(reads()).toBe(after);
    expect(why).toBe('lead.OPPORTUNITY (10) >= 1000 is false');
    expect(cond.evaluate(counted(10).facts)).toEqual({ value: false, reason: why });
  });

  it('an explanation that fails says so instead of failing whoever journals the skip', () => {
    const failing = { source: {}, refs: [], evaluate: () => ({ value: false }), test: () => false, explain: (): string => { throw new Error('no clock') } };
    expect(new ConditionSkip(checkCondition(failing, {}) as FalseCondition).reason).toBe('condition false: <no explanation: no clock>');
  });

  it('a trace that holds it is written as before: { value: false, reason }', () => {
    const { facts } = counted(10);
    const trace = { rule: 'r', condition: checkCondition(cond, facts) };
    expect(JSON.parse(JSON.stringify(trace))).toEqual({ rule: 'r', condition: cond.evaluate(facts) });
  });
});

describe('matches remembers the answers for short inputs', () => {
  it("gives RE2's answer for every input: repeated, longer than the memo takes, and more than it keeps", () => {
    const pattern = '^ab+c$|урал';
    const re = safeRegExp(pattern, 'i');
    const fresh = new RE2(pattern, 'i');
    const inputs = [
      ...Array.from({ length: REGEX_LIMITS.memoSize * 3 }, (_, i) => (i % 3 ? `ab${'b'.repeat(i % 50)}c` : `x${i}`)),
      'УРАЛ',
      'Урал',
      `${'a'.repeat(REGEX_LIMITS.memoInputChars)}урал`,
      'a'.repeat(REGEX_LIMITS.memoInputChars * 2),
    ];
    for (let round = 0; round < 2; round++) for (const s of inputs) expect(re.test(s), s).toBe(fresh.test(s));
    expect(re.lastIndex).toBe(0);
  });
});
