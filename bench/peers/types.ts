/** What a peer process is given and what it answers (one JSON line each way). */
import type { EmulatorReady } from '../emulator-process.js';

export type PeerKind = 'naive' | 'sdk';

export interface PeerConfig {
  kind: PeerKind;
  /** The portal as the peer sees it: the counting proxy. */
  portalUrl: string;
  app: EmulatorReady;
  /** Events to process before the peer stops (it reads the offline queue until it has them all). */
  events: number;
  /** @default 120000 */
  timeoutMs?: number;
}

export interface PeerResult {
  /** Date.now() when the work began (after the modules loaded) and when the last write was answered. */
  startedAt: number;
  endedAt: number;
  /** The peer process's CPU during the work (process.cpuUsage), ms. */
  cpuMs: number;
  processed: number;
}

/** A lead the peers act on, and the next round-robin position per team. */
export type RoundRobin = Map<string, number>;

/** The next user of `users` for team `key` (rules/03's round_robin, kept in memory). */
export function nextUser(rr: RoundRobin, key: string, users: number[]): number {
  const at = rr.get(key) ?? 0;
  rr.set(key, at + 1);
  return users[at % users.length] as number;
}
