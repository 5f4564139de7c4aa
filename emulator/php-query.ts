/**
 * PHP-style query strings, as Bitrix24 (a PHP backend) reads them:
 * `fields[TITLE]=X&fields[PHONE][0][VALUE]=1&select[]=ID` becomes nested maps,
 * `a[]` appends to a list. Maps whose keys are exactly 0..n-1 come out as arrays,
 * which is how PHP's json_encode would show them.
 */

/** A PHP array while parsing: ordered keys plus the next integer index `[]` would use. */
class PhpArray {
  readonly entries = new Map<string, unknown>();
  next = 0;

  set(key: string | null, value: unknown): unknown {
    const k = key === null ? String(this.next) : key;
    if (/^(0|[1-9]\d*)$/.test(k) && Number(k) >= this.next) this.next = Number(k) + 1;
    this.entries.set(k, value);
    return value;
  }
}

function decode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    // PHP leaves malformed escapes as they are instead of failing the request.
    return plus.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Split `a[b][][c]` into `['a', 'b', null, 'c']` (null = append). Unbalanced brackets stay part of the name, as in PHP. */
function splitKey(key: string): Array<string | null> {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts: Array<string | null> = [key.slice(0, open)];
  let rest = key.slice(open);
  while (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) break;
    const seg = rest.slice(1, close);
    parts.push(seg === '' ? null : seg);
    rest = rest.slice(close + 1);
  }
  return parts;
}

function finish(value: unknown): unknown {
  if (!(value instanceof PhpArray)) return value;
  const keys = [...value.entries.keys()];
  const sequential = keys.every((k, i) => k === String(i));
  if (sequential && keys.length > 0) return keys.map((k) => finish(value.entries.get(k)));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = finish(value.entries.get(k));
  return out;
}

/** Parse a query string (without the leading `?`) the way PHP's parse_str does. */
export function parsePhpQuery(qs: string): Record<string, unknown> {
  const root = new PhpArray();
  for (const pair of qs.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (rawKey === '') continue;
    const path = splitKey(rawKey);
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] ?? null;
      if (i === path.length - 1) {
        node.set(seg, value);
        break;
      }
      const existing = seg === null ? undefined : node.entries.get(seg);
      node = existing instanceof PhpArray ? existing : (node.set(seg, new PhpArray()) as PhpArray);
    }
  }
  const out = finish(root);
  return Array.isArray(out) ? Object.fromEntries(out.map((v, i) => [String(i), v])) : (out as Record<string, unknown>);
}

/** Encode a JSON-like value as a PHP-style query string (`a[b][0]=x`), the inverse of parsePhpQuery. */
export function stringifyPhpQuery(params: Record<string, unknown>): string {
  const out: string[] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null) {
      out.push(`${encodeURIComponent(prefix)}=`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(`${prefix}[${i}]`, v));
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(`${prefix}[${k}]`, v);
    } else {
      const s = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(s)}`);
    }
  };
  for (const [k, v] of Object.entries(params)) walk(k, v);
  return out.join('&');
}
