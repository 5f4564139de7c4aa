/**
 * The portal a dry run reads fixtures from, as the engine sees it: a ready
 * client configuration, the calls it answered and a way to stop it. The
 * engine never starts one itself (engine/ does not depend on emulator/): the
 * caller does (the CLI's `startFixturePortal`, an in-process emulator over
 * loopback) and injects it.
 */
import type { ClientConfig } from '../client/index.js';
import type { FixtureData } from '../testing/index.js';
import type { RatePlan } from './types.js';

/** One call a fixture portal answered, batch sub-commands included. */
export interface PortalCall {
  /** Method name as called (lowercase). */
  method: string;
  params: Record<string, unknown>;
  /** Set on a batch sub-command: the batch's sequence number and the command's key. */
  batch?: { parent: number; key: string };
}

/** A started portal serving fixture data. */
export interface FixturePortal {
  /** How a client reaches it. */
  readonly config: ClientConfig;
  /** Every call it has answered since it started, in order: the proof that only reads reached it. */
  calls(): readonly PortalCall[];
  /** Stop serving; the caller that started it closes it. */
  close(): Promise<void>;
}

export interface FixturePortalOptions {
  /** The portal's clock stands still at this time (ms since epoch): the same `at` the plan is made for. */
  at: number;
  /** A clock that moves instead (rule tests with steps, engine/testing/simulate.ts). @default () => at */
  now?: () => number;
  ratePlan: RatePlan;
}

/** Starts a portal on fixture data (injected into the rule-test runner and the dry-run command). */
export type StartFixturePortal = (data: FixtureData, options: FixturePortalOptions) => Promise<FixturePortal>;
