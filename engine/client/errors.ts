/**
 * Errors of the Bitrix24 REST client. Callers branch on `code`:
 *
 * | class | code(s) | kind | retried by the client |
 * |---|---|---|---|
 * | B24ApiError | `B24_API_ERROR` (400-class portal error), `B24_METHOD_NOT_FOUND`, `B24_PORTAL_MOVED` (a redirect), `B24_SERVER_ERROR` (5xx), `B24_BAD_RESPONSE` | user / operational | 5xx and bad responses only |
 * | RateLimitError | `RATE_LIMITED` (503 QUERY_LIMIT_EXCEEDED), `OPERATION_TIME_LIMIT` (429), `OVERLOAD_LIMIT` | operational | yes, except OVERLOAD_LIMIT |
 * | AuthError | `AUTH_FAILED`, `AUTH_REFRESH_FAILED`, `AUTH_INSUFFICIENT_SCOPE`, `AUTH_WRONG_TYPE` | user | expired tokens are refreshed once, never retried otherwise |
 * | NetworkError | `NETWORK_ERROR`, `NETWORK_TIMEOUT` | operational | yes (reads, idempotent writes, and anything never sent) |
 * | UntrustedCertificateError | `CONFIG_INVALID` (the portal's TLS certificate is not trusted: B24_CA_FILE) | user | never: nothing was sent |
 * | OutcomeUnknownError | `OUTCOME_UNKNOWN` | operational | never: the caller checks the portal first |
 * | WriteRefusedError | `WRITE_REFUSED` | user | never: nothing was sent |
 * | LeaseLostError | `LEASE_LOST` (the `canSend` guard: a worker lost the portal's lease) | operational | never: nothing was sent |
 *
 * provedNotRun(err) says whether an error proves the portal ran none of the
 * call's commands, so that sending it again cannot do anything twice.
 *
 * Each code's kind, meaning and remedy: engine/error-codes.ts (docs/errors.md).
 * Every message passes through `redact()` (B24RulesError does it), and params
 * carried on an error are deep-redacted, so a webhook code or a token never
 * reaches a log line or a stack trace.
 */
import { errorKindOf } from '../error-codes.js';
import { B24RulesError, type ErrorKind } from '../errors.js';
import { redact, redactValue } from '../redact.js';
import type { Params } from './types.js';

export interface B24ApiErrorDetails {
  /** The REST method (for a batch command, the command's method). */
  method: string;
  /** HTTP status of the answer (0 when there was none). */
  status: number;
  /** The Bitrix24 `error` code (may be '' for legacy CRM methods). */
  error: string;
  /** The Bitrix24 `error_description`. */
  errorDescription: string;
  kind?: ErrorKind;
  cause?: unknown;
}

/** The codes of B24ApiError and its subclasses. */
export type B24ApiErrorCode =
  | 'B24_API_ERROR'
  | 'B24_METHOD_NOT_FOUND'
  | 'B24_PORTAL_MOVED'
  | 'B24_SERVER_ERROR'
  | 'B24_BAD_RESPONSE'
  | 'RATE_LIMITED'
  | 'OPERATION_TIME_LIMIT'
  | 'OVERLOAD_LIMIT'
  | 'AUTH_FAILED'
  | 'AUTH_REFRESH_FAILED'
  | 'AUTH_INSUFFICIENT_SCOPE'
  | 'AUTH_WRONG_TYPE';

/** A portal answer that is an error envelope `{error, error_description}` (or no envelope at all). */
export class B24ApiError extends B24RulesError {
  readonly method: string;
  readonly status: number;
  readonly error: string;
  readonly errorDescription: string;

  constructor(code: B24ApiErrorCode, details: B24ApiErrorDetails, message?: string) {
    const what = details.error || '(no code)';
    super(code, message ?? `${details.method}: ${what}: ${details.errorDescription || 'no description'} (HTTP ${details.status})`, {
      kind: details.kind ?? errorKindOf(code),
      cause: details.cause,
    });
    this.method = details.method;
    this.status = details.status;
    this.error = redact(details.error);
    this.errorDescription = redact(details.errorDescription);
  }
}

/** The portal's own codes for a refusal for load (API-FACTS §2): a request or batch command refused with one of them did not run. */
export const PORTAL_LIMIT_CODES: ReadonlySet<string> = new Set(['QUERY_LIMIT_EXCEEDED', 'OPERATION_TIME_LIMIT', 'OVERLOAD_LIMIT']);

