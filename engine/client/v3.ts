/**
 * REST 3.0 on the wire (api-reference/rest-v3.md; API-FACTS §1.7): calls go to
 * `/rest/api/{user}/{code}/{method}` (webhook) or `/rest/api/{method}` with the
 * token as `auth` in the JSON body (OAuth); the body is JSON only (parameters
 * in the query string are ignored); a `batch` body is a JSON array of
 * `{method, query}` and answers an array of results in the same order; an
 * error is `{"error":{"code":"BITRIX_REST_V3_EXCEPTION_…","message","validation"}}`
 * with a 4xx status. Writes may carry an `Idempotency-Key` header (1–255
 * printable ASCII characters): the portal keeps a successful answer for 24 h
 * per app or webhook, user and method, and answers a repeat with the same key
 * and body from it (`Idempotent-Replayed: true`) without running it again.
 */
import { createHash } from 'node:crypto';
import { B24RulesError } from '../errors.js';
import type { BatchItemResult, Params } from './types.js';

/** The path prefix of REST 3.0 (REST 1 is `rest/`). */
export const V3_PREFIX = 'rest/api/';

/** What the docs allow as a key: 1 to 255 printable ASCII characters. */
const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * The `Idempotency-Key` for a caller's key (the effect ledger's effect key):
 * itself when the portal takes it, else a digest of it, so the same call always
 * carries the same key.
 */
export function idempotencyKey(key: string): string {
  return KEY.test(key) ? key : `b24rules-${createHash('sha256').update(key).digest('hex')}`;
}

/** One call of a REST 3.0 batch: the method and its params as a plain call takes them. */
export interface V3BatchCall {
  method: string;
  query?: Params;
}

/** The body of a REST 3.0 `batch`: the calls as a JSON array, no `cmd` (the REST 1 form is refused). */
export function encodeV3Batch(calls: readonly V3BatchCall[]): Array<{ method: string; query: Params }> {
  if (calls.length === 0) throw new B24RulesError('BATCH_INVALID', 'a REST 3.0 batch needs at least one call', { kind: 'user' });
  return calls.map((c) => ({ method: c.method, query: c.query ?? {} }));
}

/**
 * The outcome of each call of a REST 3.0 batch answer, by index. The docs show
 * only a success (`result` is the array of the calls' results); an element that
 * is an `{error}` object is taken for that call's failure.
 */
export function readV3Batch(result: unknown, count: number): BatchItemResult[] {
  const items = Array.isArray(result) ? result : [];
  return Array.from({ length: count }, (_, i) => {
    const key = String(i);
    if (i >= items.length) return { key, ok: false, error: { error: 'BATCH_NO_RESULT', error_description: 'the portal returned no result for this call' } };
    const item = items[i] as unknown;
    const failed = v3Error(item);
    return failed ? { key, ok: false, error: failed } : { key, ok: true, result: item };
  });
}

/** The code and text of a REST 3.0 error object (`{error:{code,message,validation}}`); undefined when `body` is not one. */
export function v3Error(body: unknown): { error: string; error_description: string } | undefined {
  const e = body && typeof body === 'object' && !Array.isArray(body) ? (body as { error?: unknown }).error : undefined;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return undefined;
  const { code, message, validation } = e as { code?: unknown; message?: unknown; validation?: unknown };
  const parts = [typeof message === 'string' ? message : ''];
  if (Array.isArray(validation)) {
    for (const v of validation as Array<{ field?: unknown; message?: unknown }>) {
      if (v && typeof v === 'object') parts.push(`${typeof v.field === 'string' ? `${v.field}: ` : ''}${typeof v.message === 'string' ? v.message : ''}`);
    }
  }
  return { error: typeof code === 'string' ? code : '', error_description: parts.filter((p) => p !== '').join('; ') };
}
