/**
 * URLs, encodings and envelopes. Doc pages: settings/how-to-call-rest-api/general-principles.md (URL forms, .json),
 * settings/how-to-call-rest-api/data-encoding.md (PHP brackets), api-reference/data-types.md#time (time object),
 * _includes/system-errors.md (error envelope and statuses).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, get, hook, post, postForm } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

describe('URL forms (general-principles.md)', () => {
  it('answers /rest/{user}/{code}/{method} with and without .json and with a trailing slash', async () => {
    for (const m of ['server.time', 'server.time.json', 'server.time/']) {
      const a = await post(`${emu.webhookUrl}${m}`);
      expect(a.status, m).toBe(200);
      expect(a.body.result).toBe('2026-11-24T09:00:00+03:00');
    }
  });

  it('takes GET with a query string and POST with a form body in PHP bracket notation', async () => {
    const created = await postForm(`${emu.webhookUrl}crm.lead.add`, { fields: { TITLE: 'Form lead', PHONE: [{ VALUE: '+1 555 0100', VALUE_TYPE: 'WORK' }] } });
    expect(created.status).toBe(200);
    const id = created.body.result as number;
    const got = await get(`${emu.webhookUrl}crm.lead.get`, `id=${id}`);
    expect(got.body.result).toMatchObject({ ID: String(id), TITLE: 'Form lead', PHONE: [{ VALUE: '+1 555 0100', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' }] });
    const listed = await get(`${emu.webhookUrl}crm.lead.list`, `filter[%3D%25TITLE]=Form%25&select[]=ID&select[]=TITLE`);
    expect(listed.body.result).toEqual([{ ID: String(id), TITLE: 'Form lead' }]);
  });

  it('merges query parameters with the body (the body wins)', async () => {
    const a = await post(`${emu.webhookUrl}crm.lead.get?id=1`, {});
    expect((a.body.result as { ID: string }).ID).toBe('1');
  });
});

describe('success envelope (general-principles.md, data-types.md#time)', () => {
  it('has result and a time object with start, finish, duration, processing, date_start, date_finish, operating, operating_reset_at', async () => {
    const a = await hook(emu, 'crm.deal.get', { id: 1 });
    expect(Object.keys(a.body)).toEqual(['result', 'time']);
    const time = a.body.time as Record<string, unknown>;
    expect(Object.keys(time).sort()).toEqual(['date_finish', 'date_start', 'duration', 'finish', 'operating', 'operating_reset_at', 'processing', 'start']);
    expect(time.start).toBe(Date.parse('2026-11-24T06:00:00Z') / 1000);
    expect(time.date_start).toBe('2026-11-24T09:00:00+03:00');
    expect(time.operating_reset_at).toBe(Date.parse('2026-11-24T06:10:00Z') / 1000);
  });

  it('list methods add total, and next only when another page exists (crm-lead-list.md)', async () => {
    const page1 = await hook(emu, 'crm.lead.list', { select: ['ID'] });
    expect(page1.body.total).toBeGreaterThan(0);
    expect('next' in page1.body).toBe(false);
  });
});

describe('error envelope (_includes/system-errors.md)', () => {
  it('unknown method: 404 ERROR_METHOD_NOT_FOUND', async () => {
    const a = await hook(emu, 'no.such.method');
    expect(a).toEqual({ status: 404, body: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
  });

  it('a real method the emulator does not implement says so, never a silent success', async () => {
    const a = await hook(emu, 'sale.order.add', { fields: {} });
    expect(a.status).toBe(501);
    expect(a.body.error).toBe('ERROR_METHOD_NOT_FOUND');
    expect(a.body.error_description).toMatch(/sale\.order\.add.*real Bitrix24 method.*not implemented by the b24-rules emulator/);
  });

  it('method names are case-insensitive', async () => {
    expect((await hook(emu, 'CRM.Deal.Get', { id: 1 })).status).toBe(200);
  });

  it('legacy CRM errors have an empty code and the meaning in the description, HTTP 400 (crm-deal-get.md)', async () => {
    expect(await hook(emu, 'crm.deal.get', { id: 99999 })).toEqual({ status: 400, body: { error: '', error_description: 'Not found' } });
    expect(await hook(emu, 'crm.deal.get', {})).toEqual({ status: 400, body: { error: '', error_description: 'ID is not defined or invalid.' } });
  });

  it('a body that is not JSON is a 400 with a clear description', async () => {
    const res = await fetch(`${emu.webhookUrl}crm.deal.get`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"id":' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'INVALID_REQUEST', error_description: 'The request body is not valid JSON' });
  });

  it('REST 3.0 paths: a REST 3.0 method the emulator does not implement says so, in REST 3.0\'s error shape (api-reference/rest-v3.md; issue 15 implements the ones the engine uses, test/emulator/rest-v3.test.ts)', async () => {
    const a = await post(`${emu.webhookUrl.replace('/rest/', '/rest/api/')}mail.mailbox.list`, {});
    expect(a.status).toBe(501);
    expect((a.body.error as { message: string }).message).toMatch(/REST 3\.0 method but is not implemented by the b24-rules emulator/);
  });

  it('paths outside /rest/ and /oauth/token/ are 404 with a hint', async () => {
    const a = await get(`${emu.url}/somewhere`);
    expect(a.status).toBe(404);
    expect(a.body.error_description).toMatch(/\/rest\/\{user\}\/\{code\}\/\{method\}/);
  });
});

describe('registry', () => {
  it('methods registered at run time are served, with their scope; a handler bug answers 500 INTERNAL_SERVER_ERROR', async () => {
    emu.registry.register('test.echo', { scope: 'crm', handler: (params, ctx) => ({ result: { params, user: ctx.auth.userId } }) });
    emu.registry.register('test.boom', {
      scope: 'crm',
      handler: () => {
        throw new Error('bug');
      },
    });
    expect((await hook(emu, 'TEST.ECHO', { a: { b: 1 } })).body.result).toEqual({ params: { a: { b: 1 } }, user: 1 });
    expect(await hook(emu, 'test.boom')).toEqual({ status: 500, body: { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' } });
    expect(emu.registry.names()).toContain('test.echo');
  });
});

describe('call record', () => {
  it('never keeps the auth token in recorded params', async () => {
    await post(`${emu.url}/rest/server.time`, { auth: emu.app.access_token });
    await post(`${emu.url}/rest/server.time`, { auth: 'wrong-token-value' });
    const recs = emu.calls.of('server.time').slice(-2);
    expect(recs.map((r) => [r.auth, r.status])).toEqual([['oauth', 200], [null, 401]]);
    expect(JSON.stringify(recs)).not.toContain('wrong-token-value');
    expect(JSON.stringify(recs)).not.toContain(emu.app.access_token);
  });

  it('records method, params, auth kind, user, time and status of every call', async () => {
    emu.calls.clear();
    await hook(emu, 'crm.deal.get', { id: 2 });
    await hook(emu, 'crm.deal.get', { id: 99999 });
    expect(emu.calls.httpRequests).toBe(2);
    expect(emu.calls.of('crm.deal.get').map((c) => [c.params.id, c.auth, c.userId, c.status, c.error ?? null, c.time])).toEqual([
      [2, 'webhook', 1, 200, null, Date.parse('2026-11-24T06:00:00Z')],
      [99999, 'webhook', 1, 400, '', Date.parse('2026-11-24T06:00:00Z')],
    ]);
  });
});

describe('other encodings', () => {
  it('multipart/form-data bodies are read like forms (general-principles.md)', async () => {
    const form = new FormData();
    form.append('fields[TITLE]', 'Multipart lead');
    form.append('fields[PHONE][0][VALUE]', '+44 20 7946 0000');
    const res = await fetch(`${emu.webhookUrl}crm.lead.add`, { method: 'POST', body: form });
    const id = ((await res.json()) as { result: number }).result;
    expect((await hook(emu, 'crm.lead.get', { id })).body.result).toMatchObject({ TITLE: 'Multipart lead', PHONE: [{ VALUE: '+44 20 7946 0000' }] });
  });

  it('.xml responses are refused with a clear message', async () => {
    const a = await post(`${emu.webhookUrl}server.time.xml`);
    expect(a.status).toBe(400);
    expect(a.body.error_description).toMatch(/XML responses/);
  });
});
