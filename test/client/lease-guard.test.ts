/**
 * The client's `canSend` guard (a worker's lease on the portal), against the emulator over HTTP: when it says no,
 * nothing reaches the portal or its token server, and the error proves the call did not run, so the engine's
 * ledger keeps the call to send again where the portal is served next.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, LeaseLostError, provedNotRun, type B24Client, type BatchCommand } from '../../engine/client/index.js';
import { fakeClock } from './helpers/fake-clock.js';

let emu: Emulator | undefined;
let client: B24Client | undefined;
let dir: string | undefined;

afterEach(async () => {
  await client?.close();
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  client = undefined;
  emu = undefined;
  dir = undefined;
});

describe('canSend guard', () => {
  it('a call is not sent when the guard says no: LEASE_LOST, proved not run, never retried', async () => {
    emu = await startEmulator({ limits: { burst: 1e9 } });
    let holds = true;
    client = createClient({ baseUrl: emu.url, plan: 'standard', auth: { mode: 'webhook', userId: '1', code: emu.webhookUrl.split('/').at(-2)! } }, { clock: fakeClock(), canSend: () => holds });
    await client.call('crm.deal.list', { start: -1 });
    const before = emu.calls.httpRequests;
    holds = false;
    const err = await client.call('crm.deal.add', { fields: { TITLE: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect((err as LeaseLostError).code).toBe('LEASE_LOST');
    expect((err as LeaseLostError).kind).toBe('operational');
    expect(provedNotRun(err)).toBe(true);
    expect(emu.calls.httpRequests).toBe(before);
    expect(client.stats.retries).toBe(0);
  });

  it('a batch() of several requests that loses the lease after the first is not proof that none ran', async () => {
    emu = await startEmulator({ limits: { burst: 1e9 } });
    let sent = 0;
    client = createClient(
      { baseUrl: emu.url, plan: 'standard', auth: { mode: 'webhook', userId: '1', code: emu.webhookUrl.split('/').at(-2)! } },
      // The guard is asked twice per request (before the token, before the send): true for the first request only.
      { clock: fakeClock(), canSend: () => sent++ < 2 },
    );
    const cmds: BatchCommand[] = Array.from({ length: 60 }, (_, i) => ({ method: 'crm.deal.add', params: { fields: { TITLE: `d${i}` } } }));
    const err = await client.batch(cmds).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(Object.keys((err as LeaseLostError).completed ?? {})).toHaveLength(50);
    expect(provedNotRun(err)).toBe(false);
    expect(emu.store.all('deal').filter((d) => String(d.TITLE).startsWith('d'))).toHaveLength(50);
  });

  it('OAuth: no refresh reaches the token server once the lease is gone (only the lease holder rotates the refresh token)', async () => {
    emu = await startEmulator({ limits: { burst: 1e9 } });
    dir = await mkdtemp(join(tmpdir(), 'b24-guard-'));
    let holds = false;
    client = createClient(
      {
        baseUrl: emu.url,
        plan: 'standard',
        // No access token: the first call must refresh.
        auth: { mode: 'oauth', refreshToken: emu.app.refresh_token, clientId: emu.app.client_id, clientSecret: emu.app.client_secret, oauthUrl: emu.url, tokenFile: join(dir, 't.json') },
      },
      { clock: fakeClock(), canSend: () => holds },
    );
    const err = await client.call('crm.deal.list', { start: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(emu.calls.httpRequests).toBe(0);
    expect(client.stats.refreshes).toBe(0);
    holds = true;
    await client.call('crm.deal.list', { start: -1 });
    expect(client.stats.refreshes).toBe(1);
  });
});
