/** An emulated portal for a benchmark: the emulator in-process over real HTTP, and the real REST client on its webhook. */
import { createClient, type B24Client, type ClientOptions } from '../engine/client/index.js';
import { startEmulator, type CallRecord, type Emulator, type EmulatorOptions, type PortalData } from '../emulator/index.js';

/** Limits so high that neither the portal's bucket nor its operating budget ever refuses: the run measures the work, not the throttle. */
export const UNTHROTTLED = { burst: 1e9, drainPerSec: 1e9, operatingBudgetSec: 1e12 } as const;

/** The smallest portal: the admin user only (seeded records come from the benchmark itself). */
export const BARE_PORTAL: PortalData = {
  users: [{ ID: 1, NAME: 'Bench', LAST_NAME: 'Admin', EMAIL: 'admin@example.test', ACTIVE: true, ADMIN: true }],
};

export interface BenchPortal {
  emu: Emulator;
  client: B24Client;
  /** The emulator's call records since the last `calls.clear()`; throws if the log was trimmed (counts would be short). */
  records(): readonly CallRecord[];
  close(): Promise<void>;
}

/** Start an emulator (bare portal, unthrottled unless `emulator.limits` says otherwise) and a webhook client to it. */
export async function startBenchPortal(options: { emulator?: EmulatorOptions; client?: ClientOptions } = {}): Promise<BenchPortal> {
  const emu = await startEmulator({ data: BARE_PORTAL, limits: UNTHROTTLED, ...options.emulator });
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl);
  if (!m) {
    await emu.close();
    throw new Error(`unexpected emulator webhook URL shape: ${emu.url}/rest/...`);
  }
  const client = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { rateLimit: false, ...options.client });
  return {
    emu,
    client,
    records() {
      const records = emu.calls.records;
      // The log keeps its last `limit` records: one that reached the limit may have dropped some.
      if (records.length >= emu.calls.limit) {
        throw new Error(`the emulator's call log holds ${records.length} records, its limit: older ones were dropped and counts would be short; make the workload smaller`);
      }
      return records;
    },
    async close() {
      await client.close();
      await emu.close();
    },
  };
}
