/**
 * OAuth access tokens for one portal: the current token, a refresh when the
 * portal says `expired_token`/`invalid_token` or shortly before the known
 * expiry, and persistence of the rotated pair. "Shortly" is relative to the
 * token's lifetime when it is known (refreshMarginMs), and a token younger
 * than `minTokenAgeMs` is never refreshed ahead of time: every refresh rotates
 * the refresh token, and a 30 s token with a fixed 60 s margin was refreshed
 * before every request. Refreshes are single-flight:
 * however many calls discover the expiry at once, one request goes to the
 * token server and all of them wait for its answer (API-FACTS §4.2).
 *
 * On start the token file (if it belongs to this portal) wins over the
 * environment when it continues the same grant: its `seed` is the fingerprint
 * of the environment's refresh token, or it holds that very token. A different
 * refresh token in the environment means a new grant, and the environment wins.
 * An injected `tokenPersistence` (a worker's portal in PostgreSQL) replaces the
 * file: its pair is read at first use, and a rotated pair is committed there
 * before it is used (a refused write fails the refresh).
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import { registerSecret, registerSecretSlot } from '../redact.js';
import type { Clock } from '../clock.js';
import { AuthError, errorText, LeaseLostError, UntrustedCertificateError } from './errors.js';
import { fingerprint, readTokens, writeTokens, type StoredTokens, type TokenPersistence } from './token-store.js';
import { isUntrustedCertificate, send, TransportError, type TransportOptions } from './transport.js';
import type { OAuthAuthConfig } from './types.js';

export interface TokenManagerOptions {
  auth: OAuthAuthConfig;
  portal: string;
  clock: Clock;
  dispatcher: Dispatcher;
  timeouts: Pick<TransportOptions, 'headersTimeoutMs' | 'bodyTimeoutMs'>;
  /** The B24_CA_FILE in use, if any (named when the token server's certificate is not trusted). */
  caFile?: string | undefined;
  logger: Logger;
  /** Refresh at most this long before the known expiry (ms). */
  refreshSkewMs: number;
  /** The margin as a share of the token's known lifetime, when smaller than refreshSkewMs. */
  refreshSkewShare: number;
  /** Never refresh a token younger than this (ms) ahead of its expiry. */
  minTokenAgeMs: number;
  /** Attempts at the token server on network errors and 5xx. */
  attempts: number;
  /** Called once per completed refresh request (stats). */
  onRefresh?: () => void;
  /** ClientOptions.canSend: false, and no request goes to the token server (LeaseLostError). */
  canSend?: () => boolean;
  /** The client's user agent, sent to the token server too (a fleet records which worker refreshed). @default 'b24-rules' */
  userAgent?: string;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  expires?: number;
  member_id?: string;
  error?: string;
  error_description?: string;
}

export class TokenManager {
  readonly #o: TokenManagerOptions;
  #access?: string;
  #refresh?: string;
  #expiresAt?: number;
  /** When the current access token was obtained (ms since epoch); unknown for one from the environment. */
  #obtainedAt?: number;
  #memberId?: string;
  readonly #seed?: string;
  #loaded?: Promise<void>;
  #inflight?: Promise<string>;
  #current?: [string, string];
  #previous?: [string, string];

  constructor(options: TokenManagerOptions) {
    this.#o = options;
    this.#access = options.auth.accessToken;
    this.#refresh = options.auth.refreshToken;
    this.#expiresAt = options.auth.accessTokenExpiresAt;
    this.#seed = options.auth.refreshToken ? fingerprint(options.auth.refreshToken) : undefined;
    registerSecret(options.auth.accessToken);
    registerSecret(options.auth.refreshToken);
    registerSecret(options.auth.clientSecret);
  }

