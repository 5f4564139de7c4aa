/**
 * Credentials of the emulated portal: incoming webhooks, the installed app,
 * its access/refresh tokens, and the token server (`/oauth/token/`) that
 * rotates them. Times come from the emulator's injected clock.
 */
import { randomBytes } from 'node:crypto';
import { PortalError, type CallerAuth } from './types.js';

export interface Webhook {
  userId: number;
  code: string;
  scopes: string[];
}

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
  applicationToken: string;
  scopes: string[];
  /** `status` in token answers and handler `auth`: `L` local app, `F` free and `S` paid Marketplace app. */
  status: string;
}

/** The app's given credentials (a fleet installs one app on many portals); unset ones are made up. */
export type AppIdentity = Partial<Pick<AppCredentials, 'clientId' | 'clientSecret' | 'applicationToken' | 'status'>>;

interface AccessToken {
  userId: number;
  expiresAt: number;
}

interface RefreshToken {
  userId: number;
  expiresAt: number;
  used: boolean;
}

/** What the token server answers (API-FACTS §4.1-4.2). */
export interface TokenResponse {
  access_token: string;
  client_endpoint: string;
  domain: string;
  expires: number;
  expires_in: number;
  member_id: string;
  refresh_token: string;
  scope: string;
  server_endpoint: string;
  status: string;
  user_id: number;
}

/** An error of the token server: `{error, error_description}` with a status. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

const REFRESH_TTL_MS = 180 * 24 * 3600 * 1000;

function token(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Webhook codes look like the docs' example `8g9l071eismy9q2l`: 16 lowercase alphanumerics. */
function webhookCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
}

export class AuthState {
  readonly #webhooks = new Map<string, Webhook>();
  readonly #access = new Map<string, AccessToken>();
  readonly #refresh = new Map<string, RefreshToken>();
  readonly app: AppCredentials;
  #issued = 0;
  #installed = true;

  constructor(
    readonly tokenTtlSeconds: number,
    readonly memberId: string,
    appScopes: string[],
    identity: AppIdentity = {},
  ) {
    this.app = {
      clientId: identity.clientId ?? `local.${token(7)}`,
      clientSecret: identity.clientSecret ?? token(24),
      applicationToken: identity.applicationToken ?? token(16),
      scopes: appScopes,
      status: identity.status ?? 'L',
    };
  }

  /** Whether the app is installed: while it is not, no token of it works and none is issued by the token server. */
  get installed(): boolean {
    return this.#installed;
  }

  /**
   * Uninstall the app: every token it holds stops working at once (on-app-uninstall.md: "all the app's
   * rights to the API are removed"). Webhooks are not the app's and keep working.
   */
  uninstall(): void {
    this.#installed = false;
    this.#access.clear();
    this.#refresh.clear();
  }

  /** Install the app (again); `newApplicationToken` gives the installation a new `application_token`. */
  install(newApplicationToken = false): void {
    this.#installed = true;
    if (newApplicationToken) this.app.applicationToken = token(16);
  }

  /** Whether `refreshToken` is a live refresh token this portal issued (the fleet's token server routes by it). */
  issuedRefresh(refreshToken: string): boolean {
    return this.#refresh.has(refreshToken);
  }

  /** Create an incoming webhook for `userId` with `scopes`. */
  addWebhook(userId: number, scopes: string[], code = webhookCode()): Webhook {
    const hook = { userId, code, scopes: [...scopes] };
    this.#webhooks.set(code, hook);
    return hook;
  }

  /**
   * Resolve `/rest/{user}/{code}/`. No active webhook with that user and code is 401 INVALID_CREDENTIALS
   * (_includes/system-errors.md in bitrix24/b24restdocs; the older Russian table says NO_AUTH_FOUND).
   */
  webhook(userId: number, code: string): CallerAuth {
    const hook = this.#webhooks.get(code);
    if (!hook || hook.userId !== userId) throw new PortalError(401, 'INVALID_CREDENTIALS', 'Invalid request credentials');
    return { kind: 'webhook', userId, scopes: hook.scopes };
  }

  /** Issue a fresh token pair for `userId` (install, or a test wanting another user). */
  issue(userId: number, nowMs: number): { accessToken: string; refreshToken: string; expiresAt: number } {
    if (++this.#issued % 1000 === 0) this.#prune(nowMs);
    const accessToken = token(35);
    const refreshToken = token(35);
    const expiresAt = nowMs + this.tokenTtlSeconds * 1000;
    this.#access.set(accessToken, { userId, expiresAt });
    this.#refresh.set(refreshToken, { userId, expiresAt: nowMs + REFRESH_TTL_MS, used: false });
    return { accessToken, refreshToken, expiresAt };
  }

  /** Resolve the `auth` parameter of an OAuth call. */
  accessToken(value: string | undefined, nowMs: number): CallerAuth {
    if (value === undefined || value === '') throw new PortalError(401, 'NO_AUTH_FOUND', 'Wrong authorization data');
    const t = this.#access.get(value);
    if (!t) throw new PortalError(401, 'invalid_token', 'The access token provided is invalid.');
    if (nowMs >= t.expiresAt) throw new PortalError(401, 'expired_token', 'The access token provided has expired.');
    return { kind: 'oauth', userId: t.userId, scopes: this.app.scopes, clientId: this.app.clientId, applicationToken: this.app.applicationToken };
  }

  /** Forget access tokens expired for a day and refresh tokens used or expired: a long run must not grow without end. */
  #prune(nowMs: number): void {
    for (const [k, t] of this.#access) if (t.expiresAt + 86_400_000 < nowMs) this.#access.delete(k);
    for (const [k, r] of this.#refresh) if (r.used || r.expiresAt < nowMs) this.#refresh.delete(k);
  }

  /** Expire an access token now (tests). */
  expire(accessToken: string): void {
    const t = this.#access.get(accessToken);
    if (t) t.expiresAt = 0;
  }

  /** The token server: `grant_type=refresh_token` rotates the pair; a used or unknown refresh token is `invalid_grant`. */
  grant(params: Record<string, unknown>, nowMs: number, endpoints: { rest: string; domain: string; server?: string }): TokenResponse {
    const str = (k: string): string => (typeof params[k] === 'string' ? (params[k] as string) : '');
    const grantType = str('grant_type');
    if (grantType === '') throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    if (str('client_id') !== this.app.clientId || str('client_secret') !== this.app.clientSecret) {
      throw new OAuthError(401, 'invalid_client', 'Invalid client credentials or the application is not installed');
    }
    if (grantType !== 'refresh_token') throw new OAuthError(400, 'invalid_grant', `grant_type '${grantType}' is not supported by the emulator (use refresh_token)`);
    const value = str('refresh_token');
    const r = this.#refresh.get(value);
    if (!r || r.used || nowMs >= r.expiresAt) throw new OAuthError(400, 'invalid_grant', 'Invalid refresh token');
    r.used = true;
    const pair = this.issue(r.userId, nowMs);
    return {
      access_token: pair.accessToken,
      client_endpoint: endpoints.rest,
      domain: endpoints.domain,
      expires: Math.floor(pair.expiresAt / 1000),
      expires_in: this.tokenTtlSeconds,
      member_id: this.memberId,
      refresh_token: pair.refreshToken,
      scope: this.app.scopes.join(','),
      server_endpoint: endpoints.server ?? `${endpoints.rest.replace(/\/rest\/$/, '')}/oauth/`,
      status: this.app.status,
      user_id: r.userId,
    };
  }
}
