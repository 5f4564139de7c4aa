/**
 * Client configuration from the environment, compatible with the Bitrix24
 * agent skill pack: B24_DOMAIN, B24_AUTH_MODE (webhook | oauth),
 * B24_WEBHOOK_URL or B24_WEBHOOK_USER_ID + B24_WEBHOOK_CODE, B24_ACCESS_TOKEN,
 * B24_REFRESH_TOKEN, B24_CLIENT_ID, B24_CLIENT_SECRET, B24_OAUTH_URL,
 * B24_TOKEN_FILE, B24_PLAN, B24_CA_FILE, B24_REST_V3. A `.env` file in the working directory is read when
 * present; real environment variables win over it. Every secret is registered
 * for redaction as soon as it is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { registerSecret } from './redact.js';
import type { ClientConfig, PortalPlan, TlsConfig } from './client/index.js';
import { parseDotenv } from './dotenv.js';

/** Defaults of the configuration. */
export const DEFAULTS = {
  /** @default 'https://oauth.bitrix.info' */
  oauthUrl: 'https://oauth.bitrix.info',
  /** Relative to the working directory. @default '.rules/tokens.json' */
  tokenFile: '.rules/tokens.json',
  /** @default 'standard' */
  plan: 'standard' as PortalPlan,
  /** @default '.env' */
  envFile: '.env',
  /** The `auth_connector` key (B24_AUTH_CONNECTOR) of the daemon and `rules apply` in OAuth mode. @default 'b24rules' */
  authConnector: 'b24rules',
} as const;

/**
 * The connector the daemon and `rules apply` give the client (which adds it to
 * writes) and the offline source: OAuth only, as webhook auth has none;
 * `value` (B24_AUTH_CONNECTOR) when set, else the default.
 */
export function authConnectorFor(config: ClientConfig, value?: string): string | undefined {
  if (config.auth.mode !== 'oauth') return undefined;
  return value !== undefined && value.trim() !== '' ? value.trim() : DEFAULTS.authConnector;
}

const SECRET_VARS = ['B24_WEBHOOK_CODE', 'B24_ACCESS_TOKEN', 'B24_REFRESH_TOKEN', 'B24_CLIENT_SECRET', 'B24_WEBHOOK_URL'] as const;

function get(vars: Record<string, string | undefined>, name: string): string | undefined {
  const v = vars[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Normalise a portal address: default scheme https, no trailing slash; a scheme, port and path prefix are kept. */
export function normalizeBaseUrl(value: string, variable: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${variable} is not a portal address: '${value}'. Use a host like 'your-portal.bitrix24.com' or a URL like 'http://127.0.0.1:8080'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${variable} must use http or https; got '${url.protocol}'`);
  }
  if (url.search || url.hash || url.username) {
    throw new ConfigError(`${variable} must be just the portal address (scheme, host, port); got '${value}'`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function parseWebhookUrl(value: string): { baseUrl: string; userId: string; code: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("B24_WEBHOOK_URL is not a URL. It looks like 'https://your-portal.bitrix24.com/rest/1/{webhook code}/'");
  }
  const m = /^(.*?)\/rest\/(\d+)\/([^/]+)\/?$/.exec(url.pathname);
  if (!m || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError("B24_WEBHOOK_URL must look like 'https://your-portal.bitrix24.com/rest/{user id}/{webhook code}/'");
  }
  return { baseUrl: `${url.origin}${m[1] ?? ''}`, userId: m[2] as string, code: m[3] as string };
}

/** Read `.env` in `cwd` (if present) under the real environment, which wins. */
export function readEnvironment(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Record<string, string | undefined> {
  const file = join(cwd, DEFAULTS.envFile);
  if (!existsSync(file)) return { ...env };
  const fromFile = parseDotenv(readFileSync(file, 'utf8'), file);
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

/**
 * B24_CA_FILE: certificate authorities (PEM) to trust besides Node's bundled
 * ones, for a portal or proxy with a private CA or `rules emulator --tls`.
 * NODE_EXTRA_CA_CERTS is read along with it: Node ignores that variable once a
 * client passes its own CA list.
 */
function readCaFile(vars: Record<string, string | undefined>, cwd: string): TlsConfig | undefined {
  const raw = get(vars, 'B24_CA_FILE');
  if (raw === undefined) return undefined;
  const caFile = isAbsolute(raw) ? raw : resolve(cwd, raw);
  const read = (file: string, variable: string): string => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${variable} cannot be read: ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${variable} is not a PEM certificate file (no '-----BEGIN CERTIFICATE-----' in ${file})`);
    return text;
  };
  const extra = get(vars, 'NODE_EXTRA_CA_CERTS');
  const ca = [read(caFile, 'B24_CA_FILE'), ...(extra !== undefined ? [read(isAbsolute(extra) ? extra : resolve(cwd, extra), 'NODE_EXTRA_CA_CERTS')] : [])].join('\n');
  return { caFile, ca };
}

