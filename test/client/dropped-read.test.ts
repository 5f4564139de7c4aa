import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { fakeClock } from './helpers/fake-clock.js';
import { ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

// Methods the catalog leaves unclassified (kind null): the client once took them for writes and refused to re-send them.
describe('a read through a dropped connection is retried', () => {
  it.each([
    ['user.current', { ID: '1', NAME: 'Admin' }],
    ['app.info', { ID: 7, CODE: 'local.app', STATUS: 'L' }],
    ['crm.lead.fields', { TITLE: { type: 'string' } }],
    ['crm.contact.fields', { NAME: { type: 'string' } }],
  ])('%s: the first request is read and its socket destroyed; the client sends it again and returns the answer', async (method, result) => {
    server = await startServer((_req, n) => (n === 1 ? { drop: true } : ok(result)));
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), random: () => 0.5 });
    const env = await client.call(method);
    expect(env.result).toEqual(result);
    expect(server.count(method)).toBe(2);
    expect(client.stats.retries).toBe(1);
    expect(client.stats.outcomeUnknown).toBe(0);
  });
});
