/**
 * Request-body helpers shared by the webhook receivers: a size-capped reader,
 * a parser for Bitrix24's bracket-nested form encoding
 * (`data[FIELDS][ID]=7&auth[application_token]=...`), and a constant-time
 * secret comparison.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { canonicalSha256 } from '../canonical-json.js';
import { B24RulesError } from '../errors.js';

/** The request body could not be read or parsed; `status` is what to answer. */
export class RequestBodyError extends B24RulesError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('REQUEST_BODY_INVALID', message, { kind: 'user' });
  }
}

/** Read the whole body, refusing more than `limit` bytes (413). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new RequestBodyError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new RequestBodyError(413, `body larger than ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Parse `application/x-www-form-urlencoded` with bracket nesting into nested
 * objects: `a[b][c]=1` → `{a:{b:{c:'1'}}}`; `a[]=1&a[]=2` → `{a:['1','2']}`.
 * Values stay strings, as PHP (and so Bitrix24) sends them.
 */
export function parseNestedForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    const path = m ? [m[1] as string, ...[...(m[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1] as string)] : [rawKey];
    if (path.some((p) => UNSAFE_KEYS.has(p))) continue;
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      const last = i === path.length - 1;
      if (Array.isArray(node)) {
        if (last) {
          node.push(value);
        } else {
          const child = Object.create(null) as Record<string, unknown>;
          node.push(child);
          node = child;
        }
        continue;
      }
      if (last) {
        if (key === '') continue;
        node[key] = value;
        break;
      }
      const nextIsArray = path[i + 1] === '';
      let child = node[key];
      if (child === undefined || typeof child !== 'object' || child === null) {
        child = nextIsArray ? [] : (Object.create(null) as Record<string, unknown>);
        node[key] = child;
      }
      node = child as Record<string, unknown> | unknown[];
      if (nextIsArray && Array.isArray(node)) {
        node.push(value);
        break;
      }
    }
  }
  return toPlain(root) as Record<string, unknown>;
}

function toPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** Parse a body by its content type: JSON, form (nested brackets) or, failing both, `{ text }`. */
export function parseBody(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = body.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new RequestBodyError(400, 'body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new RequestBodyError(400, 'JSON body must be an object');
    }
    return parsed as Record<string, unknown>;
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') return parseNestedForm(text);
  if (type === 'text/plain') return { text };
  throw new RequestBodyError(415, `unsupported content type '${type}': send application/json or application/x-www-form-urlencoded`);
}

/** Constant-time string comparison (hashing first, so lengths do not leak either). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Stable sha256 of a JSON value (keys sorted), for idempotency keys. */
export function stableHash(value: unknown): string {
  return canonicalSha256(value).slice(0, 32);
}

export function sendJson(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