  #load(): Promise<void> {
    this.#loaded ??= this.#o.auth.tokenPersistence ? this.#loadInjected(this.#o.auth.tokenPersistence) : this.#loadFile();
    return this.#loaded;
  }

  /** The injected store's pair is the portal's: no file checks. A failed read is not remembered, so the next call reads again. */
  async #loadInjected(persistence: TokenPersistence): Promise<void> {
    let stored: StoredTokens | undefined;
    try {
      stored = await persistence.read();
    } catch (err) {
      this.#loaded = undefined;
      throw err;
    }
    if (!stored) return;
    this.#remember(stored.accessToken, stored.refreshToken);
    this.#access = stored.accessToken || undefined;
    this.#refresh = stored.refreshToken || undefined;
    this.#expiresAt = stored.expiresAt;
    this.#obtainedAt = stored.obtainedAt > 0 ? stored.obtainedAt : undefined;
    this.#memberId = stored.memberId ?? this.#memberId;
  }

  #loadFile(): Promise<void> {
    return (async () => {
      const stored = await readTokens(this.#o.auth.tokenFile).catch((err: unknown) => {
        this.#o.logger.warn({ error: errorText(err), file: this.#o.auth.tokenFile }, 'cannot read the token file; using the configured tokens');
        return undefined;
      });
      if (!stored || stored.portal !== this.#o.portal) return;
      this.#remember(stored.accessToken, stored.refreshToken);
      const envRefresh = this.#o.auth.refreshToken;
      const sameGrant = envRefresh === undefined || stored.seed === this.#seed || stored.refreshToken === envRefresh;
      if (!sameGrant) {
        this.#o.logger.info({ file: this.#o.auth.tokenFile }, 'the environment carries a new grant; ignoring the older token file');
        return;
      }
      this.#access = stored.accessToken;
      this.#refresh = stored.refreshToken;
      this.#expiresAt = stored.expiresAt;
      // Token files written before obtainedAt was kept read as 0: unknown.
      this.#obtainedAt = stored.obtainedAt > 0 ? stored.obtainedAt : undefined;
      this.#memberId = stored.memberId;
    })();
  }

  /**
   * Mask a pair from now on. One slot per portal holding this pair and the one before it (a log line about the
   * refresh in progress may name either): the secrets stay bounded however often the pair rotates.
   */
  #remember(access: string | undefined, refresh: string | undefined): void {
    this.#previous = this.#current;
    this.#current = [access ?? '', refresh ?? ''];
    registerSecretSlot(`tokens:${this.#o.portal}`, [...this.#current, ...(this.#previous ?? [])]);
  }

  /** A token to send now: refreshed first when it is missing or about to expire. */
  async accessToken(): Promise<string> {
    await this.#load();
    if (this.#inflight) return this.#inflight;
    if (this.#access === undefined || this.#expiring(this.#o.clock.now())) return this.refresh(this.#access);
    return this.#access;
  }

  /** Whether the current token is due for a refresh ahead of its expiry. */
  #expiring(now: number): boolean {
    if (this.#expiresAt === undefined) return false;
    if (this.#obtainedAt !== undefined && now - this.#obtainedAt < this.#o.minTokenAgeMs) return false;
    return now >= this.#expiresAt - refreshMarginMs(this.#expiresAt, this.#obtainedAt, this.#o);
  }

  /**
   * Refresh because `stale` was refused. When another caller already replaced
   * `stale`, resolve with the current token without asking the server again.
   */
  async refresh(stale?: string): Promise<string> {
    await this.#load();
    if (this.#inflight) return this.#inflight;
    if (stale !== undefined && this.#access !== undefined && stale !== this.#access) return this.#access;
    this.#inflight = this.#doRefresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #doRefresh(): Promise<string> {
    const { auth } = this.#o;
    const fail = (error: string, description: string, status = 0, cause?: unknown) =>
      new AuthError('AUTH_REFRESH_FAILED', { method: 'oauth/token', status, error, errorDescription: description, cause },
        `OAuth token refresh failed: ${error}: ${description}${status ? ` (HTTP ${status})` : ''}`);
    if (!this.#refresh || !auth.clientId || !auth.clientSecret) {
      throw fail('missing_credentials', 'refreshing needs B24_REFRESH_TOKEN, B24_CLIENT_ID and B24_CLIENT_SECRET (or a token file with a refresh token)');
    }
    const used = this.#refresh;
    const { clientId, clientSecret } = auth;
    try {
      return await this.#exchange(used, { clientId, clientSecret }, fail);
    } catch (err) {
      const persistence = auth.tokenPersistence;
      if (!persistence || !(err instanceof AuthError) || err.error !== 'invalid_grant') throw err;
      // Refused as spent: another holder of the portal (a worker whose refresh came back after its lease ended) may
      // have rotated the pair and committed it. Read it once; a newer pair is used, the same one fails as before.
      const stale = this.#access;
      const stored = await persistence.read();
      if (!stored || !stored.refreshToken || stored.refreshToken === used) throw err;
      this.#o.logger.info('the stored OAuth pair changed since it was read (rotated by the previous holder); using it');
      this.#remember(stored.accessToken, stored.refreshToken);
      this.#access = stored.accessToken || undefined;
      this.#refresh = stored.refreshToken;
      this.#expiresAt = stored.expiresAt;
      this.#obtainedAt = stored.obtainedAt > 0 ? stored.obtainedAt : undefined;
      if (this.#access !== undefined && this.#access !== stale && !this.#expiring(this.#o.clock.now())) return this.#access;
      return this.#exchange(stored.refreshToken, { clientId, clientSecret }, fail);
    }
  }

  /** One refresh at the token server with `refreshToken` (retried on network errors and 5xx); the new access token, committed. */
  async #exchange(
    refreshToken: string,
    app: { clientId: string; clientSecret: string },
    fail: (error: string, description: string, status?: number, cause?: unknown) => AuthError,
  ): Promise<string> {
    const { auth } = this.#o;
    // B24_OAUTH_URL is the token server (https://oauth.bitrix.info); accept the full endpoint (.../oauth/token/) too.
    const base = auth.oauthUrl.replace(/\/+$/, '');
    const url = new URL(/\/oauth\/token$/.test(base) ? `${base}/` : `${base}/oauth/token/`);
    url.searchParams.set('grant_type', 'refresh_token');
    url.searchParams.set('client_id', app.clientId);
    url.searchParams.set('client_secret', app.clientSecret);
    url.searchParams.set('refresh_token', refreshToken);

    let lastError: AuthError | undefined;
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      if (attempt > 1) await this.#o.clock.sleep(Math.min(8000, 500 * 2 ** (attempt - 2)));
      if (this.#o.canSend && !this.#o.canSend()) throw new LeaseLostError('oauth/token');
      let status: number;
      let body: string;
      try {
        ({ status, body } = await send(this.#o.dispatcher, { url, method: 'GET', headers: { accept: 'application/json', 'user-agent': this.#o.userAgent ?? 'b24-rules' } }, this.#o.timeouts));
      } catch (err) {
        if (err instanceof TransportError && isUntrustedCertificate(err.errno)) throw new UntrustedCertificateError('oauth/token', err.errno, { caFile: this.#o.caFile, cause: err });
        lastError = fail('network_error', err instanceof TransportError ? err.errno : String(err), 0, err);
        continue;
      } finally {
        this.#o.onRefresh?.();
      }
      let data: TokenResponse;
      try {
        data = JSON.parse(body) as TokenResponse;
      } catch (err) {
        lastError = fail('bad_response', 'the token server did not answer JSON', status, err);
        if (status >= 500) continue;
        throw lastError;
      }
      if (status >= 500) {
        lastError = fail(data.error ?? 'server_error', data.error_description ?? 'token server error', status);
        continue;
      }
      if (status !== 200 || !data.access_token || !data.refresh_token) {
        throw fail(data.error ?? 'invalid_response', data.error_description ?? 'no access_token/refresh_token in the answer; re-authorize the application', status);
      }
      return this.#accept(data);
    }
    throw lastError ?? fail('unknown', 'refresh failed');
  }

  async #accept(data: TokenResponse): Promise<string> {
    const now = this.#o.clock.now();
    const access = data.access_token as string;
    const refresh = data.refresh_token as string;
    this.#remember(access, refresh);
    const expiresAt = typeof data.expires_in === 'number' ? now + data.expires_in * 1000 : typeof data.expires === 'number' ? data.expires * 1000 : undefined;
    const stored: StoredTokens = {
      accessToken: access,
      refreshToken: refresh,
      expiresAt,
      obtainedAt: now,
      portal: this.#o.portal,
      seed: this.#seed,
      memberId: data.member_id ?? this.#memberId,
    };
    // Committed before it is used: a refused write (another worker holds the portal now) leaves the pair unused.
    const injected = this.#o.auth.tokenPersistence;
    if (injected) await injected.write(stored);
    this.#access = access;
    this.#refresh = refresh;
    this.#expiresAt = expiresAt;
    this.#obtainedAt = now;
    this.#memberId = stored.memberId;
    if (injected) {
      this.#o.logger.info({ expiresAt: this.#expiresAt }, 'OAuth access token refreshed');
      return access;
    }
    try {
      await writeTokens(this.#o.auth.tokenFile, stored);
    } catch (err) {
      // The call can go on with the new token; but the rotated refresh token is lost at the next restart, so say so loudly.
      this.#o.logger.error({ error: errorText(err), file: this.#o.auth.tokenFile }, 'cannot persist refreshed OAuth tokens; after a restart the application must be re-authorized');
    }
    this.#o.logger.info({ expiresAt: this.#expiresAt }, 'OAuth access token refreshed');
    return access;
  }
}

/**
 * How long before its expiry a token is refreshed: `refreshSkewMs`, or
 * `refreshSkewShare` of the token's lifetime when that is known and shorter
 * (a 30 s token: 3 s; a one-hour token: 60 s).
 */
export function refreshMarginMs(expiresAt: number, obtainedAt: number | undefined, o: Pick<TokenManagerOptions, 'refreshSkewMs' | 'refreshSkewShare'>): number {
  if (obtainedAt === undefined || expiresAt <= obtainedAt) return o.refreshSkewMs;
  return Math.min(o.refreshSkewMs, Math.floor((expiresAt - obtainedAt) * o.refreshSkewShare));
}
