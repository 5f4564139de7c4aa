/**
 * PHP-style query strings, the form batch commands take (API-FACTS §1.2, §3.1):
 * `crm.lead.add?fields[TITLE]=A%26B&fields[PHONE][0][VALUE]=1&select[0]=ID`.
 * Nested objects become bracketed keys, arrays get numeric indexes, `true` and
 * `false` become 1 and 0 (as PHP's http_build_query), null/undefined and empty
 * arrays or objects are left out. Keys keep their brackets literal; every
 * segment and value is percent-encoded, except that `$`, `[` and `]` stay
 * readable in values so `$result[cmd][ID]` references look as the docs show
 * them (the portal decodes the query before it substitutes references, so
 * either form works).
 */
import type { Params } from './types.js';

function encodeKey(segment: string): string {
  return encodeURIComponent(segment);
}

function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/%24/g, '$').replace(/%5B/g, '[').replace(/%5D/g, ']');
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

function walk(prefix: string, value: unknown, out: string[]): void {
  const s = scalar(value);
  if (s !== undefined) {
    out.push(`${prefix}=${encodeValue(s)}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(`${prefix}[${i}]`, v, out));
    return;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(`${prefix}[${encodeKey(k)}]`, v, out);
  }
}

/** Encode params as a PHP-style query string (no leading `?`). */
export function encodeParams(params: Params): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(params)) walk(encodeKey(k), v, out);
  return out.join('&');
}

/** One batch command string: `method?query` (just `method` when there are no params). */
export function encodeCommand(method: string, params: Params = {}): string {
  const q = encodeParams(params);
  return q ? `${method}?${q}` : method;
}

/** The method part of a batch command string. */
export function commandMethod(command: string): string {
  const i = command.indexOf('?');
  return (i < 0 ? command : command.slice(0, i)).trim();
}
