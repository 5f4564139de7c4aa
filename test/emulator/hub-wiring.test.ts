/**
 * Writes reach the event hub: an offline binding queues them, an online one gets a form POST.
 * Doc pages: api-reference/events/offline-events.md, event-offline-get.md, api-reference/events/index.md (handler request format),
 * api-reference/crm/deals/events/on-crm-deal-update.md.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { parsePhpQuery } from '../../emulator/php-query.js';
import { NO_RATE_LIMIT, emulator, hook, oauth, type Row } from './helpers.js';

let emu: Emulator;
let receiver: Server;
const received: Array<Record<string, unknown>> = [];
let handlerUrl = '';

beforeAll(async () => {
  ({ emu } = await emulator({ limits: NO_RATE_LIMIT }));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(parsePhpQuery(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  handlerUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => receiver.close(r));
});

describe('CallContext.emit reaches the hub', () => {
  it('an offline binding queues ONCRMDEALUPDATE after crm.deal.update through a webhook', async () => {
    expect((await oauth(emu, 'event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' })).body.result).toBe(true);
    await hook(emu, 'crm.deal.update', { id: 3, fields: { TITLE: 'Touched' } });
    const got = await oauth(emu, 'event.offline.get', {});
    const events = (got.body.result as { events: Row[] }).events;
    expect(events.map((e) => e.EVENT_NAME)).toEqual(['ONCRMDEALUPDATE']);
  });

  it('an online binding gets a form POST with event, data[FIELDS][ID] and auth[application_token]', async () => {
    expect((await oauth(emu, 'event.bind', { event: 'ONCRMLEADADD', handler: handlerUrl })).body.result).toBe(true);
    const id = (await hook(emu, 'crm.lead.add', { fields: { TITLE: 'Pushed' } })).body.result;
    await emu.events.hub.idle();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ event: 'ONCRMLEADADD', data: { FIELDS: { ID: String(id) } }, auth: { application_token: emu.app.application_token, member_id: emu.app.member_id } });
  });
});
