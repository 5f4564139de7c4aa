/**
 * The fixture portal for dry runs and rule tests: fixture data served by an
 * in-process emulator over loopback. It lives here, with the commands that
 * inject it into the engine (`rules dry-run`, `rules test`), because engine/
 * does not import the emulator.
 */
import { startEmulator, type PortalData } from '../emulator/index.js';
import type { ClientConfig } from '../engine/client/index.js';
import type { FixturePortal, RatePlan, StartFixturePortal } from '../engine/plan/index.js';
import { portalDataOf } from '../engine/testing/index.js';

/** Client configuration for an incoming-webhook URL (`{base}/rest/{user}/{code}/`). */
function webhookConfig(url: string, plan: RatePlan): ClientConfig {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/?$/.exec(url);
  if (!m) throw new Error(`unexpected emulator webhook URL shape: ${url}`);
  return { baseUrl: m[1] as string, plan, auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } };
}

/** Start an emulator on 127.0.0.1 (a free port) serving `data`, its clock standing still at `at` (or following `now`). */
export const startFixturePortal: StartFixturePortal = async (data, { at, ratePlan, now }): Promise<FixturePortal> => {
  // The clock stands still, so the leaky bucket would never drain: the limits are lifted (the plan's estimate models them).
  const emulator = await startEmulator({ port: 0, data: portalDataOf(data) as PortalData, now: now ?? (() => at), plan: ratePlan, limits: { burst: 1e9, drainPerSec: 1e9, operatingBudgetSec: 1e9 } });
  return {
    config: webhookConfig(emulator.webhookUrl, ratePlan),
    calls: () => emulator.calls.records.map((r) => ({ method: r.method, params: r.params, ...(r.batch ? { batch: r.batch } : {}) })),
    close: () => emulator.close(),
  };
};
