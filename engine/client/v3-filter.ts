/**
 * REST 3.0 filters (api-reference/rest-v3.md#filter): an array of conditions
 * joined by AND, each `[field, operator, value]` or `[field, value]` (`=`, or
 * `in` for a list), and `{logic: 'or', conditions: [...]}` for OR. Operators:
 * `=`, `!=`, `>`, `>=`, `<`, `<=`, `in`, `between`. A REST 1 filter object
 * (`{">=ID": 5, "!STATUS": "X", "ID": [1, 2]}`) is turned into that form, so a
 * caller may write either; field names are kept as given (REST 3.0 names are
 * the camelCase ones of its pages: `id`, `responsibleId`). What REST 3.0
 * cannot say (a `%` LIKE, an unknown operator) is refused before anything is
 * sent, with the field.
 */
import { B24RulesError } from '../errors.js';

/** The operators REST 3.0 documents. */
export const V3_OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'in', 'between'] as const;
export type V3Operator = (typeof V3_OPERATORS)[number];

/** One condition, or a group of them. */
export type V3Condition = [string, V3Operator, unknown] | { logic: 'and' | 'or'; conditions: V3Condition[] };

/** REST 1 prefix → REST 3.0 operator, longest first. */
const PREFIXES: Array<[string, V3Operator]> = [
  ['>=', '>='],
  ['<=', '<='],
  ['!=', '!='],
  ['!@', '!='],
  ['=', '='],
  ['>', '>'],
  ['<', '<'],
  ['!', '!='],
  ['@', 'in'],
];

function invalid(message: string): B24RulesError {
  return new B24RulesError('V3_FILTER_INVALID', `REST 3.0 filter: ${message}`, { kind: 'user' });
}

function isOperator(v: unknown): v is V3Operator {
  return typeof v === 'string' && (V3_OPERATORS as readonly string[]).includes(v);
}

function condition(c: unknown, where: string): V3Condition {
  if (Array.isArray(c)) {
    const [field, a, b] = c as unknown[];
    if (typeof field !== 'string' || field === '') throw invalid(`${where} must start with a field name; got ${JSON.stringify(c)}`);
    if (c.length === 2) return [field, Array.isArray(a) ? 'in' : '=', a];
    if (c.length !== 3) throw invalid(`${where} (${field}) must be [field, operator, value] or [field, value]`);
    if (!isOperator(a)) throw invalid(`${where} (${field}): unknown operator ${JSON.stringify(a)}; REST 3.0 has ${V3_OPERATORS.join(', ')}`);
    if ((a === 'in' || a === 'between') && !Array.isArray(b)) throw invalid(`${where} (${field}): '${a}' takes a list`);
    return [field, a, b];
  }
  if (c && typeof c === 'object') {
    const { logic, conditions } = c as { logic?: unknown; conditions?: unknown };
    if ((logic !== 'or' && logic !== 'and') || !Array.isArray(conditions)) throw invalid(`${where} must be a condition or {logic: 'or', conditions: [...]}`);
    return { logic, conditions: conditions.map((x, i) => condition(x, `${where}.conditions[${i}]`)) };
  }
  throw invalid(`${where} must be a condition or a group; got ${JSON.stringify(c)}`);
}

/** A REST 1 filter key and value as one condition. */
function fromKey(key: string, value: unknown): V3Condition {
  if (key.startsWith('%') || key.startsWith('!%')) throw invalid(`'${key}': REST 3.0 has no LIKE (%) operator`);
  for (const [prefix, op] of PREFIXES) {
    if (key.startsWith(prefix) && key.length > prefix.length) {
      const field = key.slice(prefix.length);
      if (Array.isArray(value) && (op === '=' || op === 'in')) return [field, 'in', value];
      if (Array.isArray(value) && op === '!=') throw invalid(`'${key}': REST 3.0 has no "not in" operator`);
      return [field, op, value];
    }
  }
  return [key, Array.isArray(value) ? 'in' : '=', value];
}

/** A filter in REST 3.0's array form, from that form (checked) or from a REST 1 filter object. */
export function v3Filter(filter: unknown): V3Condition[] {
  if (filter === undefined || filter === null) return [];
  if (Array.isArray(filter)) return filter.map((c, i) => condition(c, `filter[${i}]`));
  if (typeof filter === 'object') return Object.entries(filter as Record<string, unknown>).map(([k, v]) => fromKey(k, v));
  throw invalid(`a filter is an array of conditions or an object; got ${JSON.stringify(filter)}`);
}
