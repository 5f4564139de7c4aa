/**
 * The client's REST 3.0 transport against the emulator over HTTP (issue 15):
 * /rest/api/ with a JSON body, REST 1 filter objects sent in REST 3.0's array
 * form, the array batch, REST 3.0 errors as typed errors, the Idempotency-Key,
 * and the route that sends tasks.task.add there in its REST 1 shape.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { B24ApiError, createClient, OutcomeUnknownError, WriteRefusedError, type B24Client, type ClientConfig } from '../../engine/client/index.js';
import { loadConfig } from '../../engine/config.js';
import { B24RulesError } from '../../engine/errors.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';

let emu: Emulator | undefined;
const clients: B24Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await emu?.close();
  emu = undefined;
});

async function start(): Promise<Emulator> {
  emu = await startEmulator({ limits: { burst: 1e6, drainPerSec: 1e6 } });
  for (const t of emu.store.all('task')) emu.store.delete('task', String(t.id));
  return emu;
}

function webhookConfig(e: Emulator, restV3?: boolean): ClientConfig {
  const m = /^(https?:\/\/[^/]+)\/rest\/(\d+)\/([^/]+)\/$/.exec(e.webhookUrl)!;
  return { baseUrl: m[1]!, plan: 'standard', auth: { mode: 'webhook', userId: m[2]!, code: m[3]! }, ...(restV3 !== undefined ? { restV3 } : {}) };
}

function client(config: ClientConfig, options: Parameters<typeof createClient>[1] = {}): B24Client {
  const c = createClient(config, { rateLimit: false, retries: 2, backoffBaseMs: 1, ...options });
  clients.push(c);
  return c;
}

const TASK = { fields: { TITLE: 'Call back', RESPONSIBLE_ID: 1, DEADLINE: '2026-12-01T10:00:00+03:00', UF_CRM_TASK: ['D_1'], PRIORITY: '2' } };

describe('callV3 and batchV3', () => {
  it('a call goes to /rest/api/ as JSON; a REST 1 filter object goes in REST 3.0\'s array form', async () => {
    const e = await start();
    const c = client(webhookConfig(e));
    await c.callV3('tasks.task.add', { fields: { title: 'A', creatorId: 1, responsibleId: 1 } });
    await c.callV3('tasks.task.add', { fields: { title: 'B', creatorId: 1, responsibleId: 1 } });
    const first = Number(e.store.all('task')[0]!.id);
    const env = await c.callV3<{ items: Array<{ id: number; title: string }> }>('tasks.task.list', { filter: { '>id': first }, select: ['title'] });
    expect(env.result.items.map((t) => t.title)).toEqual(['B']);
    expect(e.calls.of('tasks.task.list')[0]).toMatchObject({ api: 'v3', params: { filter: [['id', '>', first]] } });
    await expect(c.callV3('tasks.task.list', { filter: { '%title': 'B' } })).rejects.toMatchObject({ code: 'V3_FILTER_INVALID' });
  });

  it('a REST 3.0 error is a typed error with its code and the fields at fault', async () => {
    const e = await start();
    const err = (await client(webhookConfig(e)).callV3('tasks.task.add', { fields: { title: 'x' } }).catch((x: unknown) => x)) as B24ApiError;
    expect(err).toBeInstanceOf(B24ApiError);
    expect(err.code).toBe('B24_API_ERROR');
    expect(err.error).toBe('BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION');
    expect(err.errorDescription).toMatch(/creatorId: .*responsibleId: /);
  });

  it('batchV3: one request, each call\'s outcome by index; OAuth cannot send one; a read-only client refuses writes', async () => {
    const e = await start();
    const c = client(webhookConfig(e));
    const before = e.calls.httpRequests;
    const out = await c.batchV3([
      { method: 'tasks.task.add', query: { fields: { title: 'In a batch', creatorId: 1, responsibleId: 1 } } },
      { method: 'tasks.task.get', query: { id: 99999 } },
      { method: 'tasks.task.list', query: { filter: { id: [1, 2] }, select: ['title'] } },
    ]);
    expect(e.calls.httpRequests - before).toBe(1);
    expect(out.map((r) => r.ok)).toEqual([true, false, true]);
    expect(out[1]?.error?.error).toBe('BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION');
    expect(e.calls.of('tasks.task.list')[0]?.params).toMatchObject({ filter: [['id', 'in', [1, 2]]] });

    const app = client({ baseUrl: e.url, plan: 'standard', auth: { mode: 'oauth', accessToken: e.app.access_token, oauthUrl: e.url, tokenFile: join(mkdtempSync(join(tmpdir(), 'b24-v3-')), 't.json') } });
    await expect(app.batchV3([{ method: 'tasks.task.get', query: { id: 1 } }])).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    const ro = client(webhookConfig(e), { readOnly: true });
    await expect(ro.callV3('tasks.task.add', { fields: {} })).rejects.toBeInstanceOf(WriteRefusedError);
  });

  it('a keyed creation whose answer was lost is not re-sent by the client (OutcomeUnknownError); sent again with its key it is answered from the first: one task', async () => {
    const e = await start();
    const c = client(webhookConfig(e));
    e.setFaults({ dropRate: 1, dropWhen: 'after', methods: ['tasks.task.add'], maxFaults: 1 });
    const params = { fields: { title: 'Once', creatorId: 1, responsibleId: 1 } };
    const err = await c.callV3('tasks.task.add', params, { idempotencyKey: 'rule:abc:0.0' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(e.calls.of('tasks.task.add')).toHaveLength(1);
    const again = await c.callV3<{ item: { id: number } }>('tasks.task.add', params, { idempotencyKey: 'rule:abc:0.0' });
    expect(e.store.all('task')).toHaveLength(1);
    expect(again.result.item.id).toBe(Number(e.store.all('task')[0]!.id));
    expect(e.calls.of('tasks.task.add').map((r) => [r.idempotencyKey, r.replayed ?? false])).toEqual([
      ['rule:abc:0.0', false],
      ['rule:abc:0.0', true],
    ]);
  });
});

describe('the REST 3.0 route of REST 1 calls (v3-routes.ts)', () => {
  it('tasks.task.add goes through REST 3.0 when restV3 is on and its fields all have REST 3.0 names; REST 3.0-only methods always', async () => {
    const e = await start();
    const on = client(webhookConfig(e), { restV3: true });
    const off = client(webhookConfig(e));
    expect(on.routesV3('tasks.task.add', TASK)).toBe(true);
    expect(off.routesV3('tasks.task.add', TASK)).toBe(false);
    // The configuration (B24_REST_V3) wins over the option.
    expect(client(webhookConfig(e, false), { restV3: true }).routesV3('tasks.task.add', TASK)).toBe(false);
    expect(on.routesV3('tasks.task.add', { fields: { ...TASK.fields, ACCOMPLICES: [2] } })).toBe(false);
    expect(on.routesV3('tasks.task.add', { fields: { ...TASK.fields, UF_CRM_PROJECT: 'x' } })).toBe(false);
    expect(on.routesV3('tasks.task.update', { taskId: 1, fields: { TITLE: 'x' } })).toBe(false);
    expect(off.routesV3('tasks.task.chat.message.send', { fields: { taskId: 1, text: 'hi' } })).toBe(true);
    expect(off.routesV3('crm.deal.update', { id: 1, fields: {} })).toBe(false);
  });

  it('callRoutedV3 sends tasks.task.add in REST 3.0 form with the key and the webhook user as creator, and answers in REST 1 shape', async () => {
    const e = await start();
    const c = client(webhookConfig(e), { restV3: true });
    const env = await c.callRoutedV3('tasks.task.add', TASK, 'rule:abc:1.0');
    const task = (env.result as { task: Record<string, unknown> }).task;
    expect(task.id).toBe(String(e.store.all('task')[0]!.id));
    expect(task.title).toBe('Call back');
    const sent = e.calls.of('tasks.task.add')[0]!;
    expect(sent).toMatchObject({ api: 'v3', idempotencyKey: 'rule:abc:1.0' });
    expect(sent.params).toEqual({ fields: { title: 'Call back', responsibleId: 1, creatorId: 1, deadline: '2026-12-01T10:00:00+03:00', crmItemIds: ['D_1'], priority: 'high' } });
    expect(e.store.all('task')[0]).toMatchObject({ ufCrmTask: ['D_1'], priority: '2', responsibleId: '1' });
  });

  it('with OAuth the creator is the token\'s user, asked once (user.current)', async () => {
    const e = await start();
    const c = client({ baseUrl: e.url, plan: 'standard', restV3: true, auth: { mode: 'oauth', accessToken: e.app.access_token, oauthUrl: e.url, tokenFile: join(mkdtempSync(join(tmpdir(), 'b24-v3-')), 't.json') } });
    await c.callRoutedV3('tasks.task.add', TASK, 'k1');
    await c.callRoutedV3('tasks.task.add', TASK, 'k2');
    expect(e.calls.of('user.current')).toHaveLength(1);
    expect(e.calls.of('tasks.task.add').map((r) => (r.params.fields as { creatorId: number }).creatorId)).toEqual([1, 1]);
  });

  it('callRoutedV3 of a call that does not route is a bug, not a silent REST 1 send', async () => {
    const e = await start();
    await expect(client(webhookConfig(e)).callRoutedV3('tasks.task.add', TASK, 'k')).rejects.toBeInstanceOf(B24RulesError);
    expect(e.calls.records).toHaveLength(0);
  });
});

describe('B24_REST_V3', () => {
  it('on or off sets ClientConfig.restV3; unset leaves it to the client option; anything else names the variable', () => {
    const base = { B24_WEBHOOK_URL: 'https://portal.bitrix24.com/rest/1/abc123xyz/' };
    const dir = mkdtempSync(join(tmpdir(), 'b24-v3-env-'));
    expect(loadConfig({ ...base, B24_REST_V3: 'off' }, dir).restV3).toBe(false);
    expect(loadConfig({ ...base, B24_REST_V3: 'ON' }, dir).restV3).toBe(true);
    expect('restV3' in loadConfig(base, dir)).toBe(false);
    expect(() => loadConfig({ ...base, B24_REST_V3: 'maybe' }, dir)).toThrow(/B24_REST_V3 must be 'on' or 'off'/);
  });
});
