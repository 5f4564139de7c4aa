/**
 * `http: { url, method, headers, body, timeout_ms }`: an external request, made by
 * the executor (never batched). Its response (`NAME.status`, `NAME.body`) is
 * available to later actions: planning continues after it resolves. Every
 * request carries `Idempotency-Key: <effect key>` so a receiver can drop a
 * repeat after an in-doubt retry.
 */
import { ActionConfigError } from './errors.js';
import { objectOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

/** @default values of http action options */
export const DEFAULTS = {
  /** @default 10000 */
  timeoutMs: 10_000,
  /** @default 'POST' when a body is given, else 'GET' */
  method: undefined as string | undefined,
};

export function plan(config: Record<string, unknown>, ctx: PlanContext): ActionOutcome {
  const url = config.url;
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new ActionConfigError('http', `url is not an absolute URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ActionConfigError('http', `url must be http(s), got ${parsed.protocol}`);
  const method = String(config.method ?? DEFAULTS.method ?? (config.body === undefined ? 'GET' : 'POST')).toUpperCase();
  const headers: Record<string, string> = { 'idempotency-key': ctx.effectKey };
  for (const [k, v] of Object.entries(objectOpt('http', config, 'headers', false) ?? {})) if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
  const timeout = Number(config.timeout_ms ?? config.timeoutMs ?? DEFAULTS.timeoutMs);
  const request = { url: parsed.toString(), method, headers, timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULTS.timeoutMs };
  return { kind: 'http', request: config.body === undefined ? request : { ...request, body: config.body } };
}

export const httpAction: ActionKind = { kind: 'http', plan };
