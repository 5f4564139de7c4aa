/**
 * The dry-run harness: plan inbox items with the real engine (`mode: 'plan'`,
 * `planItems`) through the real REST client in read-only mode, against either
 * a live portal or fixtures served by an in-process emulator over loopback.
 * Both go through one code path, so what a test or a CI plan shows is what
 * the daemon would do. The client refuses every write before sending it
 * (catalog kind; unknown = write), so a mistake in the engine cannot leak one.
 */
import { startEmulator, type CallRecord, type PortalData } from '../../emulator/index.js';
import { createClient } from '../client/index.js';
import type { ClientConfig } from '../client/types.js';
import { createEngine } from '../pipeline/index.js';
import type { CompiledRule } from '../rules/types.js';
import { openStateStore } from '../store/index.js';
import type { InboxItemInput } from '../store/types.js';
import { portalDataOf } from '../testing/fixtures.js';
import type { FixtureData } from '../testing/types.js';
import { toPlanDocument } from './from-engine.js';
import { recordReads } from './read-recorder.js';
import { openStateCopy } from './state-copy.js';
import type { PlanDocument, RatePlan } from './types.js';

export type PortalSource = { kind: 'fixtures'; data: FixtureData; label: string } | { kind: 'live'; config: ClientConfig; label: string };

export interface DryRunRequest {
  rules: CompiledRule[];
  ruleFiles: string[];
  items: InboxItemInput[];
  /** The clock (ms since epoch) for the engine and, with fixtures, the emulator. */
  at: number;
  events: number;
  scheduleTicks: Array<{ rule: string; at: string }>;
  portal: PortalSource;
  ratePlan: RatePlan;
  /** What the engine remembers of records from before (entity → id → fields). */
  snapshots?: Record<string, Record<string, Record<string, unknown>>>;
  /** Dedupe keys already used (rule id → keys). */
  dedupe?: Record<string, string[]>;
  /** The daemon's state file: planning sees its dedupe keys, snapshots and round-robin positions (on a private copy). */
  statePath?: string;
  /** Values for env.NAME. @default process.env */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface DryRunResult {
  plan: PlanDocument;
  /** Fixtures mode: every call the emulator answered (the proof that only reads reached it). */
  portalCalls?: readonly CallRecord[];
}

/** Client configuration for an incoming-webhook URL (`{base}/rest/{user}/{code}/`). */
function webhookConfig(url: string, plan: RatePlan): ClientConfig {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/?$/.exec(url);
  if (!m) throw new Error(`unexpected emulator webhook URL shape: ${url}`);
  return { baseUrl: m[1] as string, plan, auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } };
}

/** Plan the items. Nothing is written: the client is read-only and the engine stops after planning. */
export async function dryRun(req: DryRunRequest): Promise<DryRunResult> {
  // Everything opened is closed in `finally`, also when a later step fails: a leaked emulator would keep the process alive.
  let state: ReturnType<typeof openStateCopy> | undefined;
  let store: ReturnType<typeof openStateStore> | undefined;
  let emulator: Awaited<ReturnType<typeof startEmulator>> | undefined;
  let client: ReturnType<typeof createClient> | undefined;
  try {
    state = req.statePath ? openStateCopy(req.statePath, () => req.at) : undefined;
    store = state?.store ?? openStateStore(':memory:', { now: () => req.at });
    // The emulator's clock stands still at `at`, so its leaky bucket would never drain: lift the limits (the estimate models them).
    if (req.portal.kind === 'fixtures') {
      emulator = await startEmulator({ port: 0, data: portalDataOf(req.portal.data) as PortalData, now: () => req.at, plan: req.ratePlan, limits: { burst: 1e9, drainPerSec: 1e9, operatingBudgetSec: 1e9 } });
    }
    const config: ClientConfig = emulator ? webhookConfig(emulator.webhookUrl, req.ratePlan) : (req.portal as { config: ClientConfig }).config;
    // Against the emulator the client's own leaky bucket would only slow tests down; against a portal it stays on.
    client = createClient(config, { readOnly: true, ...(emulator ? { rateLimit: false, retries: 0 } : {}) });
    const recorder = recordReads(client);
    for (const [entity, byId] of Object.entries(req.snapshots ?? {})) {
      for (const [id, fields] of Object.entries(byId)) store.snapshots.put(entity, id, { ID: id, ...fields });
    }
    for (const [ruleId, keys] of Object.entries(req.dedupe ?? {})) for (const k of keys) store.dedupe.put(ruleId, k);
    const engine = createEngine({ store, client: recorder.client, rules: req.rules, clock: () => req.at, mode: 'plan', options: { env: req.env ?? process.env } });
    const plan = await engine.planItems(req.items);
    const doc = toPlanDocument(plan, {
      source: req.portal.kind === 'fixtures' ? { mode: 'fixtures', fixtures: req.portal.label } : { mode: 'live', portal: req.portal.label },
      ruleFiles: req.ruleFiles,
      ruleIds: req.rules.map((r) => r.id),
      events: req.events,
      scheduleTicks: req.scheduleTicks,
      reads: recorder.reads(),
      readRequests: recorder.requests(),
      ratePlan: req.ratePlan,
      ...(req.cwd ? { cwd: req.cwd } : {}),
    });
    const result: DryRunResult = { plan: doc };
    if (emulator) result.portalCalls = [...emulator.calls.records];
    return result;
  } finally {
    if (state) state.dispose();
    else store?.close();
    await client?.close();
    await emulator?.close();
  }
}
