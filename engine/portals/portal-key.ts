/**
 * Portal identities and addresses. Portals are keyed by Bitrix24's
 * `member_id` (a domain can change). A webhook portal added by URL has no
 * member_id the engine can ask for (a webhook cannot call `app.info`, and
 * nothing a webhook reads carries it), so unless one is given its key is
 * `webhook:` + the first 32 hex of sha256(`<base URL>|<user id>`): stable
 * for one portal address and webhook user, and never the webhook's code.
 */
import { createHash } from 'node:crypto';
import { REDACTED } from '../redact.js';
import { PortalsError } from './errors.js';

/** A webhook URL's parts: the portal's base URL (scheme, host, port, path prefix), the user and the code. */
export interface WebhookParts {
  baseUrl: string;
  userId: string;
  code: string;
}

/** Parse `https://portal.bitrix24.com/rest/{user}/{code}/`; PORTAL_INVALID with the expected shape otherwise. */
export function parseWebhookUrl(value: string): WebhookParts {
  const shape = "a webhook URL looks like 'https://your-portal.bitrix24.com/rest/{user id}/{webhook code}/'";
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new PortalsError('PORTAL_INVALID', `the webhook URL is not a URL: ${shape}`, { kind: 'user' });
  }
  const m = /^(.*?)\/rest\/(\d+)\/([A-Za-z0-9_-]+)\/?$/.exec(url.pathname);
  if (!m || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.username) {
    throw new PortalsError('PORTAL_INVALID', `the webhook URL has the wrong shape: ${shape}`, { kind: 'user' });
  }
  return { baseUrl: `${url.origin}${m[1] ?? ''}`, userId: m[2] as string, code: m[3] as string };
}

/** The webhook URL with its code masked: what lists and logs show. */
export function maskWebhookUrl(value: string): string {
  try {
    const { baseUrl, userId } = parseWebhookUrl(value);
    return `${baseUrl}/rest/${userId}/${REDACTED}/`;
  } catch {
    return REDACTED;
  }
}

/** The key of a webhook portal that was given no member_id. */
export function webhookPortalKey(parts: Pick<WebhookParts, 'baseUrl' | 'userId'>): string {
  return `webhook:${createHash('sha256').update(`${parts.baseUrl}|${parts.userId}`).digest('hex').slice(0, 32)}`;
}

/** The host (and port) of a base URL or REST endpoint: a portal's `domain`. */
export function domainOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The portal's base URL from an OAuth `client_endpoint` (`https://x.bitrix24.com/rest/` → `https://x.bitrix24.com`). */
export function baseUrlOfEndpoint(clientEndpoint: string): string {
  return clientEndpoint.replace(/\/+$/, '').replace(/\/rest$/, '');
}

const MEMBER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const RULE_SET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Check a member_id given by hand (letters, digits, `_ . : -`, at most 100). */
export function checkMemberId(value: string): string {
  if (!MEMBER_ID.test(value)) throw new PortalsError('PORTAL_INVALID', `a member_id is letters, digits and _ . : - (at most 100); got '${value}'`, { kind: 'user' });
  return value;
}

/** Check a rule set name: a sub-folder of `<rules dir>/portals/` (letters, digits, `_ . -`, no path). */
export function checkRuleSet(value: string): string {
  if (!RULE_SET.test(value) || value.includes('..')) {
    throw new PortalsError('PORTAL_INVALID', `a rule set is the name of a folder under <rules dir>/portals/ (letters, digits, _ . -); got '${value}'`, { kind: 'user' });
  }
  return value;
}
