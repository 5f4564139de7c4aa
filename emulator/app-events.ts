/**
 * The bodies a portal POSTs to an app's install handler, form-encoded with
 * PHP bracket keys as every event is: ONAPPINSTALL
 * (api-reference/common/events/on-app-install.md) and ONAPPUNINSTALL
 * (on-app-uninstall.md), with their fields in the docs' order.
 */
import type { EmulatorApp } from './app-lifecycle.js';
import { encodeForm } from './events/form-encode.js';

/** The portal's side of an install event: where it is and what the app may do there. */
export interface AppEventPortal {
  domain: string;
  /** `{portal}/rest/` */
  clientEndpoint: string;
  /** The token server's `/rest/` (oauth.bitrix.info's stand-in). */
  serverEndpoint: string;
  memberId: string;
  /** Scopes granted to the app, comma-separated. */
  scope: string;
  /** `L` local, `F` free or `S` paid Marketplace app. */
  status: string;
}

/** ONAPPINSTALL: `event`, `data[VERSION|ACTIVE|INSTALLED|LANGUAGE_ID]`, `ts`, `auth[...]` with the new pair and the application_token. */
export function installEvent(
  portal: AppEventPortal,
  app: Pick<EmulatorApp, 'access_token' | 'refresh_token' | 'application_token'>,
  o: { expiresIn: number; nowMs: number; languageId?: string; version?: string },
): Record<string, unknown> {
  return {
    event: 'ONAPPINSTALL',
    data: { VERSION: o.version ?? '1', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: o.languageId ?? 'en' },
    ts: String(Math.floor(o.nowMs / 1000)),
    auth: {
      domain: portal.domain,
      scope: portal.scope,
      access_token: app.access_token,
      refresh_token: app.refresh_token,
      expires_in: o.expiresIn,
      server_endpoint: portal.serverEndpoint,
      status: portal.status,
      client_endpoint: portal.clientEndpoint,
      member_id: portal.memberId,
      application_token: app.application_token,
    },
  };
}

/** ONAPPUNINSTALL: `event`, `data[LANGUAGE_ID|CLEAN]`, `ts`, `auth[domain|server_endpoint|client_endpoint|member_id|application_token]` (no tokens: the app is gone). */
export function uninstallEvent(portal: AppEventPortal, applicationToken: string, o: { clean: boolean; nowMs: number; languageId?: string }): Record<string, unknown> {
  return {
    event: 'ONAPPUNINSTALL',
    data: { LANGUAGE_ID: o.languageId ?? 'en', CLEAN: o.clean ? 1 : 0 },
    ts: String(Math.floor(o.nowMs / 1000)),
    auth: {
      domain: portal.domain,
      server_endpoint: portal.serverEndpoint,
      client_endpoint: portal.clientEndpoint,
      member_id: portal.memberId,
      application_token: applicationToken,
    },
  };
}

/** The handler's answer to an event POST. */
export interface HandlerAnswer {
  status: number;
  body: string;
}

/** POST an event to a handler as a portal does (`application/x-www-form-urlencoded`). */
export async function postEvent(fetchFn: typeof globalThis.fetch, handlerUrl: string, event: Record<string, unknown>): Promise<HandlerAnswer> {
  const res = await fetchFn(handlerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: encodeForm(event),
  });
  return { status: res.status, body: await res.text() };
}
