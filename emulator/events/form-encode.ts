/**
 * Encode a nested value as an `application/x-www-form-urlencoded` body with
 * PHP-style bracket keys (`data[FIELDS][ID]=7`), the way a portal's queue
 * server posts events to handlers. Scalars become strings, `true`/`false`
 * become `1`/`` as PHP's http_build_query writes them, and null is left out.
 */
export function encodeForm(value: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [key, v] of Object.entries(value)) append(pairs, key, v);
  return pairs.join('&');
}

function append(pairs: string[], key: string, value: unknown): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => append(pairs, `${key}[${i}]`, item));
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) append(pairs, `${key}[${k}]`, v);
    return;
  }
  const text = typeof value === 'boolean' ? (value ? '1' : '') : String(value);
  pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
}
