/**
 * The plan features offline events need, checked when the offline source
 * starts (API-FACTS §5.5; api-reference/common/system/feature-get.md):
 * `rest_offline_extended`, event.offline.get's reserve/confirm mode (`clear=0`
 * and a `process_id`), without which every read deletes what it returns and a
 * crash loses it; and `rest_auth_connector`, the `auth_connector` key that
 * keeps the engine's own changes out of its queue. Both are asked in one batch
 * request. A feature the portal answers `N` for refuses the start
 * (OFFLINE_FEATURE_MISSING) with what to do, before anything is bound or read.
 *
 * A `feature.get` the portal refuses (an on-premise box without the method)
 * proves nothing either way: the start goes on with a warning, and the
 * offline methods themselves say WRONG_LICENSE if a feature is missing
 * (offline-bind.ts). A request that fails as a whole is thrown as it is: an
 * operational error lets the daemon start and check again in the background.
 */
import type { B24ClientApi } from '../client/index.js';
import type { Logger } from '../logger.js';
import { OfflineSourceError } from './offline-error.js';

/** The features, with what each one is for (named in the refusal). */
export const OFFLINE_FEATURES: Readonly<Record<string, string>> = {
  rest_offline_extended: "offline events' reserve/confirm mode (event.offline.get with clear=0), which lets the daemon clear an event only after its work is stored, so nothing it reads is lost",
  rest_auth_connector: "the auth_connector key, which keeps the engine's own changes out of its offline queue (without it every change the rules make comes back as an event)",
};

/** Ask `feature.get` for each feature; throws OfflineSourceError (OFFLINE_FEATURE_MISSING) when the portal lacks one. */
export async function checkOfflineFeatures(client: B24ClientApi, logger: Logger): Promise<void> {
  const codes = Object.keys(OFFLINE_FEATURES);
  const answers = await client.batch(Object.fromEntries(codes.map((code) => [code, { method: 'feature.get', params: { CODE: code } }])));
  const missing: string[] = [];
  for (const code of codes) {
    const a = answers[code];
    if (!a?.ok) {
      logger.warn({ feature: code, error: a?.error?.error, description: a?.error?.error_description }, `offline: cannot check the plan feature ${code} (feature.get refused); starting anyway`);
      continue;
    }
    const value = (a.result as { value?: unknown } | null)?.value;
    if (value !== 'Y') missing.push(code);
  }
  if (missing.length === 0) return;
  const what = missing.map((code) => `${code}: ${OFFLINE_FEATURES[code]}`).join('; ');
  throw new OfflineSourceError(
    `the portal's plan lacks ${missing.join(' and ')} (feature.get answered N), which offline events need (${what}). ` +
      'Move the portal to a plan (edition) that includes it (auth_connector needs Professional or higher), ' +
      'or run without offline events: an incoming webhook (B24_WEBHOOK_URL) and outgoing webhooks to /b24/events (B24_APPLICATION_TOKEN)',
    { code: 'OFFLINE_FEATURE_MISSING' },
  );
}
