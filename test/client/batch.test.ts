import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { OutcomeUnknownError, WriteRefusedError } from '../../engine/client/errors.js';
import { fakeClock } from './helpers/fake-clock.js';
import { ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { PortalError, parsePhpQuery, runBatch, type MethodImpl } from './helpers/php-portal.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function crm() {
  let nextId = 100;
  const leads = new Map<number, Record<string, unknown>>();
  const executed: Array<{ method: string; params: Record<string, unknown> }> = [];
  const methods: Record<string, MethodImpl> = {
    'crm.lead.add': (p) => {
      const fields = p.fields as Record<string, unknown>;
      if (!fields?.TITLE) throw new PortalError(400, '', 'Required field TITLE is empty');
      const id = nextId++;
      leads.set(id, { ID: String(id), ...fields });
      return { result: id };
    },
    'crm.lead.get': (p) => {
      const lead = leads.get(Number(p.id));
      if (!lead) throw new PortalError(400, '', 'Not found');
      return { result: lead };
    },
    'crm.timeline.comment.add': (p) => {
      const f = p.fields as Record<string, unknown>;
      return { result: `comment on ${String(f.ENTITY_ID)}` };
    },
  };
  return { leads, executed, methods };
}

describe('batch', () => {
  it('120 commands with references and one failing command: 3 requests, every result separate', async () => {
    const portal = crm();
    server = await startServer((req) => {
      if (req.method !== 'batch') return ok(null);
      return { json: { result: runBatch(req.body, portal.methods, (method, params) => portal.executed.push({ method, params })), time: {} } };
    });
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const commands: Record<string, { method: string; params: Record<string, unknown> }> = {};
    for (let i = 0; i < 60; i++) {
      commands[`lead${i}`] = { method: 'crm.lead.add', params: { fields: { TITLE: i === 17 ? '' : `Lead ${i}`, OPPORTUNITY: i } } };
      commands[`note${i}`] = { method: 'crm.timeline.comment.add', params: { fields: { ENTITY_TYPE: 'lead', ENTITY_ID: `$result[lead${i}]`, COMMENT: 'Created & noted' } } };
    }
    // lead0 runs in the first chunk; this one lands in the third and must get lead0's ID resolved client-side.
    const all = { ...commands };
    const results = await client.batch(all);
    expect(server.count('batch')).toBe(3);
    expect(Object.keys(results)).toHaveLength(120);
    expect(Object.keys(results)).toEqual(Object.keys(all));

    expect(results.lead17?.ok).toBe(false);
    expect(results.lead17?.error).toEqual({ error: '', error_description: 'Required field TITLE is empty' });
    expect(results.lead18?.ok).toBe(true);
    expect(results.lead0).toMatchObject({ ok: true, result: 100 });
    // note24 sits in chunk 1 (commands 0-49 are lead0..note24), note25 after lead25 in chunk 2: all in-chunk references.
    expect(results.note0).toMatchObject({ ok: true, result: 'comment on 100' });
    expect(results.note59?.ok).toBe(true);
    // chunk boundary: lead24 is command 48, note24 command 49 (same chunk); lead25 is 50 and note25 51 (next chunk).
    const idOf = (k: string) => results[k]?.result as number;
    expect(results.note30?.result).toBe(`comment on ${idOf('lead30')}`);
    // the failing lead's comment ran with an unresolved reference on the portal (as a real portal would), others were unaffected
    expect(portal.leads.size).toBe(59);
    // encoding: nested fields and the & in the comment survive
    const noteParams = portal.executed.find((e) => e.method === 'crm.timeline.comment.add')?.params;
    expect(noteParams).toEqual({ fields: { ENTITY_TYPE: 'lead', ENTITY_ID: 100, COMMENT: 'Created & noted' } });
    expect(client.stats.batches).toBe(3);
    expect(client.stats.commands).toBe(120);
  });

  it('a reference to a command of an earlier chunk is resolved client-side; to a failed one, the command is not sent', async () => {
    const portal = crm();
    server = await startServer((req) => ({ json: { result: runBatch(req.body, portal.methods, (method, params) => portal.executed.push({ method, params })) } }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const commands: Record<string, { method: string; params: Record<string, unknown> }> = {
      good: { method: 'crm.lead.add', params: { fields: { TITLE: 'A' } } },
      bad: { method: 'crm.lead.add', params: { fields: { TITLE: '' } } },
    };
    for (let i = 0; i < 48; i++) commands[`filler${i}`] = { method: 'crm.lead.get', params: { id: 100 } };
    commands.late = { method: 'crm.timeline.comment.add', params: { fields: { ENTITY_ID: '$result[good]', COMMENT: 'x' } } };
    commands.lateText = { method: 'crm.timeline.comment.add', params: { fields: { ENTITY_ID: 'L$result[good]', COMMENT: 'x' } } };
    commands.orphan = { method: 'crm.timeline.comment.add', params: { fields: { ENTITY_ID: '$result[bad]', COMMENT: 'x' } } };
    const results = await client.batch(commands);
    expect(server.count('batch')).toBe(2);
    expect(results.late).toMatchObject({ ok: true, result: 'comment on 100' });
    expect(results.lateText).toMatchObject({ ok: true, result: 'comment on L100' });
    expect(results.orphan?.ok).toBe(false);
    expect(results.orphan?.error?.error).toBe('BATCH_REFERENCE_FAILED');
    const secondChunk = server.seen[1]?.body.cmd as Record<string, string>;
    expect(Object.keys(secondChunk)).toEqual(['late', 'lateText']);
    expect(parsePhpQuery(secondChunk.late?.split('?')[1] ?? '')).toEqual({ fields: { ENTITY_ID: '100', COMMENT: 'x' } });
  });

  it('halt: stops at the first failure and reports the commands that did not run', async () => {
    const portal = crm();
    server = await startServer((req) => ({ json: { result: runBatch(req.body, portal.methods) } }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const results = await client.batch(
      [
        { method: 'crm.lead.add', params: { fields: { TITLE: 'A' } } },
        { method: 'crm.lead.add', params: { fields: { TITLE: '' } } },
        { method: 'crm.lead.add', params: { fields: { TITLE: 'C' } } },
      ],
      { halt: true },
    );
    expect(server.seen[0]?.body.halt).toBe(1);
    expect(results['0']?.ok).toBe(true);
    expect(results['1']?.ok).toBe(false);
    expect(results['2']?.error?.error).toBe('BATCH_HALTED');
    expect(portal.leads.size).toBe(1);
  });

  it('encodes commands the way the portal expects', async () => {
    server = await startServer(() => ok({ result: [], result_error: [], result_total: [], result_next: [], result_time: [] }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    await client.batch({
      q: { method: 'crm.deal.list', params: { filter: { '>ID': 0, '@STAGE_ID': ['NEW', 'WON'], CLOSED: false }, select: ['ID', 'TITLE'], order: { ID: 'ASC' }, start: -1 } },
      u: { method: 'user.current' },
    });
    const cmd = server.seen[0]?.body.cmd as Record<string, string>;
    expect(cmd.q).toBe('crm.deal.list?filter[%3EID]=0&filter[%40STAGE_ID][0]=NEW&filter[%40STAGE_ID][1]=WON&filter[CLOSED]=0&select[0]=ID&select[1]=TITLE&order[ID]=ASC&start=-1');
    expect(cmd.u).toBe('user.current');
    expect(parsePhpQuery(cmd.q?.split('?')[1] ?? '')).toEqual({
      filter: { '>ID': '0', '@STAGE_ID': { 0: 'NEW', 1: 'WON' }, CLOSED: '0' },
      select: { 0: 'ID', 1: 'TITLE' },
      order: { ID: 'ASC' },
      start: '-1',
    });
  });

  it('a list result in a batch carries total and next; PHP empty arrays are accepted', async () => {
    server = await startServer(() =>
      ok({ result: { a: [{ ID: '1' }], b: [] }, result_error: [], result_total: { a: 120 }, result_next: { a: 50 }, result_time: [] }),
    );
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const r = await client.batch({ a: { method: 'crm.lead.list' }, b: { method: 'crm.deal.list' } });
    expect(r.a).toEqual({ key: 'a', ok: true, result: [{ ID: '1' }], total: 120, next: 50 });
    expect(r.b).toEqual({ key: 'b', ok: true, result: [] });
  });

  it('readOnly refuses a batch with any write command before sending anything', async () => {
    server = await startServer(() => ok(null));
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), readOnly: true });
    const err = await client.batch({ r: { method: 'crm.lead.get', params: { id: 1 } }, w: { method: 'crm.lead.update', params: { id: 1 } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteRefusedError);
    expect((err as WriteRefusedError).code).toBe('WRITE_REFUSED');
    expect((err as WriteRefusedError).command).toBe('w');
    expect(server.seen).toHaveLength(0);
  });

  it('a batch that creates records and loses its connection is OUTCOME_UNKNOWN, not re-sent', async () => {
    server = await startServer(() => ({ drop: true }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const err = await client.batch({ a: { method: 'crm.lead.add', params: { fields: { TITLE: 'A' } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect((err as OutcomeUnknownError).method).toBe('batch');
    expect((err as OutcomeUnknownError).commands).toEqual([{ key: 'a', method: 'crm.lead.add', params: { fields: { TITLE: 'A' } } }]);
    expect((err as OutcomeUnknownError).completed).toEqual({});
    expect(server.count('batch')).toBe(1);
  });

  it('a batch of reads is retried after a dropped connection', async () => {
    server = await startServer((_r, n) => (n === 1 ? { drop: true } : ok({ result: { a: { ID: '1' } }, result_error: [] })));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const r = await client.batch({ a: { method: 'crm.lead.get', params: { id: 1 } } });
    expect(r.a?.ok).toBe(true);
    expect(server.count('batch')).toBe(2);
  });

  it('call("batch", {cmd}) passes command strings through, guarded by readOnly', async () => {
    server = await startServer(() => ok({ result: { a: 1 }, result_error: [] }));
    client = createClient(webhookConfig(server.url), { clock: fakeClock() });
    const env = await client.call('batch', { halt: 0, cmd: { a: 'crm.lead.get?id=1' } });
    expect(env.result).toEqual({ result: { a: 1 }, result_error: [] });
    expect(server.seen[0]?.body).toEqual({ halt: 0, cmd: { a: 'crm.lead.get?id=1' } });
    const ro = createClient(webhookConfig(server.url), { clock: fakeClock(), readOnly: true });
    await expect(ro.call('batch', { cmd: { a: 'crm.lead.get?id=1', b: 'crm.lead.delete?id=1' } })).rejects.toMatchObject({ code: 'WRITE_REFUSED', command: 'b' });
    await ro.close();
    expect(server.seen).toHaveLength(1);
  });

  it("result_time of each command feeds that method's execution budget", async () => {
    const start = 1_700_000_000_000;
    server = await startServer((req) =>
      req.method === 'batch'
        ? ok({ result: { a: [] }, result_error: [], result_time: { a: { start: 0, finish: 0, duration: 0, operating: 480, operating_reset_at: start / 1000 + 40 } } })
        : ok([]),
    );
    const clock = fakeClock(start);
    client = createClient(webhookConfig(server.url), { clock });
    await client.batch({ a: { method: 'crm.deal.list' } });
    await client.call('crm.lead.list', {});
    expect(clock.now()).toBe(start);
    await client.call('crm.deal.list', {});
    expect(clock.now()).toBe(start + 40_000);
  });

  it('a command refused with OPERATION_TIME_LIMIT holds its method for later calls', async () => {
    const start = 1_700_000_000_000;
    server = await startServer((req) =>
      req.method === 'batch'
        ? ok({ result: { b: [] }, result_error: { a: { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked' } } })
        : ok([]),
    );
    const clock = fakeClock(start);
    client = createClient(webhookConfig(server.url), { clock, operating: { fallbackWaitMs: 30_000 } });
    const r = await client.batch({ a: { method: 'crm.deal.list' }, b: { method: 'crm.lead.list' } });
    expect(r.a?.error?.error).toBe('OPERATION_TIME_LIMIT');
    await client.call('crm.lead.list', {});
    expect(clock.now()).toBe(start);
    await client.call('crm.deal.list', {});
    expect(clock.now()).toBe(start + 30_000);
  });
});
