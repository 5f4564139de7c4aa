/**
 * Secret redaction. Webhook codes, access/refresh tokens and client secrets must
 * never reach a log line, an error message, a stack trace or a printed URL.
 *
 * Two mechanisms: known secret values are registered at start-up
 * (`registerSecret`) and replaced wherever they appear; and patterns catch the
 * shapes secrets take in Bitrix24 traffic even when the value was never
 * registered (the code in `/rest/{user}/{code}/`, `auth=`, `access_token=`...,
 * the password in `https://user:password@host/`).
 */

const MASK = '[REDACTED]';
/** Secrets registered for the life of the process (configuration: webhook codes, client secrets). */
const fixed = new Set<string>();
/** Secrets that rotate (a portal's token pairs), by slot: a slot's values replace its previous ones. */
const slots = new Map<string, Set<string>>();
/** Every secret of both, longest first, rebuilt when they change. */
let secrets: string[] = [];

function rebuild(): void {
  const all = new Set(fixed);
  for (const values of slots.values()) for (const v of values) all.add(v);
  // Longest first: a secret that contains a shorter one is masked whole.
  secrets = [...all].sort((a, b) => b.length - a.length);
}

const usable = (value: unknown): value is string => typeof value === 'string' && value.length >= 6;

/**
 * Remember a secret value so that every later `redact()` hides it, for the life of the process. Short values are
 * ignored (too many false hits). For values that rotate (OAuth pairs) use registerSecretSlot, or the set grows with
 * every rotation.
 */
export function registerSecret(value: string | undefined | null): void {
  if (!usable(value) || fixed.has(value)) return;
  fixed.add(value);
  rebuild();
}

/**
 * Keep `values` as the secrets of `slot` (e.g. one portal's tokens), replacing what the slot held before: so the
 * secrets of a rotating credential stay bounded (a caller that wants the previous pair masked too passes it again).
 * Values kept by registerSecret or by another slot stay masked.
 */
export function registerSecretSlot(slot: string, values: ReadonlyArray<string | undefined | null>): void {
  const next = new Set(values.filter(usable));
  const prev = slots.get(slot);
  if (prev && prev.size === next.size && [...next].every((v) => prev.has(v))) return;
  if (next.size === 0) slots.delete(slot);
  else slots.set(slot, next);
  rebuild();
}

/** How many distinct secret values are registered now (tests: the set stays bounded). */
export function registeredSecretCount(): number {
  return secrets.length;
}

/** Forget all registered secrets (tests). */
export function clearSecrets(): void {
  fixed.clear();
  slots.clear();
  secrets = [];
}

const PATTERNS: Array<[RegExp, string]> = [
  // Incoming webhook URL: /rest/{user}/{code}/...
  [/(\/rest\/\d+\/)([A-Za-z0-9_-]{4,})(?=\/|$|\?|\s|"|')/g, `$1${MASK}`],
  // Query-string or form parameters that carry credentials.
  [/\b((?:auth|access_token|refresh_token|client_secret|application_token|code|password)=)[^&\s"']+/gi, `$1${MASK}`],
  // JSON properties that carry credentials.
  [/("(?:auth|access_token|refresh_token|client_secret|application_token|webhookCode|webhook_code|password|secret)"\s*:\s*")[^"]*(")/gi, `$1${MASK}$2`],
  // Bearer headers.
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, `$1${MASK}`],
  // The password of a URL's userinfo: scheme://user:PASSWORD@host (the user name stays, to tell accounts apart).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*:)[^\s/?#@"'<>]+(@)/gi, `$1${MASK}$2`],
];

/** What every pattern above needs somewhere in the text: most strings (names, numbers, dates) have none, and skip the patterns. */
const MAY_MATCH = /\/rest\/|=|"|Bearer|@/;

/** Return `text` with every registered secret and every credential-shaped substring masked. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  if (!MAY_MATCH.test(out)) return out;
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

const SECRET_KEYS = /^(auth|access_token|refresh_token|client_secret|application_token|webhook_code|webhookCode|password|secret|token|accessToken|refreshToken|clientSecret|applicationToken)$/i;

/** Deep copy of a JSON-like value with secret-named keys masked and strings redacted. Used by the logger and by traces. */
export function redactValue<T>(value: T, depth = 0): T {
  if (depth > 20) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1)) as T;
  // Error's message and stack are not enumerable: copy them explicitly or they vanish from the log record.
  if (value instanceof Error) return redactError(value, depth) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEYS.test(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = MASK;
      else if (k === 'auth' && v && typeof v === 'object') out[k] = redactAuthObject(v as Record<string, unknown>);
      else out[k] = redactValue(v, depth + 1);
    }
    return out as T;
  }
  return value;
}

function redactError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: redact(err.message) };
  if (err.stack) out.stack = redact(err.stack);
  for (const [k, v] of Object.entries(err)) out[k] = SECRET_KEYS.test(k) ? MASK : redactValue(v, depth + 1);
  if (err.cause !== undefined && depth < 5) out.cause = redactValue(err.cause, depth + 1);
  return out;
}

function redactAuthObject(auth: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(auth)) out[k] = /token|secret/i.test(k) ? MASK : redactValue(v, 1);
  return out;
}

export { MASK as REDACTED };
