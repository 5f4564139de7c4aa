/**
 * The json-logic operators: the standard set of json-logic-js (same semantics,
 * minus `log`, which would print) and the project's own from
 * docs/rule-format.md. Operators that need the clock read `facts.now` (an ISO
 * string the engine supplies), so evaluation is deterministic for tests and for
 * `dry-run --at`. Lazy operators (if, and, or, map, ...) live in compile.ts.
 */
import { parsePhoneNumberFromString, isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import type { Facts } from '../rules/index.js';
import { DATE_UNITS, addUnits, isValidTimeZone, parseDate, parseDays, parseHours, unitsSince, wallClock, type DateUnit } from './dates.js';
import { LogicError } from './errors.js';
import { safeRegExp } from './safe-regex.js';

/** What an operator sees besides its arguments: the data in scope and the whole facts (clock, changes). */
export interface OpContext {
  data: unknown;
  facts: Facts;
}

export type OpFn = (args: unknown[], ctx: OpContext) => unknown;

export interface OperatorDef {
  fn: OpFn;
  /** Allowed argument counts [min, max]. */
  arity: [number, number];
  /** One-line usage for messages. */
  usage: string;
  /** Compile-time check of literal arguments: a message (LOGIC_ARGUMENTS) or the LogicError to report when wrong. */
  check?(args: unknown[]): string | LogicError | undefined;
}

/** json-logic truthiness: an empty array is false. */
export const truthy = (v: unknown): boolean => !!v && !(Array.isArray(v) && v.length === 0);

// json-logic's == and != are JavaScript's loose equality by definition.
const std: Record<string, OperatorDef> = {
  '==': { fn: ([a, b]) => a == b, arity: [2, 2], usage: '{ "==": [a, b] }' },
  '===': { fn: ([a, b]) => a === b, arity: [2, 2], usage: '{ "===": [a, b] }' },
  '!=': { fn: ([a, b]) => a != b, arity: [2, 2], usage: '{ "!=": [a, b] }' },
  '!==': { fn: ([a, b]) => a !== b, arity: [2, 2], usage: '{ "!==": [a, b] }' },
  '>': { fn: ([a, b]) => (a as number) > (b as number), arity: [2, 2], usage: '{ ">": [a, b] }' },
  '>=': { fn: ([a, b]) => (a as number) >= (b as number), arity: [2, 2], usage: '{ ">=": [a, b] }' },
  '<': { fn: ([a, b, c]) => (c === undefined ? (a as number) < (b as number) : (a as number) < (b as number) && (b as number) < (c as number)), arity: [2, 3], usage: '{ "<": [a, b] } or { "<": [low, x, high] }' },
  '<=': { fn: ([a, b, c]) => (c === undefined ? (a as number) <= (b as number) : (a as number) <= (b as number) && (b as number) <= (c as number)), arity: [2, 3], usage: '{ "<=": [a, b] }' },
  '!!': { fn: ([a]) => truthy(a), arity: [1, 1], usage: '{ "!!": [a] }' },
  '!': { fn: ([a]) => !truthy(a), arity: [1, 1], usage: '{ "!": [a] }' },
  '%': { fn: ([a, b]) => (a as number) % (b as number), arity: [2, 2], usage: '{ "%": [a, b] }' },
  in: {
    fn: ([a, b]) => (typeof b === 'string' || Array.isArray(b) ? (b as Array<unknown>).indexOf(a as never) !== -1 : false),
    arity: [2, 2],
    usage: '{ "in": [needle, list_or_string] }',
  },
  cat: { fn: (args) => args.map((a) => (a === undefined || a === null ? '' : String(a))).join(''), arity: [0, Infinity], usage: '{ "cat": ["a", { "var": "x" }] }' },
  substr: {
    fn: ([s, start, end]) => {
      const str = String(s);
      const st = Number(start);
      if (typeof end === 'number' && end < 0) {
        const tmp = str.substr(st);
        return tmp.substr(0, tmp.length + end);
      }
      return end === undefined ? str.substr(st) : str.substr(st, Number(end));
    },
    arity: [2, 3],
    usage: '{ "substr": [s, start, length?] }',
  },
  '+': { fn: (args) => args.reduce<number>((acc, b) => acc + parseFloat(String(b)), 0), arity: [0, Infinity], usage: '{ "+": [a, b] }' },
  '*': {
    fn: (args) => (args.length === 0 ? undefined : args.slice(1).reduce<number>((acc, b) => acc * parseFloat(String(b)), parseFloat(String(args[0])))),
    arity: [1, Infinity],
    usage: '{ "*": [a, b] }',
  },
  '-': { fn: ([a, b]) => (b === undefined ? -(a as number) : (a as number) - (b as number)), arity: [1, 2], usage: '{ "-": [a, b] }' },
  '/': { fn: ([a, b]) => (a as number) / (b as number), arity: [2, 2], usage: '{ "/": [a, b] }' },
  min: { fn: (args) => Math.min(...(args as number[])), arity: [0, Infinity], usage: '{ "min": [a, b] }' },
  max: { fn: (args) => Math.max(...(args as number[])), arity: [0, Infinity], usage: '{ "max": [a, b] }' },
  merge: { fn: (args) => args.reduce<unknown[]>((acc, b) => acc.concat(b), []), arity: [0, Infinity], usage: '{ "merge": [list, list] }' },
  var: { fn: ([path, dflt], ctx) => varLookup(ctx.data, path, dflt), arity: [0, 2], usage: '{ "var": "deal.STAGE_ID" }' },
  missing: {
    fn: (args, ctx) => {
      const keys = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      return keys.filter((k) => {
        const v = varLookup(ctx.data, k, undefined);
        return v === null || v === '';
      });
    },
    arity: [0, Infinity],
    usage: '{ "missing": ["a", "b"] }',
  },
  missing_some: {
    fn: ([need, keys], ctx) => {
      const list = Array.isArray(keys) ? keys : [];
      const missing = std.missing!.fn([list], ctx) as unknown[];
      return list.length - missing.length >= Number(need) ? [] : missing;
    },
    arity: [2, 2],
    usage: '{ "missing_some": [1, ["a", "b"]] }',
  },
};

/** `var` lookup with json-logic's semantics, own properties only. */
export function varLookup(data: unknown, path: unknown, dflt: unknown): unknown {
  const notFound = dflt === undefined ? null : dflt;
  if (path === undefined || path === '' || path === null) return data;
  let cur = data;
  for (const seg of String(path).split('.')) {
    if (cur === null || cur === undefined) return notFound;
    if (!Object.hasOwn(Object(cur), seg)) return notFound;
    cur = (cur as Record<string, unknown>)[seg];
    if (cur === undefined) return notFound;
  }
  return cur;
}

function now(ctx: OpContext): string {
  const n = ctx.facts.now;
  if (typeof n !== 'string' || !parseDate(n)) {
    throw new LogicError('LOGIC_NO_CLOCK', 'facts.now is missing or not an ISO date; the engine must put the current time in facts.now', { kind: 'bug' });
  }
  return n;
}

const since = (unit: DateUnit): OpFn => ([d], ctx) => unitsSince(d, now(ctx), unit);

function checkBusinessConfig(cfg: unknown): string | undefined {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) return 'the schedule must be an object { days, hours, timezone }';
  const c = cfg as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!['days', 'hours', 'timezone'].includes(k)) return `unknown key '${k}' (use days, hours, timezone)`;
  try {
    if (c.days !== undefined) parseDays(String(c.days));
    if (c.hours !== undefined) parseHours(String(c.hours));
  } catch (err) {
    return (err as Error).message;
  }
  if (c.timezone !== undefined && !isValidTimeZone(String(c.timezone))) return `unknown time zone '${String(c.timezone)}' (use an IANA name such as Europe/Berlin)`;
  return undefined;
}

