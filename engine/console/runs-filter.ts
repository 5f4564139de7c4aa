/** The runs list's filter, from a URL's query (the page's form and `/api/runs` take the same parameters). */
import type { RunFilter, RunMode, RunStatus } from '../store/index.js';

export const OUTCOMES: readonly string[] = ['done', 'skipped', 'failed', 'dead', 'active', 'waiting', 'delayed', 'new'];

export const DEFAULTS = {
  /** @default 50 runs a page */
  limit: 50,
  /** @default 500 at most */
  maxLimit: 500,
};

/** The filter as given (for the form) and as the store takes it. */
export interface RunsQuery {
  rule: string;
  record: string;
  outcome: string;
  /** `live` or `shadow` (a mode: shadow rule's runs), or '' for both. */
  mode: string;
  from: string;
  to: string;
  before: number | undefined;
  limit: number;
  filter: RunFilter;
  /** Parameters that could not be read (shown, and answered 400 by the API). */
  problems: string[];
}

/** A time: ISO 8601 (`2026-01-05T09:00Z`; a datetime-local value without offset counts as UTC) or ms since the epoch. */
function parseTime(value: string): number | undefined {
  if (/^\d{10,}$/.test(value)) return Number(value);
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? undefined : t;
}

function positive(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : NaN;
}

/** A `limit` parameter: a whole number from 1, at most `max` (larger ones are clamped); absent or empty: `fallback`. */
export function parseLimit(value: string | null, fallback: number, max: number): { limit: number; problem?: string } {
  const n = positive(value);
  if (n === undefined) return { limit: fallback };
  if (Number.isNaN(n)) return { limit: fallback, problem: `limit must be a whole number from 1 to ${max}; got '${(value ?? '').trim()}'` };
  return { limit: Math.min(n, max) };
}

export function parseRunsQuery(params: URLSearchParams): RunsQuery {
  const get = (k: string) => (params.get(k) ?? '').trim();
  const problems: string[] = [];
  const rule = get('rule');
  const record = get('record');
  const outcome = get('outcome');
  const mode = get('mode');
  const from = get('from');
  const to = get('to');
  const filter: RunFilter = {};
  if (rule) filter.ruleId = rule;
  if (record) filter.recordKey = record;
  if (outcome) {
    if (OUTCOMES.includes(outcome)) filter.status = outcome as RunStatus;
    else problems.push(`outcome must be one of ${OUTCOMES.join(', ')}; got '${outcome}'`);
  }
  if (mode) {
    if (mode === 'live' || mode === 'shadow') filter.mode = mode as RunMode;
    else problems.push(`mode must be live or shadow; got '${mode}'`);
  }
  if (from) {
    const t = parseTime(from);
    if (t === undefined) problems.push(`from must be a time (2026-01-05T09:00Z); got '${from}'`);
    else filter.createdFrom = t;
  }
  if (to) {
    const t = parseTime(to);
    if (t === undefined) problems.push(`to must be a time (2026-01-05T18:00Z); got '${to}'`);
    else filter.createdTo = t;
  }
  let before = positive(params.get('before'));
  if (Number.isNaN(before)) {
    problems.push(`before must be a run id; got '${get('before')}'`);
    before = undefined;
  }
  if (before !== undefined) filter.beforeId = before;
  const { limit, problem } = parseLimit(params.get('limit'), DEFAULTS.limit, DEFAULTS.maxLimit);
  if (problem) problems.push(problem);
  filter.limit = limit;
  return { rule, record, outcome, mode, from, to, before, limit, filter, problems };
}
