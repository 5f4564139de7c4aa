/**
 * The naive loop: what a first script does. It takes the offline queue a
 * page at a time (`event.offline.get`, clear=1, the default page), and for
 * each event makes one REST call per read and per write, one after another:
 * get the lead, set its manager, notify the manager, write its score.
 */
import { CONNECTOR } from '../lead-scenario.js';
import { addedLeadId, writesFor } from './plan-writes.js';
import type { PeerConfig, RoundRobin } from './types.js';

async function rest<T>(c: PeerConfig, method: string, params: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${c.portalUrl}/rest/${method}.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...params, auth: c.app.access_token }) });
  const data = (await res.json()) as { result?: T; error?: string; error_description?: string };
  if (!res.ok || data.error) throw new Error(`${method}: HTTP ${res.status} ${data.error ?? ''} ${data.error_description ?? ''}`);
  return data.result as T;
}

/** Process `c.events` events; resolves with how many it did. */
export async function runNaive(c: PeerConfig): Promise<number> {
  const rr: RoundRobin = new Map();
  const deadline = Date.now() + (c.timeoutMs ?? 120_000);
  let processed = 0;
  while (processed < c.events) {
    if (Date.now() > deadline) throw new Error(`naive: ${processed} of ${c.events} events within the time limit`);
    const page = await rest<{ events?: Array<Record<string, unknown>> }>(c, 'event.offline.get', { clear: 1, auth_connector: CONNECTOR });
    const events = page.events ?? [];
    if (events.length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    for (const e of events) {
      const id = addedLeadId(e);
      if (id === null) continue;
      const lead = await rest<Record<string, unknown>>(c, 'crm.lead.get', { id });
      for (const [method, params] of writesFor(lead, rr)) await rest(c, method, params);
      processed++;
    }
  }
  return processed;
}
