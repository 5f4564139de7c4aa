/** batch. Doc page: settings/how-to-call-rest-api/batch.md (cmd, halt, $result references, result/result_error/result_total/result_next/result_time, 50 commands). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { stringifyPhpQuery } from '../../emulator/php-query.js';
import { NO_RATE_LIMIT, emulator, get, hook, type Row } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ limits: NO_RATE_LIMIT }));
  const rows = Array.from({ length: 120 }, (_, i) => ({ TITLE: `Bulk ${i + 1}`, SOURCE_ID: 'WEB' }));
  emu.store.seed('lead', rows);
});
afterAll(() => emu.close());

type BatchResult = { result: Record<string, unknown> | unknown[]; result_error: Record<string, unknown> | unknown[]; result_total: Record<string, unknown> | unknown[]; result_next: Record<string, unknown> | unknown[]; result_time: Record<string, unknown> | unknown[] };

describe('batch', () => {
  it("the doc page's own example: user.current, then department.get?ID=$result[get_user][UF_DEPARTMENT][0]", async () => {
    const a = await hook(emu, 'batch', { halt: 0, cmd: { get_user: 'user.current', get_department: 'department.get?ID=$result[get_user][UF_DEPARTMENT][0]' } });
    const r = a.body.result as BatchResult;
    const res = r.result as Record<string, unknown>;
    expect((res.get_user as Row).ID).toBe('1');
    expect(res.get_department).toEqual([{ ID: '1', NAME: 'Acme Trading', SORT: 100, UF_HEAD: '1' }]);
    expect(r.result_error).toEqual([]);
    expect(r.result_total).toEqual({ get_department: 1 });
    expect(r.result_next).toEqual([]);
    // A command's time has no operating keys; the outer time has none either.
    expect(Object.keys((r.result_time as Record<string, Row>).get_user as Row).sort()).toEqual(['date_finish', 'date_start', 'duration', 'finish', 'processing', 'start']);
    expect('operating' in (a.body.time as Row)).toBe(false);
  });

  it('the HTTP form of the same example (double-encoded cmd in the query string)', async () => {
    const a = await get(`${emu.webhookUrl}batch`, 'halt=0&cmd[get_user]=user.current%3F&cmd[get_department]=department.get%3FID%3D%2524result%255Bget_user%255D%255BUF_DEPARTMENT%255D%255B0%255D');
    const res = (a.body.result as BatchResult).result as Record<string, Row[]>;
    expect(res.get_department?.[0]?.NAME).toBe('Acme Trading');
  });

  it('runs commands in order and substitutes $result[cmd][i][FIELD] (keyset paging recipe)', async () => {
    const a = await hook(emu, 'batch', {
      cmd: {
        page1: 'crm.lead.list?order[ID]=ASC&filter[>ID]=0&select[]=ID&start=-1',
        page2: 'crm.lead.list?order[ID]=ASC&filter[>ID]=$result[page1][49][ID]&select[]=ID&start=-1',
        one: 'crm.lead.get?id=$result[page2][0][ID]',
      },
    });
    expect(a.status).toBe(200);
    const r = a.body.result as BatchResult;
    const res = r.result as Record<string, Row[] | Row>;
    const p1 = res.page1 as Row[];
    const p2 = res.page2 as Row[];
    expect(p1).toHaveLength(50);
    expect(Number(p2[0]?.ID)).toBe(Number(p1[49]?.ID) + 1);
    expect((res.one as Row).ID).toBe(p2[0]?.ID);
    expect(r.result_total).toEqual({ page1: 0, page2: 0 });
    expect(r.result_next).toEqual([]);
    expect(r.result_error).toEqual([]);
    expect(Object.keys(r.result_time as Row)).toEqual(['page1', 'page2', 'one']);
  });

  it('reports result_total and result_next for list commands', async () => {
    const a = await hook(emu, 'batch', { cmd: { all: 'crm.lead.list?select[]=ID', second: 'crm.lead.list?select[]=ID&start=50' } });
    const r = a.body.result as BatchResult;
    expect(r.result_total).toEqual({ all: 140, second: 140 });
    expect(r.result_next).toEqual({ all: 50, second: 100 });
  });

  it('a reference to an array expands into key[i]=... (filter[@ID]=$result[ids])', async () => {
    const a = await hook(emu, 'batch', { cmd: { deals: 'crm.deal.list?filter[<ID]=4&select[]=ID', again: 'crm.deal.list?select[]=TITLE&filter[@ID][]=$result[deals][0][ID]&filter[@ID][]=$result[deals][2][ID]' } });
    const res = (a.body.result as BatchResult).result as Record<string, Row[]>;
    expect(res.again?.map((d) => d.ID)).toEqual(['1', '3']);
  });

  it('per-command errors go to result_error without failing the batch (halt=0)', async () => {
    const a = await hook(emu, 'batch', { cmd: { bad: 'crm.deal.get?id=999999', good: 'crm.deal.get?id=1', unknown: 'no.such.method' } });
    expect(a.status).toBe(200);
    const r = a.body.result as BatchResult;
    expect(r.result_error).toEqual({ bad: { error: '', error_description: 'Not found' }, unknown: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
    expect(Object.keys(r.result as Row)).toEqual(['good']);
  });

  it('halt=1 stops at the first failure', async () => {
    const a = await hook(emu, 'batch', { halt: 1, cmd: ['crm.deal.get?id=1', 'crm.deal.get?id=999999', 'crm.deal.get?id=2'] });
    const r = a.body.result as BatchResult;
    // A list of commands gives numeric keys; PHP encodes 0..n-1 keys as a JSON array.
    expect(Array.isArray(r.result)).toBe(true);
    expect((r.result as Row[]).map((d) => d.ID)).toEqual(['1']);
    expect(r.result_error).toEqual({ '1': { error: '', error_description: 'Not found' } });
    expect(emu.calls.of('crm.deal.get', { batch: true }).some((c) => c.params.id === '2')).toBe(false);
  });

  it('more than 50 commands: 400 ERROR_BATCH_LENGTH_EXCEEDED', async () => {
    const cmd = Array.from({ length: 51 }, () => 'server.time');
    expect(await hook(emu, 'batch', { cmd })).toEqual({ status: 400, body: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' } });
  });

  it('a nested batch fails with ERROR_BATCH_METHOD_NOT_ALLOWED', async () => {
    const a = await hook(emu, 'batch', { cmd: { inner: 'batch?cmd[x]=server.time' } });
    expect((a.body.result as BatchResult).result_error).toEqual({ inner: { error: 'ERROR_BATCH_METHOD_NOT_ALLOWED', error_description: 'Method is not allowed for batch usage' } });
  });

  it('accepts the double-encoded GET form, writes included (John%2526Martin keeps its ampersand)', async () => {
    const qs = stringifyPhpQuery({ cmd: { add: `crm.lead.add?fields[TITLE]=${encodeURIComponent('John&Martin')}`, read: 'crm.lead.get?id=$result[add]' } });
    const a = await get(`${emu.webhookUrl}batch`, qs);
    const res = (a.body.result as BatchResult).result as Record<string, unknown>;
    expect((res.read as Row).TITLE).toBe('John&Martin');
  });

  it('records sub-commands with the batch they belong to', async () => {
    emu.calls.clear();
    await hook(emu, 'batch', { cmd: { x: 'server.time', y: 'crm.deal.get?id=1' } });
    const parent = emu.calls.of('batch')[0];
    expect(parent?.batch).toBeUndefined();
    expect(emu.calls.records.map((c) => c.method)).toEqual(['batch', 'server.time', 'crm.deal.get']);
    expect(emu.calls.records.filter((c) => c.batch).map((c) => [c.method, c.batch?.key, c.batch?.parent])).toEqual([
      ['server.time', 'x', parent?.seq],
      ['crm.deal.get', 'y', parent?.seq],
    ]);
  });
});