const isLogicNode = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1;

function businessHours(args: unknown[], ctx: OpContext): boolean {
  const [a, b] = args;
  const cfgArg = args.length === 1 ? a : b;
  const dateArg = args.length === 1 ? undefined : a;
  const cfg = (cfgArg ?? {}) as Record<string, unknown>;
  const bad = checkBusinessConfig(cfg);
  if (bad) throw new LogicError('LOGIC_ARGUMENTS', `business_hours: ${bad}`);
  const date = parseDate(dateArg ?? now(ctx));
  if (!date) return false;
  const days = parseDays(String(cfg.days ?? 'Mon-Fri'));
  const { start, end } = parseHours(String(cfg.hours ?? '09:00-18:00'));
  const { weekday, minutes } = wallClock(date, String(cfg.timezone ?? 'UTC'));
  if (start <= end) return days.has(weekday) && minutes >= start && minutes < end;
  // Overnight span: the part after midnight belongs to the previous day's shift.
  if (minutes >= start) return days.has(weekday);
  return minutes < end && days.has((weekday + 6) % 7);
}

function multiField(record: unknown, name: unknown): unknown {
  if (record === null || typeof record !== 'object' || typeof name !== 'string' || !Object.hasOwn(record, name)) return null;
  const v = (record as Record<string, unknown>)[name];
  if (Array.isArray(v)) {
    const first = v[0] as unknown;
    if (first !== null && typeof first === 'object' && Object.hasOwn(first, 'VALUE')) return (first as { VALUE: unknown }).VALUE ?? null;
    return first ?? null;
  }
  return v ?? null;
}

