/** Clients for the in-process emulator: the engine's (with the auth_connector) and a "portal user" making changes. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../engine/client/index.js';
import type { ClientConfig } from '../../engine/client/types.js';
import type { Emulator } from '../../emulator/index.js';

export function oauthConfig(emu: Emulator, tokenDir = mkdtempSync(join(tmpdir(), 'b24-tokens-'))): ClientConfig {
  return {
    baseUrl: emu.url,
    plan: 'standard',
    auth: {
      mode: 'oauth',
      accessToken: emu.app.access_token,
      refreshToken: emu.app.refresh_token,
      clientId: emu.app.client_id,
      clientSecret: emu.app.client_secret,
      // The client appends oauth/token/ itself.
      oauthUrl: emu.url,
      tokenFile: join(tokenDir, 'tokens.json'),
    },
  };
}

/** The engine's client: every write carries the connector. */
export function engineClient(emu: Emulator, connector = 'b24rules') {
  return createClient(oauthConfig(emu), { authConnector: connector, rateLimit: false, retries: 2, backoffBaseMs: 5 });
}

/** Someone working in the portal (the incoming webhook of user 1): their changes are queued as offline events. */
export function userClient(emu: Emulator, options: { retries?: number; backoffBaseMs?: number } = {}) {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl);
  if (!m) throw new Error(`unexpected webhook url ${emu.webhookUrl}`);
  return createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { rateLimit: false, retries: options.retries ?? 2, backoffBaseMs: options.backoffBaseMs ?? 5 });
}
