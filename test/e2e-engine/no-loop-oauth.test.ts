import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../engine/client/index.js';
import { createEngine } from '../../engine/pipeline/index.js';
import type { InboxItemInput } from '../../engine/store/types.js';
import { drain, harness, rules, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: next-step
trigger: { event: ONCRMDEALUPDATE }
actions:
  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_NEXT_STEP: "Engine was here" } }
`;

describe('no loops in OAuth mode', () => {
  it("the engine's own writes carry auth_connector, so the portal does not queue them back to the engine", async () => {
    h = await harness(RULE);
    const app = h.emu.app;
    const oauth = createClient(
      {
        baseUrl: h.emu.url,
        plan: 'enterprise',
        auth: { mode: 'oauth', accessToken: app.access_token, refreshToken: app.refresh_token, clientId: app.client_id, clientSecret: app.client_secret, oauthUrl: app.oauth_url, tokenFile: join(h.dir, 'tokens.json') },
      },
      { rateLimit: false, retries: 0, clock: h.clock, authConnector: 'b24rules' },
    );
    await oauth.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline', auth_connector: 'b24rules' });
    // A user changes deal 1: the portal queues it for the engine.
    await h.client.call('crm.deal.update', { id: 1, fields: { TITLE: 'Changed by a user' } });
    const got = await oauth.call<{ process_id: string; events: Array<{ MESSAGE_ID: string; EVENT_NAME: string; EVENT_DATA: Record<string, unknown> }> }>('event.offline.get', { clear: 0, auth_connector: 'b24rules' });
    expect(got.result.events).toHaveLength(1);
    const pid = got.result.process_id;
    const items: InboxItemInput[] = got.result.events.map((e) => ({
      source: 'offline',
      key: `${pid}:${e.MESSAGE_ID}`,
      event: e.EVENT_NAME,
      ruleId: null,
      payload: { event: e.EVENT_NAME, data: e.EVENT_DATA },
      processId: pid,
      messageId: e.MESSAGE_ID,
      receivedAt: h!.clock.now(),
    }));
    h.store.inbox.add(items);

    const engine = createEngine({ store: h.store, client: oauth, rules: rules(RULE), clock: h.clock.now });
    await drain(engine, h.clock);
    const update = h.emu.calls.of('crm.deal.update').find((c) => c.auth === 'oauth');
    expect(update?.params).toMatchObject({ id: '1', fields: { UF_CRM_NEXT_STEP: 'Engine was here' }, auth_connector: 'b24rules' });
    expect(h.store.inbox.finished('offline', pid).map((i) => i.status)).toEqual(['done']);
    await oauth.call('event.offline.clear', { process_id: pid, auth_connector: 'b24rules' });

    // The engine's own update was not queued back: nothing to read, no loop.
    const again = await oauth.call<{ events: unknown[] }>('event.offline.get', { clear: 0, auth_connector: 'b24rules' });
    expect(again.result.events).toHaveLength(0);
    // Control: the same write by someone else is queued.
    await h.client.call('crm.deal.update', { id: 1, fields: { UF_CRM_NEXT_STEP: 'Someone else' } });
    const control = await oauth.call<{ events: unknown[] }>('event.offline.get', { clear: 0, auth_connector: 'b24rules' });
    expect(control.result.events).toHaveLength(1);
  });
});
