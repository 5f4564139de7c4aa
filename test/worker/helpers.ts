/**
 * Helpers of the worker tests: an emulator fleet whose portals are registered in a fresh PostgreSQL
 * database's control plane (OAuth, the app's pair of each portal), a rule folder, and changes made on a
 * portal by someone working in it (its incoming webhook), which the app receives as offline events; and
 * the workers of a test file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { silentLogger } from '../../engine/logger.js';
import { openControlPlane, PortalRegistry, type ControlPlane } from '../../engine/portals/index.js';
import { createWorker, type Worker, type WorkerOptions } from '../../engine/worker/index.js';
import type { EmulatorFleet, FleetPortal } from '../../emulator/index.js';
import { freshDatabase } from '../helpers/pg.js';

/** The rule of the worker tests: every new lead gets one comment naming its title (lookup recovery: exactly once across a kill). */
export const LEAD_RULE = `id: lead-seen
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "seen {{ lead.TITLE }}" }
`;

/** A temp rule folder holding `files` (name → YAML). */
export function ruleFolder(files: Record<string, string> = { 'lead.yaml': LEAD_RULE }): string {
  const dir = mkdtempSync(join(tmpdir(), 'b24-worker-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A fresh database with the control plane on it and every portal of `fleet` (from `from`) registered as an OAuth portal with its app pair. */
export async function fleetDeployment(fleet: EmulatorFleet, prefix: string, from = 0): Promise<{ url: string; cp: ControlPlane; registry: PortalRegistry }> {
  const url = await freshDatabase(prefix);
  const cp = await openControlPlane(url);
  const registry = new PortalRegistry(cp.pool);
  for (const p of fleet.portals.slice(from)) await addPortal(registry, p);
  return { url, cp, registry };
}

/** Register one fleet portal (OAuth, its current app pair). */
export async function addPortal(registry: PortalRegistry, p: FleetPortal): Promise<void> {
  await registry.addOAuth({ memberId: p.memberId, domain: p.url, accessToken: p.app.access_token, refreshToken: p.app.refresh_token });
}

/** The app's credentials as a worker takes them. */
export function appOf(fleet: EmulatorFleet): { clientId: string; clientSecret: string; oauthUrl: string } {
  return { clientId: fleet.clientId, clientSecret: fleet.clientSecret, oauthUrl: fleet.oauthUrl };
}

const users = new Map<FleetPortal, B24Client>();

/** Someone working in portal `p` (user 1's webhook, with the client's leaky bucket: the portal's is shared with the workers); closed by closeUsers(). */
export function userOf(p: FleetPortal): B24Client {
  let c = users.get(p);
  if (!c) {
    const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(p.webhookUrl);
    if (!m) throw new Error(`unexpected webhook url ${p.webhookUrl}`);
    c = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { retries: 10, backoffBaseMs: 100 });
    users.set(p, c);
  }
  return c;
}

export async function closeUsers(): Promise<void> {
  await Promise.all([...users.values()].map((c) => c.close()));
  users.clear();
}

/** Add `n` leads titled `<prefix>-<i>` to portal `p` (batches of 50): `n` ONCRMLEADADD events in the app's offline queue once it is bound. */
export async function addLeads(p: FleetPortal, prefix: string, n: number, from = 0): Promise<void> {
  const cmds = Array.from({ length: n }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `${prefix}-${from + i}` } } }));
  const res = await userOf(p).batch(cmds);
  const failed = Object.values(res).filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`adding leads on portal ${p.index} failed: ${JSON.stringify(failed[0])}`);
}

/** Whether the app on `p` has bound ONCRMLEADADD as an offline event (a worker serving it has started). */
export function bound(p: FleetPortal): boolean {
  return p.emulator.events.hub.bindings.forEvent('ONCRMLEADADD').length > 0;
}

/** The timeline comments on portal `p` by lead title: title → how many "seen <title>" comments. */
export function commentsByTitle(p: FleetPortal): Map<string, number> {
  const titles = new Map<string, string>();
  for (const l of p.emulator.store.all('lead')) titles.set(String(l.ID), String(l.TITLE));
  const out = new Map<string, number>();
  for (const c of p.emulator.store.all('timeline_comment')) {
    const text = String(c.COMMENT);
    if (!text.startsWith('seen ')) continue;
    const title = text.slice('seen '.length);
    out.set(title, (out.get(title) ?? 0) + 1);
    // A comment on another lead than the one it names would be a mix-up.
    if (titles.get(String(c.ENTITY_ID)) !== title) out.set(`(misplaced) ${title}`, 1);
  }
  return out;
}

/** Events (any state: pending, reserved, errored) still in portal `p`'s offline queue: 0 once every one was cleared. */
export function offlineQueued(p: FleetPortal): number {
  return p.emulator.events.hub.queue.snapshot().length;
}

/**
 * The workers of one test file, on its deployment and rule folder (given when a worker is made: they are set
 * in beforeAll): short lease timings with room for a loaded machine (a lease counts locally for 4.8 s after
 * each renewal, sent every 2 s: with a 2 s TTL, a stalled renewal lost a lease under CPU load), and one
 * monotonic clock whose `skew` a test moves to jump the workers' time.
 */
export function testWorkers(deployment: () => { url: string; rules: string; fleet: EmulatorFleet }): {
  workers: Worker[];
  clock: { skew: number };
  worker(id: string, extra?: Partial<WorkerOptions>): Worker;
  stopAll(): Promise<void>;
} {
  const workers: Worker[] = [];
  const clock = { skew: 0 };
  return {
    workers,
    clock,
    worker(id, extra = {}) {
      const { url, rules, fleet } = deployment();
      const w = createWorker({
        databaseUrl: url,
        workerId: id,
        rulesPaths: [rules],
        logger: silentLogger,
        listen: null,
        leaseTtlMs: 6000,
        leaseGraceMs: 1000,
        app: appOf(fleet),
        watch: false,
        monotonicNow: () => performance.now() + clock.skew,
        daemon: { tickIntervalMs: 50, offline: { pollIntervalMs: 50 }, drainTimeoutMs: 3000 },
        ...extra,
      });
      workers.push(w);
      return w;
    },
    async stopAll() {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    },
  };
}