const str = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));

const custom: Record<string, OperatorDef> = {
  days_since: { fn: since('days'), arity: [1, 1], usage: '{ "days_since": [{ "var": "deal.DATE_MODIFY" }] }' },
  hours_since: { fn: since('hours'), arity: [1, 1], usage: '{ "hours_since": [{ "var": "lead.DATE_CREATE" }] }' },
  minutes_since: { fn: since('minutes'), arity: [1, 1], usage: '{ "minutes_since": [{ "var": "event.ts" }] }' },
  date_add: {
    fn: ([d, n, unit]) => addUnits(d, n, unit as DateUnit),
    arity: [3, 3],
    usage: '{ "date_add": [{ "now": [] }, 3, "days"] }',
    check: ([, , unit]) => (typeof unit === 'string' && !DATE_UNITS.includes(unit as DateUnit) ? `unit must be one of ${DATE_UNITS.join(', ')}, got '${unit}'` : undefined),
  },
  now: { fn: (_args, ctx) => now(ctx), arity: [0, 0], usage: '{ "now": [] }' },
  changed: {
    fn: ([field], ctx) => {
      const ch = ctx.facts.changes;
      return typeof field === 'string' && ch !== null && typeof ch === 'object' && Object.hasOwn(ch, field);
    },
    arity: [1, 1],
    usage: '{ "changed": ["STAGE_ID"] }',
  },
  matches: {
    fn: ([value, pattern, flags]) => {
      if (value === null || value === undefined || typeof pattern !== 'string') return false;
      return safeRegExp(pattern, typeof flags === 'string' ? flags : '').test(String(value));
    },
    arity: [2, 3],
    usage: '{ "matches": [{ "var": "contact.NAME" }, "^[A-Z]", "i"] }',
    check: ([, pattern, flags]) => {
      if (typeof pattern !== 'string' || isLogicNode(pattern)) return undefined;
      try {
        safeRegExp(pattern, typeof flags === 'string' ? flags : '');
        return undefined;
      } catch (err) {
        if (err instanceof LogicError) return err;
        throw err;
      }
    },
  },
  in_list: {
    fn: ([value, list]) => {
      if (!Array.isArray(list)) return false;
      const loose = (x: unknown) => (typeof x === 'number' || typeof x === 'string' ? String(x) : x);
      const v = loose(value);
      return list.some((x) => loose(x) === v);
    },
    arity: [2, 2],
    usage: '{ "in_list": [{ "var": "deal.STAGE_ID" }, ["NEW", "PREPARATION"]] }',
  },
  business_hours: {
    fn: businessHours,
    arity: [0, 2],
    usage: '{ "business_hours": [{ "days": "Mon-Fri", "hours": "09:00-18:00", "timezone": "Europe/Berlin" }] }',
    check: (args) => {
      const cfg = args.length === 1 ? args[0] : args[1];
      if (cfg === undefined || isLogicNode(cfg)) return undefined;
      return checkBusinessConfig(cfg);
    },
  },
  lower: { fn: ([s]) => str(s)?.toLowerCase() ?? null, arity: [1, 1], usage: '{ "lower": [{ "var": "contact.EMAIL" }] }' },
  upper: { fn: ([s]) => str(s)?.toUpperCase() ?? null, arity: [1, 1], usage: '{ "upper": [{ "var": "deal.TITLE" }] }' },
  capitalize: {
    fn: ([s]) => {
      const v = str(s);
      return v === null ? null : v.charAt(0).toUpperCase() + v.slice(1);
    },
    arity: [1, 1],
    usage: '{ "capitalize": [{ "var": "contact.NAME" }] }',
  },
  phone_e164: {
    fn: ([s, country]) => {
      const v = str(s);
      if (v === null || v.trim() === '') return null;
      const c = typeof country === 'string' && isSupportedCountry(country.toUpperCase()) ? (country.toUpperCase() as CountryCode) : undefined;
      const p = parsePhoneNumberFromString(v, c);
      return p && p.isPossible() ? p.number : null;
    },
    arity: [1, 2],
    usage: '{ "phone_e164": [{ "field": [{ "var": "contact" }, "PHONE"] }, "DE"] }',
    check: ([, country]) =>
      typeof country === 'string' && !isSupportedCountry(country.toUpperCase()) ? `unknown country '${country}' (use an ISO 3166 code such as DE, US, RU)` : undefined,
  },
  field: { fn: ([record, name]) => multiField(record, name), arity: [2, 2], usage: '{ "field": [{ "var": "contact" }, "PHONE"] }' },
};

