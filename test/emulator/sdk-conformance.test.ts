/**
 * The official JS SDK (@bitrix24/b24jssdk), used unchanged, against the
 * emulator over HTTPS: single calls, a batch whose second command refers to
 * the first one's result, the SDK's list helpers (fast cursor paging with
 * `start=-1`), a write, and errors.
 *
 * TLS: the emulator serves a self-signed certificate made at start. The test
 * reads that certificate off a first TLS handshake and gives it to the SDK as
 * the only trusted CA, through the SDK's documented axios instance
 * (`getHttpClient(ApiVersion.v2).ajaxClient`). Certificate checks stay on:
 * no NODE_TLS_REJECT_UNAUTHORIZED, no `rejectUnauthorized: false` for the SDK.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { ApiVersion, B24Hook } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';

type Row = Record<string, unknown>;

const DATASET = join(PACKAGE_ROOT, 'emulator', 'data', 'official-simulator-dataset.json');
const entities = (JSON.parse(readFileSync(DATASET, 'utf8')) as { entities: Record<string, Row[]> }).entities;

let emu: Emulator;
let b24: B24Hook;

/** The PEM of the certificate the server presents (read once, then trusted explicitly). */
function serverCertificate(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Verification is off only for this probe, which sends nothing and only reads the certificate.
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      const b64 = raw.toString('base64').match(/.{1,64}/g)!.join('\n');
      resolve(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    });
    socket.once('error', reject);
  });
}

