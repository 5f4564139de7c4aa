/**
 * What one HTTP answer of the portal means: a result envelope, or the typed
 * error (errors.ts) its status and `error` code stand for. The portal's load
 * refusals also tell the client's own limiters to react (PortalLimits), before
 * the error is built, so an OPERATION_TIME_LIMIT error carries the time its
 * methods are held until.
 */
import type { B24RulesError } from '../errors.js';
import { AuthError, B24ApiError, OutcomeUnknownError, RateLimitError } from './errors.js';
import type { HttpResponse } from './transport.js';
import type { B24Envelope, Params } from './types.js';
import { v3Error } from './v3.js';

/** A result envelope, or the `error`/`error_description` of an answer that is not one. */
export type Answer = { ok: true; envelope: B24Envelope } | FailedAnswer;

export interface FailedAnswer {
  ok: false;
  /** The portal's `error` code ('' when there is none). */
  error: string;
  /** The portal's `error_description` ('' when there is none). */
  description: string;
  /** The body is not a JSON object. */
  unreadable: boolean;
}

/** How the client reacts to the portal's load refusals. */
export interface PortalLimits {
  /** 503 QUERY_LIMIT_EXCEEDED: the portal's request bucket is full. */
  queryLimit(): void;
  /** 429 OPERATION_TIME_LIMIT: the methods' execution budget is spent; returns when (ms since epoch) they may run again. */
  operatingLimit(): number;
}

/** The call an answer belongs to. */
export interface AnswerContext {
  method: string;
  params: Params;
  /** Whether the call may be re-sent when its outcome is unknown. */
  idempotent: boolean;
  /** The portal's base URL (a redirect's target is reported by origin). */
  base: URL;
  limits: PortalLimits;
}

/** Read an answer: an envelope with `result`, no `error` and a status below 400 is a success. */
export function readAnswer(res: HttpResponse): Answer {
  const parsed = parseBody(res.body);
  if (parsed && 'result' in parsed && !('error' in parsed && parsed.error) && res.status < 400) {
    return { ok: true, envelope: parsed as unknown as B24Envelope };
  }
  // REST 3.0's shape: {"error":{"code","message","validation"}} (v3.ts).
  const v3 = v3Error(parsed);
  if (v3) return { ok: false, error: v3.error, description: v3.error_description, unreadable: false };
  const error = parsed && typeof parsed.error === 'string' ? parsed.error : parsed && parsed.error ? JSON.stringify(parsed.error) : '';
  const description = parsed && typeof parsed.error_description === 'string' ? parsed.error_description : '';
  return { ok: false, error, description, unreadable: parsed === undefined };
}

/** The portal says the OAuth token is no longer good: refresh it once and send again. */
export function isExpiredToken(error: string): boolean {
  return error === 'expired_token' || error === 'invalid_token';
}

/** The typed error for an answer that is not a result. */
export function answerError(res: HttpResponse, answer: FailedAnswer, ctx: AnswerContext): B24RulesError {
  const { method } = ctx;
  const { status } = res;
  if (status >= 300 && status < 400) {
    // Never follow: a redirect would turn the POST into a GET, and the new address belongs in the configuration.
    let where = 'another address';
    try {
      if (res.location) where = new URL(res.location, ctx.base).origin;
    } catch {
      /* keep the generic text */
    }
    return new B24ApiError('B24_PORTAL_MOVED', { method, status, error: `HTTP_${status}`, errorDescription: `the portal answers with a redirect to ${where}; set B24_DOMAIN (or B24_WEBHOOK_URL) to the new address`, kind: 'user' });
  }
  const { error, description, unreadable } = answer;
  const details = { method, status, error, errorDescription: description };
  switch (error) {
    case 'QUERY_LIMIT_EXCEEDED':
      ctx.limits.queryLimit();
      return new RateLimitError('RATE_LIMITED', details);
    case 'OPERATION_TIME_LIMIT':
      return new RateLimitError('OPERATION_TIME_LIMIT', { ...details, resetAt: ctx.limits.operatingLimit() });
    case 'OVERLOAD_LIMIT':
      return new RateLimitError('OVERLOAD_LIMIT', details);
    case 'insufficient_scope':
    case 'BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION':
      return new AuthError('AUTH_INSUFFICIENT_SCOPE', details);
    case 'WRONG_AUTH_TYPE':
      return new AuthError('AUTH_WRONG_TYPE', details);
    case 'expired_token':
    case 'invalid_token':
    case 'NO_AUTH_FOUND':
    case 'INVALID_CREDENTIALS':
    case 'user_access_error':
      return new AuthError('AUTH_FAILED', details);
    case 'ERROR_METHOD_NOT_FOUND':
      return new B24ApiError('B24_METHOD_NOT_FOUND', { ...details, kind: 'user' });
    default:
      break;
  }
  if (status === 429) return new RateLimitError('OPERATION_TIME_LIMIT', { ...details, error: error || 'HTTP_429', resetAt: ctx.limits.operatingLimit() });
  if (status === 401) return new AuthError('AUTH_FAILED', { ...details, error: error || 'HTTP_401' });
  if (status >= 500 || (unreadable && status < 400)) {
    const apiErr = new B24ApiError(status >= 500 ? 'B24_SERVER_ERROR' : 'B24_BAD_RESPONSE', {
      ...details,
      error: error || `HTTP_${status}`,
      errorDescription: description || (unreadable ? 'the answer is not a JSON envelope' : ''),
      kind: 'operational',
    });
    // The portal may have carried the call out before failing to answer.
    if (!ctx.idempotent) return new OutcomeUnknownError(method, ctx.params, { cause: apiErr });
    return apiErr;
  }
  return new B24ApiError('B24_API_ERROR', { ...details, error: error || (unreadable ? `HTTP_${status}` : ''), kind: 'user' });
}

function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
