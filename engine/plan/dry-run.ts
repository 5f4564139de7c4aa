/**
 * The dry-run harness: plan inbox items with the real engine (`mode: 'plan'`,
 * `planItems`) through the real REST client in read-only mode, against either
 * a live portal or a fixture portal the caller started (the CLI serves
 * fixtures with an in-process emulator over loopback; engine/ does not depend
 * on the emulator). Both go through one code path, so what a test or a CI plan
 * shows is what the daemon would do. The client refuses every write before
 * sending it (catalog kind; unknown = write), so a mistake in the engine
 * cannot leak one.
 */
import { createClient, type ClientConfig, type ClientEvent } from '../client/index.js';
import { createEngine } from '../pipeline/index.js';
import type { CompiledRule } from '../rules/index.js';
import { isPostgresUrl, openStateStore, type InboxItemInput } from '../store/index.js';
import { UsageError } from '../errors.js';
import type { FixturePortal, PortalCall } from './fixture-portal.js';
import { toPlanDocument } from './from-engine.js';
import { recordReads } from './read-recorder.js';
import { openPgStateCopy, openStateCopy, type StateCopy } from './state-copy.js';
import type { PlanDocument, RatePlan } from './types.js';

/**
 * Where the plan reads from: a fixture portal started by the caller (and
 * closed by it afterwards), or the live portal of a client configuration.
 * `label` names it in the plan.
 */
export type PortalSource = { kind: 'fixtures'; portal: FixturePortal; label: string } | { kind: 'live'; config: ClientConfig; label: string };

export interface DryRunRequest {
  rules: CompiledRule[];
  ruleFiles: string[];
  items: InboxItemInput[];
  /** The clock (ms since epoch) for the engine (a fixture portal is started with the same). */
  at: number;
  events: number;
  scheduleTicks: Array<{ rule: string; at: string }>;
  portal: PortalSource;
  ratePlan: RatePlan;
  /** What the engine remembers of records from before (entity → id → fields). */
  snapshots?: Record<string, Record<string, Record<string, unknown>>>;
  /** Dedupe keys already used (rule id → keys). */
  dedupe?: Record<string, string[]>;
  /**
   * The daemon's state file, or a worker deployment's database (`postgres://...`, with `statePortal`): planning sees
   * its dedupe keys, snapshots and round-robin positions (on a private copy).
   */
  statePath?: string;
  /** With a `postgres://` statePath: the portal (member_id or domain) whose state is read. */
  statePortal?: string;
  /** Values for env.NAME. @default process.env */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Told of the client's events (requests, rate-limit waits) as they happen: a progress display. */
  onClientEvent?: (event: ClientEvent) => void;
}

export interface DryRunResult {
  plan: PlanDocument;
  /** Fixtures mode: every call the fixture portal has answered (the proof that only reads reached it). */
  portalCalls?: readonly PortalCall[];
}

/** The private copy of the state the plan starts from: of a state file, or of one portal's state in PostgreSQL. */
async function stateCopy(path: string, portal: string | undefined, now: () => number): Promise<StateCopy> {
  if (!isPostgresUrl(path)) return openStateCopy(path, now);
  if (!portal) throw new UsageError("--state postgres://... holds many portals' state: name the portal with --portal MEMBER_ID (or its domain; see rules portals list)");
  return openPgStateCopy(path, portal, now);
}

/** Plan the items. Nothing is written: the client is read-only and the engine stops after planning. */
export async function dryRun(req: DryRunRequest): Promise<DryRunResult> {
  // Everything opened here is closed in `finally`, also when a later step fails. The fixture portal is the caller's to close.
  let state: StateCopy | undefined;
  let store: ReturnType<typeof openStateStore> | undefined;
  let client: ReturnType<typeof createClient> | undefined;
  const fixtures = req.portal.kind === 'fixtures' ? req.portal.portal : undefined;
  try {
    state = req.statePath ? await stateCopy(req.statePath, req.statePortal, () => req.at) : undefined;
    store = state?.store ?? openStateStore(':memory:', { now: () => req.at });
    const config: ClientConfig = req.portal.kind === 'fixtures' ? req.portal.portal.config : req.portal.config;
    // Against a loopback fixture portal the client's own leaky bucket would only slow tests down; against a portal it stays on.
    client = createClient(config, { readOnly: true, ...(fixtures ? { rateLimit: false, retries: 0 } : {}), ...(req.onClientEvent ? { onEvent: req.onClientEvent } : {}) });
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
    const byId = new Map(req.rules.map((r) => [r.id, r]));
    for (const f of doc.firings) {
      const names = byId.get(f.rule)?.names;
      if (names?.length) f.names = names.map((n) => ({ kind: n.kind, name: n.name, id: n.id, path: n.path, line: n.line }));
    }
    const result: DryRunResult = { plan: doc };
    if (fixtures) result.portalCalls = [...fixtures.calls()];
    return result;
  } finally {
    if (state) state.dispose();
    else store?.close();
    await client?.close();
  }
}
