/**
 * Just enough of a portal for batch and list tests: PHP-style query parsing of
 * batch command strings, `$result[...]` substitution the way the portal does it
 * (after parsing; a whole-value reference takes the referenced value, a missing
 * path leaves the partial value), halt, and result/result_error/result_total/
 * result_next containers (PHP empty arrays as []).
 */
export type MethodImpl = (params: Record<string, unknown>) => { result: unknown; total?: number; next?: number };

export class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description = '',
  ) {
    super(error);
  }
}

/** Parse a PHP query string into nested objects (`a[b][]=1&a[b][]=2` → {a: {b: ['1', '2']}}). */
export function parsePhpQuery(query: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  if (!query) return root;
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    const first = rawKey.indexOf('[');
    const head = first < 0 ? rawKey : rawKey.slice(0, first);
    const segs = first < 0 ? [] : [...rawKey.slice(first).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string);
    let cur: Record<string, unknown> = root;
    let key = head;
    for (const seg of segs) {
      if (!(key in cur) || typeof cur[key] !== 'object') cur[key] = {};
      const next = cur[key] as Record<string, unknown>;
      cur = next;
      key = seg === '' ? String(Object.keys(next).length) : seg;
    }
    cur[key] = value;
  }
  return root;
}

function processElement(value: string, results: Record<string, unknown>): unknown {
  const m = /\$result((?:\[[^\]]+\])+)/.exec(value);
  if (!m) return value;
  let r: unknown = results;
  for (const seg of [...(m[1] as string).matchAll(/\[([^\]]+)\]/g)].map((x) => x[1] as string)) {
    if (r && typeof r === 'object' && seg in (r as object)) r = (r as Record<string, unknown>)[seg];
    else break;
  }
  if (m[0] === value) return r;
  return typeof r === 'string' || typeof r === 'number' ? value.replace(m[0], String(r)) : value;
}

function substitute(v: unknown, results: Record<string, unknown>): unknown {
  if (typeof v === 'string') return processElement(v, results);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, results)]));
  return v;
}

/** Run a portal `batch` over the given method implementations; returns the `result` of the batch envelope. */
export function runBatch(body: Record<string, unknown>, methods: Record<string, MethodImpl>, onCommand?: (method: string, params: Record<string, unknown>) => void) {
  const cmd = body.cmd as Record<string, string>;
  const halt = body.halt === 1 || body.halt === '1' || body.halt === true;
  const result: Record<string, unknown> = {};
  const resultError: Record<string, unknown> = {};
  const total: Record<string, unknown> = {};
  const next: Record<string, unknown> = {};
  for (const [key, line] of Object.entries(cmd)) {
    const q = line.indexOf('?');
    const method = q < 0 ? line : line.slice(0, q);
    const params = substitute(parsePhpQuery(q < 0 ? '' : line.slice(q + 1)), result) as Record<string, unknown>;
    onCommand?.(method, params);
    const impl = methods[method];
    try {
      if (!impl) throw new PortalError(404, 'ERROR_METHOD_NOT_FOUND', `Method '${method}' not found`);
      const r = impl(params);
      result[key] = r.result;
      if (r.total !== undefined) total[key] = r.total;
      if (r.next !== undefined) next[key] = r.next;
    } catch (err) {
      const e = err instanceof PortalError ? err : new PortalError(500, 'INTERNAL', String(err));
      resultError[key] = { error: e.error, error_description: e.description };
      if (halt) break;
    }
  }
  const php = (o: Record<string, unknown>) => (Object.keys(o).length ? o : []);
  return { result: php(result), result_error: php(resultError), result_total: php(total), result_next: php(next), result_time: [] };
}
