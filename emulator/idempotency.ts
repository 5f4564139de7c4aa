/**
 * REST 3.0's `Idempotency-Key` (api-reference/rest-v3.md#idempotency): the
 * first successful answer of a write is kept for 24 hours, per app or webhook,
 * user and method; a repeat with the same key and the same body gets it back
 * (`Idempotent-Replayed: true`) without running, the same key with another
 * body is 422 BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION, and a
 * key that is not 1–255 printable ASCII characters is 400
 * BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION. A failed call is not
 * kept: its repeat runs. A repeat that arrives while the first still runs runs
 * too (the answer is kept only once it is done), as the docs warn.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../engine/canonical-json.js';
import { PortalError, type Params } from './types.js';

/** How long a successful answer is kept. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

const KEY = /^[\x20-\x7e]{1,255}$/;

/** Keys kept at most (the oldest go first), so a long-running emulator does not grow without end. */
const KEPT = 50_000;

interface Kept {
  at: number;
  body: string;
  status: number;
  text: string;
}

/** What to do with a keyed write: run it, or answer it from the first success. */
export type KeyCheck = { replay: { status: number; text: string } } | { run: (status: number, text: string) => void };

export class IdempotencyCache {
  readonly #kept = new Map<string, Kept>();

  /**
   * Check `key` for a write of `method` by `credential` acting as `userId`, with these params (the `auth` token
   * left out: the docs key the answer by the app or webhook and the user, and a refreshed token would otherwise
   * make a repeat another body; UNCONFIRMED). Throws the portal's 400/422 errors.
   */
  check(key: string, scope: { credential: string; userId: number; method: string }, params: Params | unknown[], now: number): KeyCheck {
    if (!KEY.test(key)) throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION', 'The Idempotency-Key header must be 1 to 255 printable ASCII characters');
    const id = `${scope.credential}|${scope.userId}|${scope.method.toLowerCase()}|${key}`;
    const body = createHash('sha256').update(canonicalJson(params)).digest('hex');
    const kept = this.#kept.get(id);
    if (kept && now - kept.at < IDEMPOTENCY_WINDOW_MS) {
      if (kept.body !== body) throw new PortalError(422, 'BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION', 'The Idempotency-Key was already used with another request body');
      return { replay: { status: kept.status, text: kept.text } };
    }
    return {
      run: (status, text) => {
        if (status !== 200) return;
        this.#kept.delete(id);
        this.#kept.set(id, { at: now, body, status, text });
        if (this.#kept.size > KEPT) this.#kept.delete(this.#kept.keys().next().value as string);
      },
    };
  }
}
