/**
 * `rules record` against an emulator with pending offline events: it writes a
 * fixtures file with the events and the records they name, and leaves the
 * queue exactly as it was (no clear, no reservation), calling only reads.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient } from '../../engine/client/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { recordOfEvent } from '../../engine/testing/record.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { runCli } from '../helpers/cli.js';

let emulator: Emulator;
let tmp: string;

function oauthEnv(): Record<string, string> {
  const app = emulator.app;
  return {
    B24_WEBHOOK_URL: '',
    B24_WEBHOOK_CODE: '',
    B24_AUTH_MODE: 'oauth',
    B24_DOMAIN: emulator.url,
    B24_ACCESS_TOKEN: app.access_token,
    B24_REFRESH_TOKEN: app.refresh_token,
    B24_CLIENT_ID: app.client_id,
    B24_CLIENT_SECRET: app.client_secret,
    B24_OAUTH_URL: app.oauth_url,
    B24_TOKEN_FILE: join(tmp, 'tokens.json'),
    B24_PLAN: '',
  };
}

function oauthConfig() {
  const app = emulator.app;
  return { baseUrl: emulator.url, plan: 'standard' as const, auth: { mode: 'oauth' as const, accessToken: app.access_token, refreshToken: app.refresh_token, clientId: app.client_id, clientSecret: app.client_secret, oauthUrl: app.oauth_url, tokenFile: join(tmp, 'tokens-setup.json') } };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'rules-record-'));
  emulator = await startEmulator({
    port: 0,
    limits: { burst: 1e6, drainPerSec: 1e6 },
    data: {
      users: [{ ID: '1', NAME: 'Anna', ACTIVE: true }, { ID: '9', NAME: 'Elena', ACTIVE: true }],
      deals: [{ ID: '401', TITLE: 'CRM rollout', STAGE_ID: 'NEW', ASSIGNED_BY_ID: '9', CATEGORY_ID: '0' }],
      leads: [{ ID: '301', TITLE: 'Big order', STATUS_ID: 'NEW', ASSIGNED_BY_ID: '1' }],
    },
  });
  const client = createClient(oauthConfig(), { rateLimit: false });
  try {
    // Bound as the daemon binds them: under its connector key (the default), whose queue 'rules record' reads.
    await client.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline', auth_connector: 'b24rules' });
    await client.call('event.bind', { event: 'ONCRMLEADUPDATE', event_type: 'offline', auth_connector: 'b24rules' });
    await client.call('crm.deal.update', { id: 401, fields: { STAGE_ID: 'PREPARATION' } });
    await client.call('crm.lead.update', { id: 301, fields: { TITLE: 'Big order (urgent)' } });
  } finally {
    await client.close();
  }
});
afterAll(async () => {
  await emulator.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('rules record', () => {
  it('captures events and their records into a fixtures file, leaving the queue untouched and writing nothing', async () => {
    const listQueue = async () => {
      const c = createClient(oauthConfig(), { rateLimit: false, readOnly: true });
      try {
        return (await c.call<Array<Record<string, unknown>>>('event.offline.list', { auth_connector: 'b24rules' })).result;
      } finally {
        await c.close();
      }
    };
    const before = await listQueue();
    expect(before.map((e) => e.EVENT_NAME)).toEqual(['ONCRMDEALUPDATE', 'ONCRMLEADUPDATE']);
    emulator.calls.clear();

    const out = join(tmp, 'incident.fixtures.yaml');
    const r = await runCli(['record', '--events', '10', '--out', out], { env: oauthEnv(), cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Recorded 2 events (deals: 1, leads: 1, users: 2) into ${out}\n`);

    const text = await readFile(out, 'utf8');
    expect(text).toMatch(/^# Recorded by 'rules record' from http:\/\/127\.0\.0\.1:\d+ at /);
    expect(text).not.toContain(emulator.app.access_token);
    const doc = parse(text) as { events: Array<Record<string, unknown>>; deals: Array<Record<string, unknown>>; leads: Array<Record<string, unknown>>; users: Array<Record<string, unknown>> };
    expect(doc.events.map((e) => e.EVENT_NAME)).toEqual(['ONCRMDEALUPDATE', 'ONCRMLEADUPDATE']);
    expect(doc.deals.map((d) => [d.ID, d.STAGE_ID])).toEqual([['401', 'PREPARATION']]);
    expect(doc.leads.map((d) => [d.ID, d.TITLE])).toEqual([['301', 'Big order (urgent)']]);
    expect(doc.users.map((u) => u.ID)).toEqual(['1', '9']);

    // Only reads reached the portal; the queue still holds both events, unreserved.
    for (const rec of emulator.calls.records) if (rec.method !== 'batch') expect(methodKind(rec.method), rec.method).toBe('read');
    expect(emulator.calls.records.map((x) => x.method)).toContain('event.offline.list');
    const after = await listQueue();
    expect(after).toEqual(before);
    expect(after.every((e) => e.PROCESS_ID === '')).toBe(true);

    // The recorded file replays with dry-run: its events on its records.
    const replay = await runCli(['dry-run', '--fixtures', out, '--format', 'json', '--at', '2026-11-24T09:00:00+03:00', join(PACKAGE_ROOT, 'rules', '04-stage-followup-tasks.yaml')], { env: oauthEnv(), cwd: tmp });
    expect(replay.stderr).toBe('');
    const plan = JSON.parse(replay.stdout) as PlanDocument;
    expect(plan.inputs.events).toBe(2);
    expect(plan.firings.filter((f) => f.calls.length > 0).map((f) => [f.rule, f.record?.id, f.calls.map((c) => c.method)])).toEqual([['followup-preparation', '401', ['tasks.task.add']]]);
  });

  it('--event narrows to those event names', async () => {
    const out = join(tmp, 'deals-only.fixtures.yaml');
    const r = await runCli(['record', '--events', '10', '--event', 'onCrmDealUpdate', '--out', out], { env: oauthEnv(), cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Recorded 1 event (deals: 1, users: 2) into ${out}\n`);
    const two = await runCli(['record', '--event', 'ONCRMDEALUPDATE', '--event', 'ONCRMLEADUPDATE', '--out', out], { env: oauthEnv(), cwd: tmp });
    expect(two.stdout).toContain('Recorded 2 events');
  });

  it('with an incoming webhook: exit 1 explaining that the queue needs an OAuth app', async () => {
    const r = await runCli(['record', '--out', join(tmp, 'never.yaml')], { env: { ...oauthEnv(), B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_REFRESH_TOKEN: '', B24_WEBHOOK_URL: emulator.webhookUrl }, cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WRONG_AUTH_TYPE');
    expect(r.stderr).toContain('can only be read by an application (B24_AUTH_MODE=oauth)');
  });

  it('as an app user who is not an administrator: exit 1 explaining that the queue needs an administrator', async () => {
    const notAdmin = emulator.issueTokens(9);
    const r = await runCli(['record', '--out', join(tmp, 'never.yaml')], {
      env: { ...oauthEnv(), B24_ACCESS_TOKEN: notAdmin.access_token, B24_REFRESH_TOKEN: notAdmin.refresh_token, B24_TOKEN_FILE: join(tmp, 'tokens-not-admin.json') },
      cwd: tmp,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ACCESS_DENIED');
    expect(r.stderr).toContain('acting as an administrator');
  });

  it('knows which record each event names', () => {
    expect(recordOfEvent('ONCRMDEALUPDATE', { FIELDS: { ID: '5' } })).toEqual({ key: 'deals', id: '5', command: { method: 'crm.deal.get', params: { id: '5' } } });
    expect(recordOfEvent('ONTASKUPDATE', { FIELDS_BEFORE: { ID: 7 }, FIELDS_AFTER: { ID: 7 } })).toMatchObject({ key: 'tasks', command: { method: 'tasks.task.get', params: { taskId: '7' } } });
    expect(recordOfEvent('ONCRMDYNAMICITEMUPDATE', { FIELDS: { ID: '24', ENTITY_TYPE_ID: '1220' } })).toMatchObject({ key: 'items_1220', command: { method: 'crm.item.get', params: { entityTypeId: 1220, id: '24' } } });
    expect(recordOfEvent('ONCRMDEALDELETE', { FIELDS: { ID: '5' } })).toBeNull();
    expect(recordOfEvent('ONCRMCOMPANYADD', { FIELDS: { ID: '2' } })?.key).toBe('companies');
  });
});
