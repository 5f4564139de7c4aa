import { describe, expect, it } from 'vitest';
import type { B24ClientApi, CallOptions, Params } from '../../engine/client/types.js';
import { entityOfMethod, recordReads, rowsOfResult } from '../../engine/plan/read-recorder.js';

describe('read recorder', () => {
  it('maps read methods to entities and finds rows in their results', () => {
    expect(entityOfMethod('crm.deal.get')).toBe('deal');
    expect(entityOfMethod('CRM.LEAD.LIST')).toBe('lead');
    expect(entityOfMethod('crm.item.get', { entityTypeId: 1220 })).toBe('item:1220');
    expect(entityOfMethod('crm.item.get')).toBeNull();
    expect(entityOfMethod('tasks.task.list')).toBe('task');
    expect(entityOfMethod('crm.status.list')).toBeNull();
    expect(rowsOfResult({ task: { id: '5' } })).toEqual([{ id: '5' }]);
    expect(rowsOfResult({ items: [{ id: 1 }, null] })).toEqual([{ id: 1 }]);
    expect(rowsOfResult([{ ID: '1' }])).toEqual([{ ID: '1' }]);
  });

  it('fingerprints each record read (merging partial reads), counts requests, passes results through', async () => {
    // Like the real client, the stand-in reports each HTTP request it sends to the call's onEvent.
    const sent = (method: string, options?: CallOptions) => options?.onEvent?.({ type: 'request', method, status: 200, ms: 1 });
    const inner: B24ClientApi = {
      call: async <T,>(method: string, _params?: Params, options?: CallOptions) => {
        sent(method, options);
        return { result: (method === 'crm.deal.get' ? { ID: '7', TITLE: 'A', DATE_MODIFY: '2026-11-20T10:00:00+03:00' } : []) as T };
      },
      batch: async (_commands, options) => {
        sent('batch', options);
        return { a: { key: 'a', ok: true, result: [{ ID: '7', STAGE_ID: 'NEW' }, { ID: '10', STAGE_ID: 'WON' }] }, b: { key: 'b', ok: false, error: { error: 'X', error_description: 'y' } } };
      },
      listAll: <T,>(method: string, options?: CallOptions) => ({
        async *[Symbol.asyncIterator]() {
          sent(method, options);
          yield { ID: '3', NAME: 'Ann' } as T;
        },
      }),
    };
    const rec = recordReads(inner);
    expect((await rec.client.call('crm.deal.get', { id: 7 })).result).toMatchObject({ TITLE: 'A' });
    await rec.client.batch({ a: { method: 'crm.deal.list', params: {} }, b: { method: 'crm.lead.get', params: { id: 1 } } });
    for await (const _row of rec.client.listAll('user.get')) void _row;
    expect(rec.requests()).toBe(3);
    const reads = rec.reads();
    expect(reads.map((r) => [r.entity, r.id, r.fields, r.date_modify])).toEqual([
      ['deal', '7', ['DATE_MODIFY', 'ID', 'STAGE_ID', 'TITLE'], '2026-11-20T10:00:00+03:00'],
      ['deal', '10', ['ID', 'STAGE_ID'], undefined],
      ['user', '3', ['ID', 'NAME'], undefined],
    ]);
    expect(reads[0]!.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