/** What a worker serving many portals reads from the environment: the app's credentials and the extra CAs. */
export interface AppConfig {
  /** B24_CLIENT_ID, B24_CLIENT_SECRET and the token server B24_OAUTH_URL; undefined when the id or the secret is unset (webhook portals only). */
  app?: { clientId: string; clientSecret: string; oauthUrl: string };
  /** B24_CA_FILE (with NODE_EXTRA_CA_CERTS). */
  tls?: TlsConfig;
}

/**
 * The app's side of the configuration, for `rules run --state postgres://...`: each portal's address and tokens
 * come from the control plane, the app's client id and secret and its token server from here. Throws ConfigError.
 */
export function loadAppConfig(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): AppConfig {
  const vars = readEnvironment(env, cwd);
  for (const name of SECRET_VARS) registerSecret(get(vars, name));
  const clientId = get(vars, 'B24_CLIENT_ID');
  const clientSecret = get(vars, 'B24_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new ConfigError('B24_CLIENT_ID and B24_CLIENT_SECRET go together (from the application card): set both, or neither for webhook portals only');
  }
  const tls = readCaFile(vars, cwd);
  const oauthUrl = normalizeBaseUrl(get(vars, 'B24_OAUTH_URL') ?? DEFAULTS.oauthUrl, 'B24_OAUTH_URL');
  return {
    ...(clientId !== undefined && clientSecret !== undefined ? { app: { clientId, clientSecret, oauthUrl } } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** B24_REST_V3 (`on`/`off`, also true/false, 1/0): whether calls REST 3.0 offers go through /rest/api/ (docs/client.md, REST 3.0); unset: the client's default. */
function restV3Setting(vars: Record<string, string | undefined>): { restV3?: boolean } {
  const raw = get(vars, 'B24_REST_V3')?.toLowerCase();
  if (raw === undefined) return {};
  if (['on', 'true', '1', 'yes'].includes(raw)) return { restV3: true };
  if (['off', 'false', '0', 'no'].includes(raw)) return { restV3: false };
  throw new ConfigError(`B24_REST_V3 must be 'on' or 'off'; got '${raw}'`);
}

/** Build the client configuration from the environment (and `.env` in `cwd`). Throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): ClientConfig {
  const vars = readEnvironment(env, cwd);
  for (const name of SECRET_VARS) registerSecret(get(vars, name));

  const planRaw = get(vars, 'B24_PLAN')?.toLowerCase() ?? DEFAULTS.plan;
  if (planRaw !== 'standard' && planRaw !== 'enterprise') throw new ConfigError(`B24_PLAN must be 'standard' or 'enterprise'; got '${planRaw}'`);
  const plan: PortalPlan = planRaw;
  const tlsConfig = readCaFile(vars, cwd);
  const tls = { ...(tlsConfig ? { tls: tlsConfig } : {}), ...restV3Setting(vars) };

  const webhookUrl = get(vars, 'B24_WEBHOOK_URL');
  const modeRaw = get(vars, 'B24_AUTH_MODE')?.toLowerCase();
  if (modeRaw !== undefined && modeRaw !== 'webhook' && modeRaw !== 'oauth') {
    throw new ConfigError(`B24_AUTH_MODE must be 'webhook' or 'oauth'; got '${modeRaw}'`);
  }
  const mode =
    modeRaw ??
    (webhookUrl || get(vars, 'B24_WEBHOOK_CODE') ? 'webhook' : get(vars, 'B24_ACCESS_TOKEN') || get(vars, 'B24_REFRESH_TOKEN') ? 'oauth' : undefined);
  if (mode === undefined) {
    throw new ConfigError(
      'no Bitrix24 connection configured: set B24_WEBHOOK_URL (https://your-portal.bitrix24.com/rest/1/{webhook code}/), or B24_DOMAIN with B24_WEBHOOK_USER_ID and B24_WEBHOOK_CODE, or B24_AUTH_MODE=oauth with B24_DOMAIN and tokens (see .env.example)',
    );
  }

  if (mode === 'webhook') {
    if (webhookUrl) {
      const parsed = parseWebhookUrl(webhookUrl);
      registerSecret(parsed.code);
      return { baseUrl: parsed.baseUrl, plan, auth: { mode: 'webhook', userId: parsed.userId, code: parsed.code }, ...tls };
    }
    const domain = get(vars, 'B24_DOMAIN');
    if (!domain) throw new ConfigError("webhook mode needs B24_DOMAIN (e.g. 'your-portal.bitrix24.com') or B24_WEBHOOK_URL");
    const userId = get(vars, 'B24_WEBHOOK_USER_ID');
    if (!userId || !/^\d+$/.test(userId)) {
      throw new ConfigError(`B24_WEBHOOK_USER_ID must be the numeric ID of the user who created the webhook (e.g. 1); got '${userId ?? ''}'`);
    }
    const code = get(vars, 'B24_WEBHOOK_CODE');
    if (!code || !/^[A-Za-z0-9_-]+$/.test(code)) {
      throw new ConfigError('B24_WEBHOOK_CODE must be the webhook code the portal shows (letters and digits, the part after /rest/{user}/)');
    }
    return { baseUrl: normalizeBaseUrl(domain, 'B24_DOMAIN'), plan, auth: { mode: 'webhook', userId, code }, ...tls };
  }

  const domain = get(vars, 'B24_DOMAIN');
  if (!domain) throw new ConfigError("oauth mode needs B24_DOMAIN (e.g. 'your-portal.bitrix24.com')");
  const tokenFileRaw = get(vars, 'B24_TOKEN_FILE') ?? DEFAULTS.tokenFile;
  const tokenFile = isAbsolute(tokenFileRaw) ? tokenFileRaw : resolve(cwd, tokenFileRaw);
  const accessToken = get(vars, 'B24_ACCESS_TOKEN');
  const refreshToken = get(vars, 'B24_REFRESH_TOKEN');
  if (!accessToken && !refreshToken && !existsSync(tokenFile)) {
    throw new ConfigError(`oauth mode needs B24_ACCESS_TOKEN and/or B24_REFRESH_TOKEN (or a token file at ${tokenFile}, set by B24_TOKEN_FILE)`);
  }
  const clientId = get(vars, 'B24_CLIENT_ID');
  const clientSecret = get(vars, 'B24_CLIENT_SECRET');
  if (refreshToken && (!clientId || !clientSecret)) {
    throw new ConfigError('B24_REFRESH_TOKEN is set but B24_CLIENT_ID and B24_CLIENT_SECRET are not: refreshing needs both (from the application card)');
  }
  const oauthUrl = normalizeBaseUrl(get(vars, 'B24_OAUTH_URL') ?? DEFAULTS.oauthUrl, 'B24_OAUTH_URL');
  return {
    baseUrl: normalizeBaseUrl(domain, 'B24_DOMAIN'),
    plan,
    auth: { mode: 'oauth', accessToken, refreshToken, clientId, clientSecret, oauthUrl, tokenFile },
    ...tls,
  };
}
