/** The REST client configuration of one portal served by a worker: its address, plan and credentials from the control plane. */
import type { ClientConfig, TlsConfig, TokenPersistence } from '../client/index.js';
import { PortalsError } from './errors.js';
import type { PortalConnection } from './registry.js';
import type { AppCredentials } from './token-server.js';

export interface PortalClientConfigOptions {
  /** The app's credentials and token server: needed by OAuth portals (to refresh). */
  app?: AppCredentials;
  /** Where the OAuth portal's pair lives (pgTokenPersistence under the worker's lease). */
  tokenPersistence?: TokenPersistence;
  /** Extra certificate authorities (B24_CA_FILE). */
  tls?: TlsConfig;
}

/** A ClientConfig for `conn`: webhook auth as stored, or OAuth with the pair read and written through `tokenPersistence`. */
export function portalClientConfig(conn: PortalConnection, options: PortalClientConfigOptions = {}): ClientConfig {
  const tls = options.tls ? { tls: options.tls } : {};
  if (conn.auth.mode === 'webhook') {
    return { baseUrl: conn.baseUrl, plan: conn.plan, auth: { mode: 'webhook', userId: conn.auth.userId, code: conn.auth.code }, ...tls };
  }
  if (!options.app || !options.tokenPersistence) {
    throw new PortalsError('PORTAL_INVALID', `portal '${conn.memberId}' uses OAuth: the worker needs the app's B24_CLIENT_ID and B24_CLIENT_SECRET to serve it`, { kind: 'user' });
  }
  return {
    baseUrl: conn.baseUrl,
    plan: conn.plan,
    auth: {
      mode: 'oauth',
      clientId: options.app.clientId,
      clientSecret: options.app.clientSecret,
      oauthUrl: options.app.oauthUrl,
      // Unused: the pair lives in the control plane (tokenPersistence).
      tokenFile: '',
      tokenPersistence: options.tokenPersistence,
    },
    ...tls,
  };
}
