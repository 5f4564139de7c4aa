/**
 * The inputs and outcome of one dry run as a person or an agent gives them:
 * the one definition `rules dry-run` (cli/dry-run-inputs.ts plans them) and
 * `rules mcp` (its dry_run tool, with the CLI's planner injected) share.
 */
import type { ClientConfig, ClientEvent } from '../client/index.js';
import type { LoadResult } from '../rules/index.js';
import type { PlanDocument, RatePlan } from './types.js';

/** The inputs of one dry run. */
export interface DryRunInputs {
  /** Loaded without errors. */
  loaded: LoadResult;
  /** A JSON-lines events file ('-' is stdin). */
  eventsFile?: string;
  /** The events themselves (instead of a file), with a label for messages. */
  events?: { text: string; label: string };
  fixturesFile?: string;
  /** The time (ms); undefined: now, and no schedule rule fires. */
  at?: number;
  /** The time as the caller wrote it, for messages. */
  atText?: string;
  /** The clock (ms) when `at` is not given, so that several plans of one command share it (rules diff); no schedule rule fires. @default Date.now() */
  now?: number;
  ratePlan: RatePlan;
  /** The daemon's state file, or a worker deployment's database (`postgres://...`, with `statePortal`). */
  statePath?: string;
  /** With a `postgres://` statePath: the portal (member_id or domain) whose state the plan starts from. */
  statePortal?: string;
  /** Client configuration of the live portal (when there are no fixtures). @default loadConfig() */
  liveConfig?: () => ClientConfig;
  /** Told of the planning client's events (requests, rate-limit waits): a progress display. */
  onClientEvent?: (event: ClientEvent) => void;
}

/** A planned dry run; `note` says why nothing was planned, when nothing was. */
export interface DryRunOutcome {
  plan: PlanDocument;
  note?: string;
  /** The portal read: the fixtures file, or the live portal's base URL (redacted). */
  portal: { kind: 'fixtures'; file: string } | { kind: 'live'; baseUrl: string };
}