/**
 * The portal refused for load: 503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT, 503 OVERLOAD_LIMIT.
 * The portal refuses such a request before it runs any of it, so a refused `batch` ran none of its
 * commands (provedNotRun): it may be sent again like a read, whatever its commands do.
 */
export class RateLimitError extends B24ApiError {
  /** For OPERATION_TIME_LIMIT: when (ms since epoch) the method's budget is expected to allow calls again, if known. */
  readonly resetAt?: number;
  /**
   * For batch() sent as several requests: the results of the requests that ran before the refused one
   * (redacted). Then the refusal does not prove that nothing of the call ran: those commands did.
   */
  readonly completed?: Record<string, unknown>;

  constructor(code: 'RATE_LIMITED' | 'OPERATION_TIME_LIMIT' | 'OVERLOAD_LIMIT', details: B24ApiErrorDetails & { resetAt?: number; completed?: Record<string, unknown> }) {
    super(code, { ...details, kind: 'operational' });
    this.resetAt = details.resetAt;
    this.completed = details.completed === undefined ? undefined : redactValue(details.completed);
  }
}

/** Authentication or authorization failed: bad webhook code or token, a failed refresh, a missing scope, the wrong auth type. */
export class AuthError extends B24ApiError {
  constructor(
    code: 'AUTH_FAILED' | 'AUTH_REFRESH_FAILED' | 'AUTH_INSUFFICIENT_SCOPE' | 'AUTH_WRONG_TYPE',
    details: B24ApiErrorDetails,
    message?: string,
  ) {
    super(code, { ...details, kind: 'user' }, message);
  }
}

/** No usable HTTP answer: connection refused, reset, DNS failure, timeout. `sent` says whether the request may have reached the portal. */
export class NetworkError extends B24RulesError {
  readonly method: string;
  /** The low-level code (ECONNREFUSED, UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT...). */
  readonly errno: string;
  /** False only when the request provably never left (connection refused, DNS failure, connect timeout). */
  readonly sent: boolean;
  /** For batch() sent as several requests: the results of the requests that ran before this one (redacted). */
  readonly completed?: Record<string, unknown>;

  constructor(method: string, errno: string, sent: boolean, options: { cause?: unknown; timeout?: boolean; completed?: Record<string, unknown> } = {}) {
    super(
      options.timeout ? 'NETWORK_TIMEOUT' : 'NETWORK_ERROR',
      `${method}: ${options.timeout ? 'timed out' : 'network error'} (${errno}${sent ? ', request was sent' : ', request was not sent'})`,
      { kind: 'operational', cause: options.cause },
    );
    this.method = method;
    this.errno = errno;
    this.sent = sent;
    this.completed = options.completed === undefined ? undefined : redactValue(options.completed);
  }
}

/**
 * The portal's (or its token server's) TLS certificate is not signed by a
 * trusted authority: a self-signed or private-CA certificate, such as the one
 * `rules emulator --tls` makes. Nothing was sent, and retrying cannot help:
 * the fix is the configuration, B24_CA_FILE (or NODE_EXTRA_CA_CERTS), so the
 * code is CONFIG_INVALID and the message names the variable.
 */
export class UntrustedCertificateError extends B24RulesError {
  readonly method: string;
  /** The TLS check that failed (DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE ...). */
  readonly errno: string;
  /** Always false: the TLS handshake failed before anything was written. */
  readonly sent = false;
  /** The B24_CA_FILE in use, if any. */
  readonly caFile?: string;

  constructor(method: string, errno: string, options: { caFile?: string; cause?: unknown } = {}) {
    const fix =
      options.caFile === undefined
        ? 'If the portal (or a proxy in front of it, or `rules emulator --tls`) uses a self-signed or private certificate, set B24_CA_FILE to the PEM file of the CA that signed it (for `rules emulator --tls`: the ca_file of its ready line), or start Node with NODE_EXTRA_CA_CERTS=<that file>'
        : `B24_CA_FILE (${options.caFile}) is in use but does not hold the CA that signed this certificate (a restarted \`rules emulator --tls\` makes a new one: use the ca_file of its latest ready line)`;
    super('CONFIG_INVALID', `${method}: the server's TLS certificate is not trusted (${errno}); nothing was sent. ${fix}`, { cause: options.cause });
    this.method = method;
    this.errno = errno;
    this.caFile = options.caFile;
  }
}