/** Operators evaluated with their arguments already computed. */
export const EAGER_OPERATORS: Readonly<Record<string, OperatorDef>> = Object.freeze({ ...std, ...custom });

/** Operators that decide themselves which arguments to evaluate, and in what scope. */
export const LAZY_OPERATORS: Readonly<Record<string, { arity: [number, number]; usage: string }>> = Object.freeze({
  if: { arity: [0, Infinity], usage: '{ "if": [cond, then, else] }' },
  '?:': { arity: [0, Infinity], usage: '{ "?:": [cond, then, else] }' },
  and: { arity: [1, Infinity], usage: '{ "and": [a, b] }' },
  or: { arity: [1, Infinity], usage: '{ "or": [a, b] }' },
  filter: { arity: [2, 2], usage: '{ "filter": [list, { ">": [{ "var": "" }, 1] }] }' },
  map: { arity: [2, 2], usage: '{ "map": [list, { "*": [{ "var": "" }, 2] }] }' },
  reduce: { arity: [2, 3], usage: '{ "reduce": [list, { "+": [{ "var": "current" }, { "var": "accumulator" }] }, 0] }' },
  all: { arity: [2, 2], usage: '{ "all": [list, cond] }' },
  none: { arity: [2, 2], usage: '{ "none": [list, cond] }' },
  some: { arity: [2, 2], usage: '{ "some": [list, cond] }' },
});

/** Names of the project's own operators. */
export const CUSTOM_OPERATOR_NAMES = Object.keys(custom);

/** Every operator a rule may use. */
export const OPERATOR_NAMES: readonly string[] = Object.freeze([...Object.keys(LAZY_OPERATORS), ...Object.keys(EAGER_OPERATORS)]);

/** Operators whose second argument is evaluated per list element (with the element as data). */
export const SCOPED_OPERATORS = new Set(['filter', 'map', 'reduce', 'all', 'none', 'some']);
