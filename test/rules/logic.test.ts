import { describe, expect, it } from 'vitest';
import { compileCondition, compileExpression, compileLogic, LogicError, logicRefs, OPERATOR_NAMES, unsafeReason, safeRegExp } from '../../engine/logic/index.js';

const NOW = '2026-03-10T12:00:00.000Z';
const ev = (expr: unknown, facts: Record<string, unknown> = {}) => compileExpression(expr).evaluate({ now: NOW, ...facts });

describe('custom operators', () => {
  it('days_since / hours_since / minutes_since count whole units from facts.now', () => {
    expect(ev({ days_since: ['2026-03-01T12:00:00Z'] })).toBe(9);
    expect(ev({ days_since: ['2026-03-09T13:00:00Z'] })).toBe(0);
    expect(ev({ hours_since: ['2026-03-10T09:30:00Z'] })).toBe(2);
    expect(ev({ minutes_since: ['2026-03-10T11:58:59Z'] })).toBe(1);
    expect(ev({ days_since: ['2026-03-12T12:00:00Z'] })).toBe(-2);
    expect(ev({ days_since: [{ var: 'deal.DATE_MODIFY' }] }, { deal: { DATE_MODIFY: '2026-02-01T15:00:00+03:00' } })).toBe(37);
    expect(ev({ days_since: ['not a date'] })).toBeNull();
    expect(ev({ days_since: [{ var: 'deal.MISSING' }] }, { deal: {} })).toBeNull();
  });

  it('the clock is facts.now, never the system clock', () => {
    const e = compileExpression({ days_since: ['2000-01-01T00:00:00Z'] });
    expect(e.evaluate({ now: '2000-01-11T00:00:00Z' })).toBe(10);
    expect(e.evaluate({ now: '2001-01-01T00:00:00Z' })).toBe(366);
    expect(() => e.evaluate({})).toThrow(LogicError);
    try {
      e.evaluate({});
    } catch (err) {
      expect((err as LogicError).code).toBe('LOGIC_NO_CLOCK');
    }
  });

  it('now and date_add', () => {
    expect(ev({ now: [] })).toBe(NOW);
    expect(ev({ date_add: [{ now: [] }, 3, 'days'] })).toBe('2026-03-13T12:00:00.000Z');
    expect(ev({ date_add: ['2026-03-10T12:00:00Z', -90, 'minutes'] })).toBe('2026-03-10T10:30:00.000Z');
    expect(ev({ date_add: ['2026-03-10T12:00:00Z', '2', 'hours'] })).toBe('2026-03-10T14:00:00.000Z');
    expect(ev({ date_add: ['garbage', 2, 'hours'] })).toBeNull();
  });

  it('changed reads facts.changes', () => {
    const c = { changes: { STAGE_ID: { from: 'NEW', to: 'WON' } } };
    expect(ev({ changed: ['STAGE_ID'] }, c)).toBe(true);
    expect(ev({ changed: ['TITLE'] }, c)).toBe(false);
    expect(ev({ changed: ['STAGE_ID'] })).toBe(false);
    expect(ev({ changed: ['constructor'] }, c)).toBe(false);
  });

  it('matches, with flags, and refuses catastrophic patterns', () => {
    expect(ev({ matches: ['Hello', '^h', 'i'] })).toBe(true);
    expect(ev({ matches: ['Hello', '^h'] })).toBe(false);
    expect(ev({ matches: [null, '.*'] })).toBe(false);
    expect(ev({ matches: [12345, '^\\d{5}$'] })).toBe(true);
    expect(() => ev({ matches: ['aaaa', { var: 'p' }] }, { p: '(a+)+$' })).toThrow(/nested quantifiers/);
  });

  it.each([
    ['(a+)+$', 'nested quantifiers'],
    ['(a*)*', 'nested quantifiers'],
    ['((ab)+c)+', 'nested quantifiers'],
    ['(\\d+)*', 'nested quantifiers'],
    ['([a-z]+)+', 'nested quantifiers'],
    ['(a|aa)+', 'repeated alternation'],
    ['(a)\\1', 'backreferences'],
    ['(?=a)a', 'lookahead'],
    ['(?<!a)b', 'lookahead and lookbehind'],
    ['a'.repeat(201), 'at most 200'],
  ])('unsafe pattern %s', (pattern, why) => {
    expect(unsafeReason(pattern)).toContain(why);
  });

  it.each(['^\\+?[0-9 ()-]{7,20}$', 'сибир|урал|siberia', '^(foo|bar)$', '(ab)+c', '^[a-z]+@[a-z]+\\.[a-z]{2,}$', '(?:x)?y+', '\\(a+\\)+'])('safe pattern %s', (pattern) => {
    expect(unsafeReason(pattern)).toBeUndefined();
    expect(safeRegExp(pattern)).toBeInstanceOf(RegExp);
  });

  it('refuses flags other than i, m, s, u', () => {
    expect(unsafeReason('a', 'g')).toContain("flag 'g'");
    expect(unsafeReason('a', 'y')).toContain("flag 'y'");
  });

  it('in_list compares strings and numbers loosely', () => {
    expect(ev({ in_list: ['5', [1, 5]] })).toBe(true);
    expect(ev({ in_list: [5, ['5']] })).toBe(true);
    expect(ev({ in_list: ['', [1, '']] })).toBe(true);
    expect(ev({ in_list: [null, [1, '']] })).toBe(false);
    expect(ev({ in_list: ['WON', 'WON'] })).toBe(false);
  });

  it('business_hours in a time zone, with the clock from facts.now', () => {
    const cfg = { days: 'Mon-Fri', hours: '09:00-18:00', timezone: 'Europe/Berlin' };
    // 2026-03-10 is a Tuesday; 12:00Z is 13:00 in Berlin.
    expect(ev({ business_hours: [cfg] })).toBe(true);
    expect(ev({ business_hours: ['2026-03-10T17:30:00Z', cfg] })).toBe(false); // 18:30 Berlin
    expect(ev({ business_hours: ['2026-03-10T07:59:00Z', cfg] })).toBe(false); // 08:59 Berlin
    expect(ev({ business_hours: ['2026-03-10T08:00:00Z', cfg] })).toBe(true); // 09:00 Berlin
    expect(ev({ business_hours: ['2026-03-14T12:00:00Z', cfg] })).toBe(false); // Saturday
    expect(ev({ business_hours: ['2026-03-14T12:00:00Z', { ...cfg, days: 'Mon-Fri,Sat' }] })).toBe(true);
    expect(ev({ business_hours: ['2026-03-10T05:00:00Z', { days: 'Mon-Fri', hours: '09:00-18:00', timezone: 'Asia/Tokyo' }] })).toBe(true); // 14:00 Tokyo
    // Overnight shift Mon-Fri 22:00-06:00: Saturday 02:00 belongs to Friday's shift.
    const night = { days: 'Mon-Fri', hours: '22:00-06:00', timezone: 'UTC' };
    expect(ev({ business_hours: ['2026-03-14T02:00:00Z', night] })).toBe(true);
    expect(ev({ business_hours: ['2026-03-15T02:00:00Z', night] })).toBe(false);
    expect(ev({ business_hours: ['2026-03-10T23:00:00Z', night] })).toBe(true);
  });

  it('string helpers', () => {
    expect(ev({ lower: ['ÄbC'] })).toBe('äbc');
    expect(ev({ upper: ['abc'] })).toBe('ABC');
    expect(ev({ capitalize: ['anna'] })).toBe('Anna');
    expect(ev({ lower: [null] })).toBeNull();
  });

  it('phone_e164 normalizes with libphonenumber-js', () => {
    expect(ev({ phone_e164: ['030 1234567', 'DE'] })).toBe('+49301234567');
    expect(ev({ phone_e164: ['+1 (415) 555-2671'] })).toBe('+14155552671');
    expect(ev({ phone_e164: ['8 (912) 345-67-89', 'ru'] })).toBe('+79123456789');
    expect(ev({ phone_e164: ['12', 'DE'] })).toBeNull();
    expect(ev({ phone_e164: ['', 'DE'] })).toBeNull();
  });

  it('field reads the first value of a multi-field', () => {
    const contact = { PHONE: [{ VALUE: '+491', VALUE_TYPE: 'WORK' }, { VALUE: '+492' }], EMAIL: [], NAME: 'Ann' };
    expect(ev({ field: [{ var: 'contact' }, 'PHONE'] }, { contact })).toBe('+491');
    expect(ev({ field: [{ var: 'contact' }, 'EMAIL'] }, { contact })).toBeNull();
    expect(ev({ field: [{ var: 'contact' }, 'NAME'] }, { contact })).toBe('Ann');
    expect(ev({ field: [{ var: 'contact' }, 'FAX'] }, { contact })).toBeNull();
  });
});

