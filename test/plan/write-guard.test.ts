/**
 * Dry-run's guarantee that nothing is written does not rest on the engine
 * stopping after planning: the client refuses every write itself. Proved here
 * by running the engine in *run* mode (the mistake) with the read-only client
 * dry-run uses, against an emulator, and checking the emulator's record.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type PortalData } from '../../emulator/index.js';
import { createClient, WriteRefusedError, type B24ClientApi } from '../../engine/client/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { createEngine } from '../../engine/pipeline/index.js';
import { eventItems } from '../../engine/plan/inputs.js';
import { loadRules } from '../../engine/rules/load-rules.js';
import { openStateStore } from '../../engine/store/index.js';
import { RULES_DIR } from '../../engine/paths.js';
import { join } from 'node:path';

const AT = Date.parse('2026-11-24T09:00:00+03:00');
const DATA: PortalData = {
  users: [{ ID: '1', NAME: 'Anna', ACTIVE: true }, { ID: '12', NAME: 'Sergey', ACTIVE: true }, { ID: '15', NAME: 'Maria', ACTIVE: true }],
  leads: [{ ID: '301', TITLE: 'Big order', STATUS_ID: 'NEW', ASSIGNED_BY_ID: '1', OPPORTUNITY: '1500000.00', CURRENCY_ID: 'RUB', SOURCE_ID: 'WEB' }],
};
let emulator: Emulator;

function config(e: Emulator) {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(e.webhookUrl) as RegExpExecArray;
  return { baseUrl: m[1] as string, plan: 'standard' as const, auth: { mode: 'webhook' as const, userId: m[2] as string, code: m[3] as string } };
}

function onlyReads(e: Emulator): void {
  for (const rec of e.calls.records) {
    if (rec.method !== 'batch') expect(methodKind(rec.method), rec.method).toBe('read');
  }
}

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, data: DATA, now: () => AT, limits: { burst: 1e9, drainPerSec: 1e9 } });
});
afterEach(async () => {
  await emulator.close();
});

describe('the read-only client is the write guard', () => {
  it('refuses a write method, a batch holding one, and an unknown method before sending anything', async () => {
    const client = createClient(config(emulator), { readOnly: true, rateLimit: false, retries: 0 });
    try {
      await expect(client.call('crm.lead.update', { id: 301, fields: { TITLE: 'x' } })).rejects.toBeInstanceOf(WriteRefusedError);
      await expect(client.call('some.unknown.method', {})).rejects.toBeInstanceOf(WriteRefusedError);
      await expect(client.batch({ a: { method: 'crm.lead.get', params: { id: 301 } }, b: { method: 'im.notify.system.add', params: { USER_ID: 1, MESSAGE: 'x' } } })).rejects.toBeInstanceOf(WriteRefusedError);
      await expect(client.call('event.offline.get', {})).rejects.toBeInstanceOf(WriteRefusedError);
      expect(emulator.calls.records).toEqual([]);
      expect((await client.call<{ TITLE: string }>('crm.lead.get', { id: 301 })).result.TITLE).toBe('Big order');
    } finally {
      await client.close();
    }
  });

  it('an engine that wrongly executes instead of planning still cannot write through it', async () => {
    const loaded = await loadRules([join(RULES_DIR, '03-route-leads.yaml')]);
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const inner = createClient(config(emulator), { readOnly: true, rateLimit: false, retries: 0 });
    const refused: unknown[] = [];
    const client: B24ClientApi & { close(): Promise<void> } = {
      call: <T,>(m: string, p?: Record<string, unknown>) => inner.call<T>(m, p).catch((e: unknown): never => {
        refused.push(e);
        throw e;
      }),
      batch: (c, o) => inner.batch(c, o).catch((e: unknown) => Promise.reject((refused.push(e), e))),
      listAll: (m, o) => inner.listAll(m, o),
      close: () => inner.close(),
    };
    const store = openStateStore(':memory:', { now: () => AT });
    try {
      const engine = createEngine({ store, client, rules: loaded.rules, clock: () => AT, mode: 'run' });
      store.inbox.add(eventItems([{ name: 'ONCRMLEADADD', data: { FIELDS: { ID: '301' } } }], AT));
      const report = await engine.tick();
      expect(report.runsCreated).toBeGreaterThan(0);
      // The engine did try to send the update and the notification; the client refused them.
      expect(refused.some((e) => e instanceof WriteRefusedError)).toBe(true);
      onlyReads(emulator);
      expect(emulator.calls.records.some((r) => r.method === 'crm.lead.get' || r.batch !== undefined)).toBe(true);
      expect(emulator.store.get('lead', '301')?.ASSIGNED_BY_ID).toBe('1');
      expect(emulator.store.all('notification')).toEqual([]);
    } finally {
      store.close();
      await client.close();
    }
  });
});