beforeAll(async () => {
  emu = await startEmulator({ tls: true, data: DATASET, limits: { burst: 100_000 } });
  expect(emu.url).toMatch(/^https:\/\//);
  const ca = await serverCertificate(emu.url);
  b24 = B24Hook.fromWebhookUrl(emu.webhookUrl);
  b24.getHttpClient(ApiVersion.v2).ajaxClient.defaults.httpsAgent = new Agent({ ca });
});
afterAll(async () => {
  b24?.destroy();
  await emu?.close();
});

describe('@bitrix24/b24jssdk against the emulator over HTTPS', () => {
  it('refuses the emulator without the certificate (TLS checks are really on)', async () => {
    const untrusting = B24Hook.fromWebhookUrl(emu.webhookUrl, { restrictionParams: { maxRetries: 1, retryDelay: 1 } });
    untrusting.getHttpClient(ApiVersion.v2).ajaxClient.defaults.httpsAgent = new Agent();
    const outcome = await untrusting.actions.v2.call.make({ method: 'crm.deal.get', params: { id: 7 } }).then(
      (r) => (r.isSuccess ? 'success' : 'error result'),
      (e: unknown) => (e as { code?: string }).code ?? String(e),
    );
    expect(outcome).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    untrusting.destroy();
  });

  it('call: crm.deal.get returns the record', async () => {
    const response = await b24.actions.v2.call.make<Row>({ method: 'crm.deal.get', params: { id: 7 } });
    expect(response.isSuccess).toBe(true);
    const deal = response.getData()!.result;
    const seeded = entities['deals']!.find((d) => d['ID'] === '7')!;
    expect(deal).toMatchObject({ ID: '7', TITLE: seeded['TITLE'], STAGE_ID: seeded['STAGE_ID'], COMPANY_ID: seeded['COMPANY_ID'] });
  });

  it('call: a list page carries total and next', async () => {
    const response = await b24.actions.v2.call.make<Row[]>({ method: 'crm.deal.list', params: { select: ['ID'], order: { ID: 'ASC' } } });
    expect(response.getData()!.result).toHaveLength(50);
    expect(response.getTotal()).toBe(60);
    expect(response.isMore()).toBe(true);
  });

  it('batch: a command refers to an earlier result with $result[...]', async () => {
    const result = await b24.actions.v2.batch.make({
      calls: {
        deal: { method: 'crm.deal.get', params: { id: 7 } },
        company: { method: 'crm.company.get', params: { id: '$result[deal][COMPANY_ID]' } },
        contacts: { method: 'crm.contact.list', params: { filter: { COMPANY_ID: '$result[deal][COMPANY_ID]' }, select: ['ID', 'COMPANY_ID'] } },
      },
      options: { isHaltOnError: true },
    });
    expect(result.isSuccess).toBe(true);
    const data = result.getData() as { deal: Row; company: Row; contacts: Row[] };
    expect(data.company['ID']).toBe(data.deal['COMPANY_ID']);
    const expectedContacts = entities['contacts']!.filter((c) => c['COMPANY_ID'] === data.deal['COMPANY_ID']).map((c) => c['ID']);
    expect(data.contacts.map((c) => c['ID'])).toEqual(expectedContacts);
  });

  it('batch: array form; a failing command is reported, the others still answer', async () => {
    const result = await b24.actions.v2.batch.make({
      calls: [
        ['crm.lead.get', { id: 3 }],
        ['crm.no.such.method', {}],
        ['crm.company.get', { id: 2 }],
      ],
      options: { isHaltOnError: false },
    });
    expect(result.isSuccess).toBe(false);
    expect(result.getErrorMessages().join(' ')).toMatch(/Method not found/);
    expect((result.getData() as Row[]).map((r) => r['ID'])).toEqual(['3', '2']);
  });

  it('callList: every deal through fast cursor paging (start=-1, >ID)', async () => {
    const result = await b24.actions.v2.callList.make<Row>({ method: 'crm.deal.list', params: { select: ['ID', 'TITLE'] }, idKey: 'ID' });
    expect(result.isSuccess).toBe(true);
    const rows = result.getData() as Row[];
    expect(rows.map((r) => r['ID'])).toEqual(entities['deals']!.map((d) => d['ID']));
    expect(rows[0]).toEqual({ ID: '1', TITLE: entities['deals']![0]!['TITLE'] });
  });

  it('fetchList: deals in chunks of 50, with a filter kept across pages', async () => {
    const chunks: Row[][] = [];
    for await (const chunk of b24.actions.v2.fetchList.make<Row>({ method: 'crm.deal.list', params: { filter: { CLOSED: 'N' }, select: ['ID'] }, idKey: 'ID' })) {
      chunks.push(chunk);
    }
    const open = entities['deals']!.filter((d) => d['CLOSED'] === 'N').map((d) => d['ID']);
    expect(chunks.map((c) => c.length)).toEqual(open.length > 50 ? [50, open.length - 50] : [open.length]);
    expect(chunks.flat().map((r) => r['ID'])).toEqual(open);
  });

  it('fetchList: tasks (camelCase answer under `tasks`, sorted and filtered by ID)', async () => {
    const ids: unknown[] = [];
    for await (const chunk of b24.actions.v2.fetchList.make<Row>({
      method: 'tasks.task.list',
      params: { select: ['ID', 'TITLE'] },
      idKey: 'id',
      cursorIdKey: 'ID',
      customKeyForResult: 'tasks',
    })) {
      ids.push(...chunk.map((t) => t['id']));
    }
    expect(ids).toEqual(entities['tasks']!.map((t) => t['id']));
  });

  it('callList: user.get', async () => {
    const result = await b24.actions.v2.callList.make<Row>({ method: 'user.get', params: {}, idKey: 'ID' });
    expect((result.getData() as Row[]).map((u) => u['ID'])).toEqual(entities['users']!.map((u) => u['ID']));
  });

  it('a write through the SDK is read back', async () => {
    const update = await b24.actions.v2.call.make<boolean>({ method: 'crm.deal.update', params: { id: 12, fields: { TITLE: 'Renamed by the SDK test' } } });
    expect(update.getData()!.result).toBe(true);
    const read = await b24.actions.v2.call.make<Row>({ method: 'crm.deal.get', params: { id: 12 } });
    expect(read.getData()!.result['TITLE']).toBe('Renamed by the SDK test');
  });

  it('an unknown method surfaces as the portal error code', async () => {
    const outcome = await b24.actions.v2.call.make({ method: 'crm.nothing.here', params: {} }).then(
      (r) => ({ success: r.isSuccess, messages: r.getErrorMessages() }),
      (e: unknown) => ({ thrown: (e as { code?: string }).code ?? String(e) }),
    );
    expect(outcome).toEqual({ thrown: 'ERROR_METHOD_NOT_FOUND' });
  });
});