describe('compilation', () => {
  it('rejects unknown operators with the list of known ones', () => {
    let err: LogicError | undefined;
    try {
      compileLogic({ and: [{ '==': [1, 1] }, { eval: ['process.exit()'] }] });
    } catch (e) {
      err = e as LogicError;
    }
    expect(err?.code).toBe('LOGIC_UNKNOWN_OPERATOR');
    expect(err?.path).toEqual(['and', 1, 'eval']);
    expect(err?.hint).toContain('days_since');
    expect(OPERATOR_NAMES).not.toContain('log');
    expect(OPERATOR_NAMES).not.toContain('method');
  });

  it('collects every problem when asked to', () => {
    const problems: LogicError[] = [];
    compileLogic({ and: [{ nope: [] }, { days_since: [] }, { matches: ['x', '(a+)+'] }, { date_add: ['x', 1, 'weeks'] }] }, problems);
    expect(problems.map((p) => p.code)).toEqual(['LOGIC_UNKNOWN_OPERATOR', 'LOGIC_ARGUMENTS', 'REGEX_UNSAFE', 'LOGIC_ARGUMENTS']);
    expect(problems[3]?.message).toContain('unit must be one of minutes, hours, days');
  });

  it("takes a literal argument's problem code from the check's own error, not from its message", () => {
    const problems: LogicError[] = [];
    compileLogic({ and: [{ matches: ['x', '('] }, { matches: ['x', '(a+)+'] }, { phone_e164: ['x', 'ZZ'] }] }, problems);
    expect(problems.map((p) => p.code)).toEqual(['REGEX_INVALID', 'REGEX_UNSAFE', 'LOGIC_ARGUMENTS']);
    expect(problems.map((p) => p.kind)).toEqual(['user', 'user', 'user']);
    expect(problems[0]?.hint).toContain('linear time');
    expect(problems[1]?.message).toMatch(/^'matches': regular expression refused: nested quantifiers/);
    expect(problems[2]?.hint).toContain('phone_e164');
  });

  it('var reads own properties only', () => {
    expect(ev({ var: 'deal.constructor' }, { deal: {} })).toBeNull();
    expect(ev({ var: 'deal.__proto__' }, { deal: {} })).toBeNull();
    expect(ev({ var: ['deal.X', 'dflt'] }, { deal: {} })).toBe('dflt');
  });

  it('finds the names an expression reads, outside per-element scopes', () => {
    const refs = logicRefs({ and: [{ var: 'deal.ID' }, { some: [{ var: 'rows' }, { '==': [{ var: 'x' }, { var: '' }] }] }, { missing: ['owner.NAME'] }] });
    expect(refs.map((r) => r.name)).toEqual(['deal', 'rows', 'owner']);
    expect(refs[0]?.path).toEqual(['and', 0, 'var']);
  });

  it('map/filter/reduce/all/none/some scope var to the element', () => {
    const facts = { items: [1, 2, 3, 4] };
    expect(ev({ filter: [{ var: 'items' }, { '>': [{ var: '' }, 2] }] }, facts)).toEqual([3, 4]);
    expect(ev({ map: [{ var: 'items' }, { '*': [{ var: '' }, 10] }] }, facts)).toEqual([10, 20, 30, 40]);
    expect(ev({ reduce: [{ var: 'items' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] }, facts)).toBe(10);
    expect(ev({ all: [{ var: 'items' }, { '>': [{ var: '' }, 0] }] }, facts)).toBe(true);
    expect(ev({ none: [{ var: 'items' }, { '>': [{ var: '' }, 9] }] }, facts)).toBe(true);
    expect(ev({ some: [{ var: 'items' }, { '==': [{ var: '' }, 3] }] }, facts)).toBe(true);
    // Operators that need the clock still find it inside a per-element scope.
    expect(ev({ map: [{ var: 'dates' }, { days_since: [{ var: '' }] }] }, { dates: ['2026-03-09T12:00:00Z'] })).toEqual([1]);
  });
});

describe('conditions and reasons', () => {
  const cond = (expr: unknown) => compileCondition(expr);

  it('names the first false part of an and, with the values seen', () => {
    const c = cond({ and: [{ '==': [{ var: 'deal.STAGE_SEMANTIC_ID' }, 'P'] }, { '>': [{ var: 'days_idle' }, 14] }] });
    expect(c.evaluate({ now: NOW, deal: { STAGE_SEMANTIC_ID: 'P' }, days_idle: 3 })).toEqual({ value: false, reason: 'days_idle (3) > 14 is false' });
    expect(c.evaluate({ now: NOW, deal: { STAGE_SEMANTIC_ID: 'S' }, days_idle: 30 })).toEqual({ value: false, reason: 'deal.STAGE_SEMANTIC_ID ("S") == "P" is false' });
    expect(c.evaluate({ now: NOW, deal: { STAGE_SEMANTIC_ID: 'P' }, days_idle: 30 })).toEqual({ value: true });
    expect(c.refs).toEqual(['deal', 'days_idle']);
  });

  it('describes operators with their computed value', () => {
    const c = cond({ '>': [{ days_since: [{ var: 'deal.DATE_MODIFY' }] }, 14] });
    expect(c.evaluate({ now: NOW, deal: { DATE_MODIFY: '2026-03-05T12:00:00Z' } }).reason).toBe('days_since(deal.DATE_MODIFY ("2026-03-05T12:00:00Z")) (5) > 14 is false');
  });

  it('explains or, not and nested and', () => {
    const facts = { now: NOW, a: 1, b: 2 };
    expect(cond({ or: [{ '==': [{ var: 'a' }, 2] }, { '==': [{ var: 'b' }, 3] }] }).evaluate(facts).reason).toBe('none is true: a (1) == 2 is false; b (2) == 3 is false');
    // Issue 13, item 12: this line pinned the defect ('a (1) == 1 is true', the "!" dropped); the negation now stays in the reason.
    expect(cond({ '!': [{ '==': [{ var: 'a' }, 1] }] }).evaluate(facts).reason).toBe('not (a (1) == 1) is false');
    expect(cond({ and: [true, { and: [{ '<': [{ var: 'b' }, 1] }] }] }).evaluate(facts).reason).toBe('b (2) < 1 is false');
    expect(cond({ in_list: [{ var: 'a' }, [5, 6]] }).evaluate(facts).reason).toBe('in_list(a (1), [5, 6]) (false) is false');
  });

  it('treats values by json-logic truthiness', () => {
    expect(cond({ var: 'list' }).evaluate({ list: [] }).value).toBe(false);
    expect(cond({ var: 'list' }).evaluate({ list: [0] }).value).toBe(true);
    expect(cond({ var: 's' }).evaluate({ s: '0' }).value).toBe(true);
  });
});
