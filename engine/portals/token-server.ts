/**
 * Checking an install's refresh token at the app's token server
 * (oauth.bitrix.info, or the emulator's): a forged ONAPPINSTALL cannot carry a
 * refresh token that the token server accepts for this app's client_id and
 * secret, and the answer says which portal (member_id) the grant is for.
 * The exchange rotates the pair; the new one is what gets stored.
 */
import { request, type Dispatcher } from 'undici';

/** The application's credentials at the token server. */
export interface AppCredentials {
  clientId: string;
  clientSecret: string;
  /** The token server, e.g. `https://oauth.bitrix.info` (the full `/oauth/token/` endpoint is accepted too). */
  oauthUrl: string;
}

/** A pair the token server issued. */
export interface VerifiedGrant {
  memberId: string;
  accessToken: string;
  refreshToken: string;
  /** ms since the epoch, when the answer says. */
  expiresAt?: number;
  clientEndpoint?: string;
  domain?: string;
}

/** The token server refused the refresh token (or answered nonsense): `reason` is safe to show (no token in it). */
export type GrantCheck = { ok: true; grant: VerifiedGrant } | { ok: false; reason: string };

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  member_id?: unknown;
  expires_in?: unknown;
  expires?: unknown;
  client_endpoint?: unknown;
  domain?: unknown;
  error?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Refresh `refreshToken` at the token server once; never throws for a refusal, only reports it. */
export async function checkRefreshToken(
  app: AppCredentials,
  refreshToken: string,
  options: { dispatcher?: Dispatcher; now?: () => number; timeoutMs?: number } = {},
): Promise<GrantCheck> {
  const base = app.oauthUrl.replace(/\/+$/, '');
  const url = new URL(/\/oauth\/token$/.test(base) ? `${base}/` : `${base}/oauth/token/`);
  url.searchParams.set('grant_type', 'refresh_token');
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('client_secret', app.clientSecret);
  url.searchParams.set('refresh_token', refreshToken);
  const timeout = options.timeoutMs ?? 15_000;
  let status: number;
  let data: TokenAnswer;
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    status = res.statusCode;
    const text = await res.body.text();
    try {
      data = JSON.parse(text) as TokenAnswer;
    } catch {
      return { ok: false, reason: `the token server answered HTTP ${status} without JSON` };
    }
  } catch (err) {
    return { ok: false, reason: `the token server cannot be reached (${(err as { code?: string }).code ?? 'network error'})` };
  }
  const access = str(data.access_token);
  const refresh = str(data.refresh_token);
  const memberId = str(data.member_id);
  if (status !== 200 || !access || !refresh || !memberId) {
    const error = str(data.error);
    return { ok: false, reason: `the token server refused the refresh token (HTTP ${status}${error ? `, ${error.replace(/[^A-Za-z0-9_.-]/g, '')}` : ''})` };
  }
  const now = (options.now ?? Date.now)();
  const expiresAt = typeof data.expires_in === 'number' ? now + data.expires_in * 1000 : typeof data.expires === 'number' ? data.expires * 1000 : undefined;
  const clientEndpoint = str(data.client_endpoint);
  const domain = str(data.domain);
  return {
    ok: true,
    grant: { memberId, accessToken: access, refreshToken: refresh, ...(expiresAt !== undefined ? { expiresAt } : {}), ...(clientEndpoint ? { clientEndpoint } : {}), ...(domain ? { domain } : {}) },
  };
}
