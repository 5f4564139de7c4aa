/** Client configs pointing at a scripted server. */
import type { ClientConfig } from '../../../engine/client/types.js';

export const WEBHOOK_CODE = 'whsecretcode4711xyz';

export function webhookConfig(url: string): ClientConfig {
  return { baseUrl: url, plan: 'standard', auth: { mode: 'webhook', userId: '1', code: WEBHOOK_CODE } };
}

export function oauthConfig(url: string, tokenFile: string, extra: Partial<Extract<ClientConfig['auth'], { mode: 'oauth' }>> = {}): ClientConfig {
  return {
    baseUrl: url,
    plan: 'standard',
    auth: {
      mode: 'oauth',
      accessToken: 'access-token-old-0001',
      refreshToken: 'refresh-token-old-0001',
      clientId: 'local.app.1',
      clientSecret: 'client-secret-zzz-999',
      oauthUrl: url,
      tokenFile,
      ...extra,
    },
  };
}
