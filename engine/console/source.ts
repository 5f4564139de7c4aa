/**
 * What the console reads, and from whom: a ConsoleSource lists portals, each
 * with its state store, its running rules, its health and the last rule
 * reload it refused. The single daemon is one portal (daemon-portal.ts); a
 * worker serving many portals lists one per portal, and the console shows a
 * portal selector.
 */
import type { RefusedReload } from '../daemon/index.js';
import type { CompiledRule } from '../rules/index.js';
import type { StateStore } from '../store/index.js';

export type { RefusedReload };

/** One minute of a portal's health. Counts are for that minute; levels are read at its end. */
export interface HealthSample {
  /** The minute's start (ms since epoch). */
  at: number;
  /** Inbox items not yet done or dead. */
  depth: number;
  /** Entries in the dead-letter queue. */
  dlq: number;
  /** REST commands carried out in the minute (alone or inside a batch). */
  calls: number;
  /** Times the client waited for the portal's rate limits in the minute. */
  rateLimitWaits: number;
  /** Offline events: reservations taken from the portal's queue and not yet cleared. */
  offlineReservations: number;
  /** Minutes until the OAuth access token expires (negative: expired), null when unknown or webhook auth. */
  tokenMinutesLeft: number | null;
}

/** A portal's health now and over the last hour. */
export interface HealthView {
  /** The status server's health report (`/healthz`). */
  report: Record<string, unknown>;
  /** The current minute (still counting), then the earlier ones, oldest first. */
  samples: HealthSample[];
  /** Whether offline events are one of the portal's sources. */
  offline: boolean;
  /** When the OAuth access token expires (ms), null when unknown or webhook auth. */
  tokenExpiresAt: number | null;
}

/** One portal as the console sees it. */
export interface PortalView {
  /** Stable key (URLs: `?portal=KEY`). */
  readonly key: string;
  /** What the selector shows. */
  readonly label: string;
  /** Its state store (open while the portal runs). */
  readonly store: StateStore;
  /** The running rule set. */
  rules(): CompiledRule[];
  health(): HealthView;
  /** The last refused reload, or null when the last reload (or the start) took. */
  lastRefusedReload(): RefusedReload | null;
}

/** Where the console's data comes from. */
export interface ConsoleSource {
  portals(): PortalView[];
}