/**
 * A write that is not safe to repeat (an `.add`, a send, a start...) may or may
 * not have reached the portal: the connection dropped or timed out after the
 * request was written, or a 5xx came back. The client does not re-send it; the
 * engine's effect ledger looks the record up by its origin marker (ORIGIN_ID)
 * and decides. `params` are the call's params (redacted copy).
 */
export class OutcomeUnknownError extends B24RulesError {
  readonly method: string;
  readonly params: Params;
  /** For batch(): results of the chunks that completed before the one in doubt. */
  readonly completed?: Record<string, unknown>;
  /** For batch(): the commands of the request in doubt (key, method, params; redacted). */
  readonly commands?: Array<{ key: string; method: string; params: Params }>;

  constructor(
    method: string,
    params: Params,
    options: { cause?: unknown; completed?: Record<string, unknown>; commands?: Array<{ key: string; method: string; params: Params }> } = {},
  ) {
    const why = options.cause instanceof Error ? options.cause.message : 'no answer';
    super('OUTCOME_UNKNOWN', `${method}: not re-sent because it is unknown whether the portal carried it out (${why})`, {
      kind: 'operational',
      cause: options.cause,
    });
    this.method = method;
    this.params = redactValue(params);
    this.completed = options.completed === undefined ? undefined : redactValue(options.completed);
    this.commands = options.commands === undefined ? undefined : redactValue(options.commands);
  }
}

/** The client is read-only (dry-run) and the call would write. Nothing was sent. */
export class WriteRefusedError extends B24RulesError {
  readonly method: string;
  /** For a batch: the key of the command that would write. */
  readonly command?: string;

  constructor(method: string, command?: string) {
    super(
      'WRITE_REFUSED',
      command === undefined
        ? `${method} writes (or is not known to be read-only) and the client is read-only; nothing was sent`
        : `batch command '${command}' (${method}) writes (or is not known to be read-only) and the client is read-only; nothing was sent`,
      { kind: 'user' },
    );
    this.method = method;
    this.command = command;
  }
}

/**
 * The client's `canSend` guard said no: this process no longer holds the
 * portal's lease (a worker of `rules run --state postgres://...`), so the
 * request was not sent. Never retried by the client; provedNotRun, so the
 * engine keeps the call to send again wherever the portal is served next.
 */
export class LeaseLostError extends B24RulesError {
  readonly method: string;
  /** Always false: the guard runs before anything is written to a socket. */
  readonly sent = false;
  /** For batch() sent as several requests: the results of the requests that ran before this one (redacted). */
  readonly completed?: Record<string, unknown>;

  constructor(method: string, options: { completed?: Record<string, unknown>; cause?: unknown } = {}) {
    super('LEASE_LOST', `${method}: not sent: this worker no longer holds the portal's lease`, { kind: 'operational', cause: options.cause });
    this.method = method;
    this.completed = options.completed === undefined ? undefined : redactValue(options.completed);
  }
}

/**
 * Whether a client error proves that sending the same call again cannot do
 * anything twice, because the portal ran none of its commands:
 *
 * - RateLimitError (503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT,
 *   503 OVERLOAD_LIMIT): the portal refuses for load before running anything;
 *   for a `batch`, none of its commands ran;
 * - NetworkError with `sent: false`: the request never left (connection
 *   refused, DNS failure, connect timeout);
 * - UntrustedCertificateError, WriteRefusedError, LeaseLostError: nothing was sent.
 *
 * For batch() sent as several requests, an error carrying `completed` is not
 * such proof: the requests before the failed one ran. Anything else (an
 * OutcomeUnknownError, a 5xx, a dropped answer, a 4xx) proves nothing.
 *
 * "None ran" is about the attempt the error comes from. An earlier attempt of
 * the same call that may have reached the portal (a dropped answer, a 5xx) is
 * re-sent by the client only for reads and idempotent writes, where one more
 * run changes nothing; for any other write it is OutcomeUnknownError at once.
 */
export function provedNotRun(err: unknown): boolean {
  if (err instanceof RateLimitError || err instanceof NetworkError || err instanceof LeaseLostError) {
    if (err.completed !== undefined) return false;
    return err instanceof RateLimitError || !err.sent;
  }
  return err instanceof UntrustedCertificateError || err instanceof WriteRefusedError;
}

/** One line for a log record: the message (redacted), with the code when there is one. Logs pass plain text, not Error objects, so nothing is lost to serialization. */
export function errorText(err: unknown): string {
  if (err instanceof B24RulesError) return `${err.code}: ${err.message}`;
  return redact(err instanceof Error ? err.message : String(err));
}
