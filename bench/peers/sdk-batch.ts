/**
 * The official SDK's batch helper as a peer (@bitrix24/b24jssdk, used as its
 * docs show: B24OAuth for a server-side app, `actions.v2.call` and
 * `actions.v2.batchByChunk`, its enterprise restriction preset, the same
 * plan as the daemon's client). Per page of the offline queue: the leads in
 * chunked `crm.lead.get` batches, then every write of the page in chunked
 * batches of 50.
 */
import { CONNECTOR } from '../lead-scenario.js';
import { addedLeadId, writesFor, type Command } from './plan-writes.js';
import type { PeerConfig, RoundRobin } from './types.js';

/** Process `c.events` events; resolves with how many it did. */
export async function runSdkBatch(c: PeerConfig): Promise<number> {
  const { B24OAuth, EnumAppStatus, ParamsFactory } = await import('@bitrix24/b24jssdk');
  const now = Math.floor(Date.now() / 1000);
  const b24 = new B24OAuth(
    {
      applicationToken: c.app.application_token,
      userId: 1,
      memberId: 'bench',
      accessToken: c.app.access_token,
      refreshToken: c.app.refresh_token,
      expires: now + 3600,
      expiresIn: 3600,
      scope: 'crm,im,task,user,placement',
      domain: new URL(c.portalUrl).host,
      clientEndpoint: `${c.portalUrl}/rest`,
      serverEndpoint: `${c.portalUrl}/rest/`,
      status: EnumAppStatus.Local,
    },
    { clientId: c.app.client_id, clientSecret: c.app.client_secret },
    { restrictionParams: ParamsFactory.getEnterprise() },
  );
  const rr: RoundRobin = new Map();
  const deadline = Date.now() + (c.timeoutMs ?? 120_000);
  let processed = 0;
  try {
    while (processed < c.events) {
      if (Date.now() > deadline) throw new Error(`sdk: ${processed} of ${c.events} events within the time limit`);
      const got = await b24.actions.v2.call.make<{ events?: Array<Record<string, unknown>> }>({ method: 'event.offline.get', params: { clear: 1, auth_connector: CONNECTOR } });
      if (!got.isSuccess) throw new Error(`sdk: event.offline.get: ${got.getErrorMessages().join('; ')}`);
      const ids = (got.getData()?.result.events ?? []).map(addedLeadId).filter((id): id is string => id !== null);
      if (ids.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const read = await b24.actions.v2.batchByChunk.make<Record<string, unknown>>({ calls: ids.map((id): Command => ['crm.lead.get', { id }]), options: { isHaltOnError: true } });
      if (!read.isSuccess) throw new Error(`sdk: reading leads: ${read.getErrorMessages().join('; ')}`);
      const writes = read.getData()!.flatMap((lead) => writesFor(lead, rr));
      const wrote = await b24.actions.v2.batchByChunk.make({ calls: writes, options: { isHaltOnError: true } });
      if (!wrote.isSuccess) throw new Error(`sdk: writing: ${wrote.getErrorMessages().join('; ')}`);
      processed += ids.length;
    }
  } finally {
    b24.destroy();
  }
  return processed;
}
