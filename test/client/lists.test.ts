import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { B24ApiError } from '../../engine/client/errors.js';
import { fakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { PortalError, runBatch, type MethodImpl } from './helpers/php-portal.js';
import { webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** A list method over IDs 1..n (with gaps) that supports `>ID` keyset paging, start=-1 and offset paging. */
function listMethod(ids: number[], shape: { itemsKey?: string; idKey: string; cursorKey: string }): MethodImpl {
  return (p) => {
    const filter = (p.filter ?? {}) as Record<string, unknown>;
    const gt = filter[`>${shape.cursorKey}`];
    if (gt !== undefined && (typeof gt === 'object' || Number.isNaN(Number(gt)))) throw new PortalError(400, 'INVALID_FILTER', 'bad >ID');
    const from = gt === undefined ? -Infinity : Number(gt);
    const order = p.order as Record<string, string> | undefined;
    if (gt !== undefined && order?.[shape.cursorKey] !== 'ASC') throw new PortalError(400, 'TEST', 'keyset paging must order by the cursor');
    const matching = ids.filter((id) => id > from);
    const start = Number(p.start ?? 0);
    const page = (start === -1 ? matching.slice(0, 50) : matching.slice(start, start + 50)).map((id) => ({
      [shape.idKey]: shape.idKey === 'ID' ? String(id) : id,
      TITLE: `row ${id}`,
    }));
    const result = shape.itemsKey ? { [shape.itemsKey]: page } : page;
    if (start === -1) return { result, total: 0 };
    return { result, total: matching.length, ...(start + 50 < matching.length ? { next: start + 50 } : {}) };
  };
}

function ids(n: number): number[] {
  // gaps, so paging by offset and by ID differ
  return Array.from({ length: n }, (_, i) => i * 3 + 1);
}

async function portal(methods: Record<string, MethodImpl>) {
  server = await startServer((req) => {
    try {
      if (req.method === 'batch') return { json: { result: runBatch(req.body, methods), time: {} } };
      const impl = methods[req.method];
      if (!impl) return fail(404, 'ERROR_METHOD_NOT_FOUND');
      const r = impl(req.body);
      return ok(r.result, { total: r.total, ...(r.next !== undefined ? { next: r.next } : {}) });
    } catch (err) {
      const e = err as PortalError;
      return fail(e.status, e.error, e.description);
    }
  });
  client = createClient(webhookConfig(server.url), { clock: fakeClock() });
  return { server, client };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('listAll (start=-1, >ID keyset)', () => {
  it('reads 5,000 rows in 101 requests, in ID order, with no duplicates', async () => {
    const all = ids(5000);
    const { server, client } = await portal({ 'crm.lead.list': listMethod(all, { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listAll<{ ID: string }>('crm.lead.list', { select: ['TITLE'] }));
    expect(rows.map((r) => Number(r.ID))).toEqual(all);
    expect(server.count('crm.lead.list')).toBe(101);
    const first = server.seen[0]?.body as Record<string, unknown>;
    expect(first).toMatchObject({ start: -1, order: { ID: 'ASC' }, filter: { '>ID': 0 }, select: ['TITLE', 'ID'] });
    expect((server.seen[1]?.body.filter as Record<string, unknown>)['>ID']).toBe(148);
  });

  it('keeps the caller filter and limit', async () => {
    const { server, client } = await portal({ 'crm.lead.list': listMethod(ids(500), { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listAll<{ ID: string }>('crm.lead.list', { filter: { '>ID': 100, STATUS_ID: 'NEW' }, limit: 70 }));
    expect(rows).toHaveLength(70);
    expect(Number(rows[0]?.ID)).toBe(103);
    expect(server.seen[0]?.body.filter).toEqual({ STATUS_ID: 'NEW', '>ID': 100 });
    expect(server.count('crm.lead.list')).toBe(2);
  });

  it('crm.item.list: rows under result.items, camelCase id', async () => {
    const { server, client } = await portal({ 'crm.item.list': listMethod(ids(120), { itemsKey: 'items', idKey: 'id', cursorKey: 'id' }) });
    const rows = await collect(client.listAll<{ id: number }>('crm.item.list', { params: { entityTypeId: 2 } }));
    expect(rows).toHaveLength(120);
    expect(server.seen[0]?.body).toMatchObject({ entityTypeId: 2, order: { id: 'ASC' }, filter: { '>id': 0 } });
  });

  it('tasks.task.list: rows under result.tasks with id, filtered by ID', async () => {
    const { server, client } = await portal({ 'tasks.task.list': listMethod(ids(75), { itemsKey: 'tasks', idKey: 'id', cursorKey: 'ID' }) });
    const rows = await collect(client.listAll<{ id: number }>('tasks.task.list'));
    expect(rows.map((r) => r.id)).toEqual(ids(75));
    expect(server.count('tasks.task.list')).toBe(2);
  });

  it('an API error on a page is thrown', async () => {
    const { client } = await portal({});
    await expect(collect(client.listAll('crm.lead.list'))).rejects.toBeInstanceOf(B24ApiError);
  });
});

describe('listAllBatched (50 chained pages per batch)', () => {
  it('reads 5,000 rows in 3 HTTP requests', async () => {
    const all = ids(5000);
    const { server, client } = await portal({ 'crm.lead.list': listMethod(all, { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listAllBatched<{ ID: string }>('crm.lead.list', { select: ['ID', 'TITLE'] }));
    expect(rows.map((r) => Number(r.ID))).toEqual(all);
    expect(server.seen).toHaveLength(3);
    // The first page alone, for its total; then chains sized by it.
    expect(server.count('crm.lead.list')).toBe(1);
    expect(server.seen[0]?.body).toMatchObject({ start: 0, filter: { '>ID': 0 } });
    expect(server.count('batch')).toBe(2);
    const cmd = server.seen[1]?.body.cmd as Record<string, string>;
    expect(cmd.p0).toContain('filter[%3EID]=148');
    expect(cmd.p1).toContain('filter[%3EID]=$result[p0][49][ID]');
    expect(cmd.p49).toContain('start=-1');
    // 4,950 rows left: 99 pages, plus one to see rows added during the scan; no chain of 50 blind pages past the end.
    const second = server.seen[2]?.body.cmd as Record<string, string>;
    expect(Object.keys(second)).toHaveLength(50);
  });

  it('rows added during the scan are still read (pages stay full beyond the count)', async () => {
    const all = ids(200);
    const list = listMethod(all, { idKey: 'ID', cursorKey: 'ID' });
    let calls = 0;
    const { client } = await portal({
      'crm.lead.list': (p) => {
        // After the first page was counted, 100 more leads arrive.
        if (++calls === 2) all.push(...Array.from({ length: 100 }, (_, i) => 1000 + i));
        return list(p);
      },
    });
    const rows = await collect(client.listAllBatched<{ ID: string }>('crm.lead.list'));
    expect(rows.map((r) => Number(r.ID))).toEqual(all);
    expect(rows).toHaveLength(300);
  });

  it('a last page that is short ends the scan; pages after it (unresolvable references) are ignored', async () => {
    const all = ids(2620);
    const { server, client } = await portal({ 'crm.lead.list': listMethod(all, { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listAllBatched<{ ID: string }>('crm.lead.list'));
    expect(rows).toHaveLength(2620);
    expect(new Set(rows.map((r) => r.ID)).size).toBe(2620);
    expect(server.seen).toHaveLength(3);
    expect(Object.keys(server.seen[2]?.body.cmd as object)).toHaveLength(3);
  });

  it('crm.item.list chains $result[p][items][49][id]', async () => {
    const all = ids(3000);
    const { server, client } = await portal({ 'crm.item.list': listMethod(all, { itemsKey: 'items', idKey: 'id', cursorKey: 'id' }) });
    const rows = await collect(client.listAllBatched<{ id: number }>('crm.item.list', { params: { entityTypeId: 1036 } }));
    expect(rows.map((r) => r.id)).toEqual(all);
    expect(server.seen).toHaveLength(3);
    expect((server.seen[1]?.body.cmd as Record<string, string>).p1).toContain('filter[%3Eid]=$result[p0][items][49][id]');
  });

  it('limit asks for only the pages it needs', async () => {
    const { server, client } = await portal({ 'crm.lead.list': listMethod(ids(5000), { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listAllBatched('crm.lead.list', { limit: 120 }));
    expect(rows).toHaveLength(120);
    expect(server.seen).toHaveLength(2);
    expect(Object.keys(server.seen[1]?.body.cmd as object)).toHaveLength(2);
  });
});

describe('listPaged (start/next offsets)', () => {
  it('first page alone, then the remaining offsets 50 pages to a batch', async () => {
    const all = ids(2600);
    const { server, client } = await portal({ 'crm.status.list': listMethod(all, { idKey: 'ID', cursorKey: 'ID' }) });
    const rows = await collect(client.listPaged<{ ID: string }>('crm.status.list', { filter: { ENTITY_ID: 'STATUS' } }));
    expect(rows.map((r) => Number(r.ID))).toEqual(all);
    expect(server.count('crm.status.list')).toBe(1);
    expect(server.count('batch')).toBe(2);
    expect(server.seen[0]?.body).toMatchObject({ start: 0, filter: { ENTITY_ID: 'STATUS' } });
  });

  it('a single page needs one request', async () => {
    const { server, client } = await portal({ 'crm.status.list': listMethod(ids(30), { idKey: 'ID', cursorKey: 'ID' }) });
    expect(await collect(client.listPaged('crm.status.list'))).toHaveLength(30);
    expect(server.seen).toHaveLength(1);
  });

  it('without a total, follows next one page at a time', async () => {
    const all = ids(120);
    const { server, client } = await portal({
      'sale.order.list': (p) => {
        const start = Number(p.start ?? 0);
        return { result: all.slice(start, start + 50).map((id) => ({ ID: String(id) })), ...(start + 50 < all.length ? { next: start + 50 } : {}) };
      },
    });
    const rows = await collect(client.listPaged<{ ID: string }>('sale.order.list'));
    expect(rows.map((r) => Number(r.ID))).toEqual(all);
    expect(server.seen.map((s) => s.body.start)).toEqual([0, 50, 100]);
  });
});
