/**
 * Template filters (`{{ value | filter: arg }}`), as listed in
 * docs/rule-format.md. Filters are pure; date filters take their input from the
 * value, never from the system clock.
 */
import { addUnits, formatDate, parseDate } from '../logic/index.js';

export interface FilterDef {
  /** Whether the filter takes an argument after `:`. */
  arg: 'none' | 'required' | 'optional';
  /** Checks a literal argument at compile time; returns a message when it is wrong. */
  check?(arg: unknown): string | undefined;
  apply(value: unknown, arg: unknown): unknown;
  /** One-line example for hints. */
  example: string;
}

const isMissing = (v: unknown) => v === undefined || v === null;
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
const needNumber = (a: unknown) => (typeof a === 'number' && Number.isFinite(a) ? undefined : 'needs a number');
const needCount = (a: unknown) => (typeof a === 'number' && Number.isInteger(a) && a >= 0 ? undefined : 'needs a whole number >= 0');

export const FILTERS: Readonly<Record<string, FilterDef>> = Object.freeze({
  default: {
    arg: 'required',
    apply: (v, a) => (isMissing(v) || v === '' ? a : v),
    example: '{{ deal.TITLE | default: "(no title)" }}',
  },
  lower: { arg: 'none', apply: (v) => (isMissing(v) ? v : str(v).toLowerCase()), example: '{{ contact.EMAIL | lower }}' },
  upper: { arg: 'none', apply: (v) => (isMissing(v) ? v : str(v).toUpperCase()), example: '{{ deal.TITLE | upper }}' },
  trim: { arg: 'none', apply: (v) => (isMissing(v) ? v : str(v).trim()), example: '{{ request.body.name | trim }}' },
  json: { arg: 'none', apply: (v) => JSON.stringify(v ?? null), example: '{{ request.body | json }}' },
  iso: { arg: 'none', apply: (v) => parseDate(v)?.toISOString(), example: '{{ deal.DATE_MODIFY | iso }}' },
  add_days: { arg: 'required', check: needNumber, apply: (v, a) => addUnits(v, a, 'days') ?? undefined, example: '{{ now | add_days: -14 | iso }}' },
  add_hours: { arg: 'required', check: needNumber, apply: (v, a) => addUnits(v, a, 'hours') ?? undefined, example: '{{ now | add_hours: 2 }}' },
  date: {
    arg: 'required',
    check: (a) => (typeof a === 'string' && a !== '' ? undefined : 'needs a format such as YYYY-MM-DD'),
    apply: (v, a) => formatDate(v, String(a)),
    example: '{{ deal.CLOSEDATE | date: DD.MM.YYYY }}',
  },
  truncate: {
    arg: 'required',
    check: needCount,
    apply: (v, a) => (isMissing(v) ? v : str(v).slice(0, Number(a))),
    example: '{{ deal.COMMENTS | truncate: 100 }}',
  },
  join: {
    arg: 'optional',
    apply: (v, a) => (Array.isArray(v) ? v.map((x) => (isMissing(x) ? '' : str(x))).join(a === undefined ? ', ' : str(a)) : v),
    example: '{{ deal.TAGS | join: ", " }}',
  },
});

export const FILTER_NAMES = Object.keys(FILTERS);
