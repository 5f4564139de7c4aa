import { afterEach, describe, expect, it } from 'vitest';
import { createClient, WriteRefusedError, type B24Client } from '../../engine/client/index.js';
import { fakeClock } from './helpers/fake-clock.js';
import { ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
});

describe('readOnly (dry-run guard)', () => {
  it('refuses writes and unclassified methods before sending; reads go through', async () => {
    server = await startServer(() => ok([]));
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), readOnly: true });
    // event.test: unclassified by the catalog and named by no read verb (user.current, once here, is a read now).
    for (const method of ['crm.lead.add', 'crm.deal.update', 'event.test', 'no.such.method']) {
      const err = await client.call(method, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteRefusedError);
      expect((err as WriteRefusedError).code).toBe('WRITE_REFUSED');
      expect((err as WriteRefusedError).kind).toBe('user');
    }
    await expect(client.call('event.offline.get', {})).rejects.toBeInstanceOf(WriteRefusedError);
    expect(server.seen).toHaveLength(0);
    await client.call('crm.lead.list', {});
    await client.call('event.offline.get', { clear: 0 });
    expect(server.seen.map((s) => s.method)).toEqual(['crm.lead.list', 'event.offline.get']);
    expect(client.readOnly).toBe(true);
  });

  it('reads the catalog leaves unclassified (user.current, app.info, crm.contact.fields) go through', async () => {
    server = await startServer(() => ok({}));
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), readOnly: true });
    for (const method of ['user.current', 'app.info', 'crm.contact.fields']) await client.call(method, {});
    expect(server.seen.map((s) => s.method)).toEqual(['user.current', 'app.info', 'crm.contact.fields']);
  });

  it('an invalid method name is refused before anything is sent', async () => {
    server = await startServer(() => ok([]));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    await expect(client.call('../etc/passwd', {})).rejects.toMatchObject({ code: 'INVALID_METHOD' });
    expect(server.seen).toHaveLength(0);
  });

  it('webhook URLs are {base}/rest/{user}/{code}/{method}.json with a JSON body; stats and events are reported', async () => {
    server = await startServer(() => ok({ ok: 1 }));
    const events: string[] = [];
    client = createClient({ ...webhookConfig(`${'http://127.0.0.1'}:1`), baseUrl: server.url }, { clock: fakeClock(), onEvent: (e) => events.push(e.type) });
    await client.call('crm.lead.get', { id: 5, filter: { '>ID': 1 } });
    expect(server.seen[0]?.path).toMatch(/^\/rest\/1\/[^/]+\/crm\.lead\.get\.json$/);
    expect(server.seen[0]?.headers['content-type']).toBe('application/json');
    expect(server.seen[0]?.body).toEqual({ id: 5, filter: { '>ID': 1 } });
    expect(events).toEqual(['request']);
    expect(client.stats.requests).toBe(1);
  });
});
