/**
 * Request-body helpers shared by the webhook receivers: a size-capped reader,
 * a parser for Bitrix24's bracket-nested form encoding
 * (`data[FIELDS][ID]=7&auth[application_token]=...`), a nesting-depth cap, and
 * a constant-time secret comparison.
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

/** Limits on what a webhook body may be. */
export const DEFAULTS = {
  /** Largest body accepted (413 above it). @default 1 MiB */
  maxBodyBytes: 1024 * 1024,
  /**
   * Deepest nesting accepted (400 above it): objects and arrays inside one
   * another, the body itself being level 1 (`data[FIELDS][ID]=7` is 3 levels).
   * Every later step (the idempotency hash, the stored JSON) walks the body
   * recursively, so a deeper one would overflow the stack. @default 32
   */
  maxDepth: 32,
};

/**
 * Read the whole body, refusing more than `limit` bytes (413). On refusal the
 * rest of the body is left to the HTTP server, which reads and discards it, so
 * the sender still gets the 413 (leaving the loop of an async iterator would
 * destroy the socket under the sender instead).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new RequestBodyError(413, `body larger than ${limit} bytes`));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (buf: Buffer) => {
      size += buf.length;
      if (size > limit) {
        done();
        reject(new RequestBodyError(413, `body larger than ${limit} bytes`));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooDeep(limit: number): RequestBodyError {
  return new RequestBodyError(400, `body nested deeper than ${limit} levels`);
}

/** Whether `value` nests objects and arrays more than `limit` levels deep (iterative: any depth is safe to measure). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Parse `application/x-www-form-urlencoded` with bracket nesting into nested
 * objects: `a[b][c]=1` → `{a:{b:{c:'1'}}}`; `a[]=1&a[]=2` → `{a:['1','2']}`.
 * Values stay strings, as PHP (and so Bitrix24) sends them.
 */
export function parseNestedForm(text: string, maxDepth: number = DEFAULTS.maxDepth): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [rawKey, value] of new URLSearchParams(text)) {
    // A key with k bracket pairs nests k + 1 levels; counting first keeps the parse itself bounded.
    let brackets = 0;
    for (let i = rawKey.indexOf('['); i !== -1; i = rawKey.indexOf('[', i + 1)) if (++brackets >= maxDepth) throw tooDeep(maxDepth);
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

/**
 * Parse a body by its content type: JSON, form (nested brackets) or, failing
 * both, `{ text }`. A body nested more than `maxDepth` levels is refused (400).
 */
export function parseBody(body: Buffer, contentType: string | undefined, maxDepth: number = DEFAULTS.maxDepth): Record<string, unknown> {
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
    if (nestsDeeperThan(parsed, maxDepth)) throw tooDeep(maxDepth);
    return parsed as Record<string, unknown>;
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') return parseNestedForm(text, maxDepth);
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
