/**
 * The tick's reader and dry-run's read recorder count what the reads cost from
 * the client's own `request` events: the count equals what a real HTTP server
 * received, retries and list pages included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { TickReader } from '../../engine/facts/reader.js';
import { recordReads } from '../../engine/plan/read-recorder.js';
import { fakeClock } from '../client/helpers/fake-clock.js';
import { webhookConfig } from '../client/helpers/config.js';
import { fail, ok, startServer, type Handler, type ScriptedServer } from '../client/helpers/scripted-server.js';

const LEADS = 2_600;

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** A portal with leads 1..2600: crm.lead.get by id, crm.lead.list by `>ID` pages of 50, and batches of those. */
function portal(refuseFirstBatch = false): Handler {
  const leadGet = (id: number) => ({ ID: String(id), TITLE: `Lead ${id}` });
  return (req) => {
    if (req.method === 'batch') {
      if (refuseFirstBatch && server!.count('batch') === 1) return fail(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');
      const cmd = req.body.cmd as Record<string, string>;
      const result: Record<string, unknown> = {};
      for (const [key, line] of Object.entries(cmd)) result[key] = leadGet(Number(new URLSearchParams(line.split('?')[1]).get('id')));
      return ok({ result, result_error: [], result_total: [], result_next: [], result_time: [] });
    }
    if (req.method === 'crm.lead.get') return ok(leadGet(Number(req.body.id)));
    if (req.method === 'crm.lead.list') {
      const after = Number((req.body.filter as Record<string, unknown>)['>ID'] ?? 0);
      const rows = [];
      for (let id = after + 1; id <= Math.min(LEADS, after + 50); id++) rows.push({ ID: String(id) });
      return ok(rows);
    }
    return fail(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
  };
}

async function setup(refuseFirstBatch = false): Promise<{ server: ScriptedServer; client: B24Client }> {
  server = await startServer(portal(refuseFirstBatch));
  client = createClient(webhookConfig(server.url), { clock: fakeClock(), random: () => 0.5, rateLimit: false });
  return { server, client };
}

const reads = (n: number) => Array.from({ length: n }, (_, i) => ({ method: 'crm.lead.get', params: { id: i + 1 } }));

describe('TickReader counts requests from the client\'s events', () => {
  it('120 distinct reads: 3 batch requests, as the server saw; asking again costs nothing', async () => {
    const { server, client } = await setup();
    const reader = new TickReader(client);
    const out = await reader.readAll([...reads(120), ...reads(10)]);
    expect(out.size).toBe(120);
    expect(server.count('batch')).toBe(3);
    expect(reader.requests).toBe(3);
    expect(reader.commands).toBe(120);
    await reader.readAll(reads(120));
    expect(reader.requests).toBe(3);
    expect(server.seen).toHaveLength(3);
  });

  it('a refused batch that is retried counts twice, as the server saw it twice', async () => {
    const { server, client } = await setup(true);
    const reader = new TickReader(client);
    await reader.readAll(reads(20));
    expect(server.count('batch')).toBe(2);
    expect(reader.requests).toBe(2);
  });

  it('a 2,600-row list: every page request the server received', async () => {
    const { server, client } = await setup();
    const reader = new TickReader(client);
    const rows = await reader.list('crm.lead.list', { limit: 10_000 });
    expect(rows).toHaveLength(LEADS);
    // 52 full pages and the empty one that ends the scan.
    expect(server.count('crm.lead.list')).toBe(53);
    expect(reader.requests).toBe(53);
  });

  it('a list cut short by its limit counts only the pages sent', async () => {
    const { server, client } = await setup();
    const reader = new TickReader(client);
    expect(await reader.list('crm.lead.list', { limit: 120 })).toHaveLength(120);
    expect(reader.requests).toBe(server.count('crm.lead.list'));
    expect(reader.requests).toBe(3);
  });
});

describe('the read recorder counts from the same events', () => {
  it('calls, batches and list pages through the recorder equal the server\'s count; the reader behind it counts too', async () => {
    const { server, client } = await setup();
    const rec = recordReads(client);
    await rec.client.call('crm.lead.get', { id: 1 });
    const reader = new TickReader(rec.client);
    await reader.readAll(reads(120));
    await reader.list('crm.lead.list', { limit: 10_000 });
    expect(server.seen).toHaveLength(1 + 3 + 53);
    expect(rec.requests()).toBe(server.seen.length);
    expect(reader.requests).toBe(3 + 53);
    expect(rec.reads().filter((r) => r.entity === 'lead')).toHaveLength(LEADS);
  });
});
