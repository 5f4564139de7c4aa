/**
 * A read the portal refuses because the record does not exist loads as null
 * (`notFound`); any other refusal is a failed read. The reader tells them by
 * the portal's error code, and by the description only where the portal gives
 * no specific code (legacy CRM methods, tasks). Answers come from the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { isNotFound, TickReader, type ReadRequest } from '../../engine/facts/reader.js';

let emulator: Emulator;
let client: B24Client;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 1e6, drainPerSec: 1e6 }, data: { deals: [{ ID: '7', TITLE: 'Real deal', STAGE_ID: 'NEW' }] } });
  const hook = new URL(emulator.webhookUrl);
  const [, , userId, code] = hook.pathname.split('/');
  client = createClient({ baseUrl: emulator.url, plan: 'standard', auth: { mode: 'webhook', userId: userId!, code: code! } }, { rateLimit: false });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

describe('the tick reader', () => {
  it('reads a missing record as not found, and any other refusal as a failure', async () => {
    const reads: Record<string, ReadRequest> = {
      present: { method: 'crm.deal.get', params: { id: 7 } },
      legacyMissing: { method: 'crm.deal.get', params: { id: 999 } },
      legacyNoId: { method: 'crm.deal.get', params: { id: 0 } },
      itemMissing: { method: 'crm.item.get', params: { entityTypeId: 2, id: 999 } },
      taskMissing: { method: 'tasks.task.get', params: { taskId: 999 } },
      noSuchMethod: { method: 'crm.nothing.get', params: { id: 1 } },
    };
    const reader = new TickReader(client);
    const got = await reader.readAll(Object.values(reads));
    const outcome = (name: string) => {
      const r = got.get(`${reads[name]!.method}?${JSON.stringify(reads[name]!.params)}`)!;
      return r.ok ? 'ok' : r.notFound ? 'not found' : `failed: ${r.error}`;
    };
    expect(outcome('present')).toBe('ok');
    expect(outcome('legacyMissing')).toBe('not found');
    expect(outcome('legacyNoId')).toBe('not found');
    expect(outcome('itemMissing')).toBe('not found');
    expect(outcome('taskMissing')).toBe('not found');
    // "Method not found" is not a missing record: the read failed, and says why.
    expect(outcome('noSuchMethod')).toMatch(/^failed: ERROR_METHOD_NOT_FOUND: /);
  });

  it('takes the description into account only when the code says nothing more', () => {
    expect(isNotFound({ error: 'OWNER_NOT_FOUND', error_description: 'Owner entity not found' })).toBe(true);
    expect(isNotFound({ error: '', error_description: 'Not found' })).toBe(true);
    expect(isNotFound({ error: 'ERROR_CORE', error_description: 'Task not found' })).toBe(true);
    expect(isNotFound({ error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' })).toBe(false);
    expect(isNotFound({ error: 'ACCESS_DENIED', error_description: 'Access denied! Element not found or no access' })).toBe(false);
    expect(isNotFound({ error: 'ERROR_CORE', error_description: 'Internal error' })).toBe(false);
  });
});
