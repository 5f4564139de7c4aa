/**
 * One error hierarchy for the whole project. Every error has a stable `code`
 * from the one list in error-codes.ts (callers branch on it, never on the
 * message) and a `kind` that says how to treat it: a `user` error (bad rule,
 * bad params: report, don't retry), an `operational` one (rate limit, 5xx,
 * network: retry with backoff) or a `bug`. The kind comes from the list.
 * Messages and fields never carry secrets: they pass through `redact()`.
 */
import { errorKindOf, type ErrorCode, type ErrorKind } from './error-codes.js';
import { redact } from './redact.js';

export type { ErrorCode, ErrorKind } from './error-codes.js';

export interface B24RulesErrorOptions {
  cause?: unknown;
  /** Must be the code's kind in ERROR_CODES (the default); a test checks the constructors that pass it. */
  kind?: ErrorKind;
}

export class B24RulesError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;

  constructor(code: ErrorCode, message: string, options: B24RulesErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = options.kind ?? errorKindOf(code);
  }

  /** Plain object for logs and JSON output (no stack, secrets redacted). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, kind: this.kind, message: this.message };
    for (const [k, v] of Object.entries(this)) {
      if (k === 'cause' || v === undefined) continue;
      out[k] = v;
    }
    return out;
  }
}

/** Invalid configuration (environment, flags, .env). */
export class ConfigError extends B24RulesError {
  constructor(message: string, options: B24RulesErrorOptions = {}) {
    super('CONFIG_INVALID', message, { kind: 'user', ...options });
  }
}

/** Bad command-line usage (exit code 2). */
export class UsageError extends B24RulesError {
  constructor(message: string) {
    super('USAGE', message, { kind: 'user' });
  }
}

/** Wrap anything thrown into a B24RulesError with `code` (and that code's kind), keeping the cause. A B24RulesError is returned as it is. */
export function toB24RulesError(err: unknown, code: ErrorCode = 'UNEXPECTED'): B24RulesError {
  if (err instanceof B24RulesError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new B24RulesError(code, message, { cause: err });
}
