/**
 * The installed app's life on one emulated portal: install (a fresh token
 * pair, the app's events flow), uninstall (every token of the app stops
 * working, its event bindings and offline records go, as
 * api-reference/common/events/on-app-uninstall.md says: "all the app's rights
 * to the API are removed"), and the token grants a fleet's shared token
 * server asks each portal for.
 */
import { registerSecret } from '../engine/redact.js';
import type { TokenResponse } from './auth.js';
import type { EventHub } from './events/index.js';
import type { EmulatorState } from './state.js';

/** The installed app, as an app's backend would know it after installation. */
export interface EmulatorApp {
  client_id: string;
  client_secret: string;
  /** '' while the app is not installed. */
  access_token: string;
  /** '' while the app is not installed. */
  refresh_token: string;
  application_token: string;
  /** The token server (`{url}/oauth/token/`, or the fleet's token server). */
  oauth_url: string;
  member_id: string;
  /** Portal domain (`127.0.0.1:PORT`). */
  domain: string;
}

export interface AppLifecycle {
  readonly installed: boolean;
  install(options?: { newApplicationToken?: boolean }): EmulatorApp;
  uninstall(): void;
  ownsRefreshToken(refreshToken: string): boolean;
  grant(params: Record<string, unknown>): TokenResponse;
}

/**
 * Wire the lifecycle to a portal. `app` is the emulator's own `app` object,
 * updated in place so `emu.app` always shows the current pair;
 * `handlerTokens` is the pair cache of event deliveries, emptied with the app.
 */
export function appLifecycle(state: EmulatorState, hub: EventHub, app: EmulatorApp, handlerTokens: Map<number, unknown>): AppLifecycle {
  const { auth } = state;
  return {
    get installed() {
      return auth.installed;
    },
    install(options = {}) {
      auth.install(options.newApplicationToken ?? false);
      const t = auth.issue(1, state.now());
      for (const s of [t.accessToken, t.refreshToken, auth.app.applicationToken]) registerSecret(s);
      handlerTokens.clear();
      hub.setApplicationToken(auth.app.clientId, auth.app.applicationToken);
      app.access_token = t.accessToken;
      app.refresh_token = t.refreshToken;
      app.application_token = auth.app.applicationToken;
      return { ...app };
    },
    uninstall() {
      auth.uninstall();
      handlerTokens.clear();
      hub.bindings.removeApp(auth.app.clientId);
      hub.queue.dropApp(auth.app.clientId);
      app.access_token = '';
      app.refresh_token = '';
    },
    ownsRefreshToken: (refreshToken) => auth.issuedRefresh(refreshToken),
    grant: (params) => auth.grant(params, state.now(), { rest: `${state.portal.baseUrl}/rest/`, domain: state.portal.domain, server: state.portal.serverEndpoint }),
  };
}
