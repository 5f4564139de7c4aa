/**
 * REST 3.0 in the emulator, over plain HTTP (api-reference/rest-v3.md,
 * tasks-task-{add,get,list}-rest-v3.md, fields-rest-v3.md): the /rest/api/
 * paths, JSON only, the {item}/{items} answers and the {error:{code,message,
 * validation}} shape, the array batch, the id filter, and Idempotency-Key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { emulator, hook, NO_RATE_LIMIT, type Answer } from './helpers.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** The demo portal's data without its tasks, so a test counts only its own. */
async function start(): Promise<Emulator> {
  emu = (await emulator({ limits: NO_RATE_LIMIT })).emu;
  for (const t of emu.store.all('task')) emu.store.delete('task', String(t.id));
  return emu;
}

const v3Url = (e: Emulator, method: string): string => e.webhookUrl.replace('/rest/', '/rest/api/') + method;

async function v3(e: Emulator, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer & { headers: Headers }> {
  const res = await fetch(v3Url(e, method), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const NEW_TASK = { fields: { title: 'Prepare the report', creatorId: 1, responsibleId: 1, deadline: '2026-12-31T23:59:59+02:00', priority: 'high', crmItemIds: ['D_1'] } };

describe('REST 3.0 tasks', () => {
  it('tasks.task.add answers {item} in REST 3.0 types and makes the task REST 1 sees, with ONTASKADD', async () => {
    const e = await start();
    const r = await v3(e, 'tasks.task.add', NEW_TASK);
    expect(r.status).toBe(200);
    const item = (r.body.result as { item: Record<string, unknown> }).item;
    expect(item).toMatchObject({ title: 'Prepare the report', priority: 'high', status: 'pending', crmItemIds: ['D_1'], parentId: null });
    expect(typeof item.id).toBe('number');
    expect(r.body.time).toMatchObject({ operating: expect.any(Number), operating_reset_at: expect.any(Number) });
    const v1 = await hook(e, 'tasks.task.get', { taskId: item.id, select: ['ID', 'TITLE', 'UF_CRM_TASK', 'PRIORITY', 'RESPONSIBLE_ID'] });
    expect((v1.body.result as { task: Record<string, unknown> }).task).toMatchObject({ id: String(item.id), title: 'Prepare the report', ufCrmTask: ['D_1'], priority: '2', responsibleId: '1' });
    expect(e.events.emitted.filter((x) => x.event === 'ONTASKADD')).toHaveLength(1);
    expect(e.calls.of('tasks.task.add')[0]).toMatchObject({ api: 'v3', status: 200 });
  });

  it('validation errors come as {error:{code,message,validation}}: required fields, types, fields add refuses', async () => {
    const e = await start();
    const r = await v3(e, 'tasks.task.add', { fields: { title: 'x', responsibleId: '1', accomplices: [2] } });
    expect(r.status).toBe(400);
    const err = r.body.error as { code: string; validation: Array<{ field: string }> };
    expect(err.code).toBe('BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION');
    expect(err.validation.map((v) => v.field).sort()).toEqual(['accomplices', 'creatorId', 'responsibleId']);
    expect(e.store.all('task')).toHaveLength(0);
  });

  it('JSON only; a REST 1 batch body is refused; an unknown or REST 1-only method is not found', async () => {
    const e = await start();
    const form = await fetch(v3Url(e, 'tasks.task.get'), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'id=1' });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: { code: string } }).error.code).toBe('BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION');
    expect((await v3(e, 'batch', { cmd: { a: 'tasks.task.get?id=1' } })).body.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION' });
    expect((await v3(e, 'crm.deal.get', { id: 1 })).status).toBe(404);
    expect((await v3(e, 'mail.mailbox.list', {})).status).toBe(501);
    // A REST 3.0-only method on the REST 1 path (rest-v3.md): 404 ERROR_METHOD_NOT_FOUND.
    expect(await hook(e, 'tasks.task.chat.message.send', {})).toEqual({ status: 404, body: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
  });

  it('batch: a JSON array of {method, query}, answered by the results in order', async () => {
    const e = await start();
    const r = await v3(e, 'batch', [
      { method: 'tasks.task.add', query: NEW_TASK },
      { method: 'tasks.task.get', query: { id: 999 } },
      { method: 'tasks.task.list', query: { select: ['title'] } },
    ]);
    expect(r.status).toBe(200);
    const [added, missing, list] = r.body.result as Array<Record<string, unknown>>;
    expect((added?.item as { title: string }).title).toBe('Prepare the report');
    expect(missing?.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION' });
    expect((list?.items as unknown[]).length).toBe(1);
    expect(e.calls.records.filter((c) => c.batch).map((c) => c.method)).toEqual(['tasks.task.add', 'tasks.task.get', 'tasks.task.list']);
  });

  it('list: the id filter (array form, OR groups, in, between), select, order, pagination; other fields do not filter', async () => {
    const e = await start();
    for (let i = 0; i < 5; i++) await v3(e, 'tasks.task.add', { fields: { ...NEW_TASK.fields, title: `T${i}` } });
    const ids = e.store.all('task').map((t) => Number(t.id)).sort((a, b) => a - b);
    const list = async (q: Record<string, unknown>) => ((await v3(e, 'tasks.task.list', q)).body.result as { items: Array<Record<string, unknown>> }).items;
    expect(await list({ filter: [['id', '>', ids[2]]], select: ['title', 'responsibleId'] })).toEqual([
      { id: ids[3], title: 'T3', responsibleId: 1 },
      { id: ids[4], title: 'T4', responsibleId: 1 },
    ]);
    expect((await list({ filter: [{ logic: 'or', conditions: [['id', [ids[0]]], ['id', 'between', [ids[3], ids[4]]]] }] })).map((t) => t.id)).toEqual([ids[0], ids[3], ids[4]]);
    expect((await list({ order: { id: 'DESC' }, pagination: { page: 2, limit: 2 } })).map((t) => t.id)).toEqual([ids[2], ids[1]]);
    const byTitle = await v3(e, 'tasks.task.list', { filter: [['title', '=', 'T1']] });
    expect(byTitle.body.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION', validation: [{ field: 'title' }] });
    expect((await v3(e, 'tasks.task.list', { filter: [['id', 'like', 1]] })).body.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION' });
  });

  it('OAuth: the token as `auth` in the JSON body', async () => {
    const e = await start();
    const res = await fetch(`${e.url}/rest/api/tasks.task.add`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...NEW_TASK, auth: e.app.access_token }) });
    expect(res.status).toBe(200);
    expect(e.calls.of('tasks.task.add')[0]).toMatchObject({ auth: 'oauth', api: 'v3' });
  });
});

describe('REST 3.0 Idempotency-Key', () => {
  it('the same key and body: the first answer again, Idempotent-Replayed, nothing created twice', async () => {
    const e = await start();
    const first = await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'rule-a:0.0' });
    const again = await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'rule-a:0.0' });
    expect(again.body).toEqual(first.body);
    expect(first.headers.get('idempotency-key')).toBe('rule-a:0.0');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(e.store.all('task')).toHaveLength(1);
    expect(e.calls.of('tasks.task.add').map((c) => c.replayed ?? false)).toEqual([false, true]);
    // Another key is another call.
    await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'rule-a:0.1' });
    expect(e.store.all('task')).toHaveLength(2);
  });

  it('the same key with another body is 422; a malformed key 400; a failure is not kept, so its repeat runs', async () => {
    const e = await start();
    await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'k1' });
    const reused = await v3(e, 'tasks.task.add', { fields: { ...NEW_TASK.fields, title: 'Other' } }, { 'Idempotency-Key': 'k1' });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION' });
    const bad = await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'x'.repeat(256) });
    expect(bad.body.error).toMatchObject({ code: 'BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION' });
    const failed = await v3(e, 'tasks.task.add', { fields: { title: 'No one' } }, { 'Idempotency-Key': 'k2' });
    expect(failed.status).toBe(400);
    expect((await v3(e, 'tasks.task.add', { fields: { title: 'No one' } }, { 'Idempotency-Key': 'k2' })).status).toBe(400);
    expect(e.calls.of('tasks.task.add').filter((c) => c.replayed)).toHaveLength(0);
    expect(e.store.all('task')).toHaveLength(1);
  });

  it('a call whose connection dropped after the work: the repeat with its key is answered from the first, one task', async () => {
    const e = await start();
    e.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['tasks.task.add'], maxFaults: 1 });
    await expect(v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'k3' })).rejects.toThrow();
    expect(e.store.all('task')).toHaveLength(1);
    const again = await v3(e, 'tasks.task.add', NEW_TASK, { 'Idempotency-Key': 'k3' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((again.body.result as { item: { id: number } }).item.id).toBe(Number(e.store.all('task')[0]!.id));
    expect(e.store.all('task')).toHaveLength(1);
  });
});
