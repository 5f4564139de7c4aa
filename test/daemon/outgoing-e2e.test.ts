/**
 * Outgoing webhooks end to end: the daemon runs with webhook auth (no OAuth),
 * the emulated portal POSTs its form-encoded events to the daemon's
 * /b24/events with the app's application_token, and the rule acts. A POST
 * with another token is refused and stores nothing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import type { ClientConfig } from '../../engine/client/types.js';
import { memoryLogger } from '../sources/helpers.js';
import { engineClient, userClient } from '../sources/emulator-helpers.js';
import { tempDir, until, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

describe('outgoing webhook source in the daemon', () => {
  it('receives the portal event POSTs, checks the token, and the rule acts (webhook auth, no offline queue)', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-outgoing-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'r.yaml', 'id: welcome\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome" }\n');
    const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl) as RegExpExecArray;
    const config: ClientConfig = { baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } };
    daemon = createDaemon({
      rulesPaths: [join(dir, 'rules')],
      statePath: join(dir, 'state.db'),
      config,
      logger: memoryLogger().logger,
      listen: '127.0.0.1:0',
      watch: false,
      tickIntervalMs: 50,
      applicationToken: emu.app.application_token,
    });
    await daemon.start();
    expect(await daemon.metrics.registry.render()).not.toContain('source="offline"');
    // The app subscribes the daemon's endpoint (what the portal's outgoing-webhook settings do).
    await engineClient(emu).call('event.bind', { event: 'ONCRMLEADADD', handler: `${daemon.url}/b24/events` });
    const lead = String((await userClient(emu).call<number>('crm.lead.add', { fields: { TITLE: 'Pushed' } })).result);
    // The portal's POST is sent in the background and never retried: wait for it to end, then see that the daemon took it.
    await emu.events.hub.idle();
    expect(emu.events.hub.deliveries().map((d) => ({ event: d.event, ok: d.ok, error: d.error }))).toEqual([{ event: 'ONCRMLEADADD', ok: true, error: undefined }]);
    await until(
      () => emu!.store.all('timeline_comment').some((c) => String(c.ENTITY_ID) === lead),
      `the comment from the pushed event (the stored event: ${JSON.stringify(daemon.store.inbox.list({ source: 'outgoing' }).map((i) => ({ status: i.status, attempts: i.attempts, lastError: i.lastError })))})`,
      90_000,
    );
    expect(daemon.metrics.eventsReceived.get({ source: 'outgoing' })).toBe(1);

    const forged = await fetch(`${daemon.url}/b24/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ event: 'ONCRMLEADADD', 'data[FIELDS][ID]': lead, 'auth[application_token]': 'not-the-token' }).toString(),
    });
    expect(forged.status).toBe(403);
    expect(daemon.store.inbox.list({ source: 'outgoing' })).toHaveLength(1);

    // A state file that became unusable: /healthz says so, and an event is refused with 500, never 200.
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    daemon.store.close();
    const health = await fetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy' });
    const lost = await fetch(`${daemon.url}/b24/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ event: 'ONCRMLEADADD', 'data[FIELDS][ID]': '1', 'auth[application_token]': emu.app.application_token }).toString(),
    });
    expect(lost.status).toBe(500);
  });
});
