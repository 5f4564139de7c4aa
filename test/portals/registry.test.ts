/**
 * The portals table on a real PostgreSQL: its migrations (once, even when
 * several processes open it together; a newer schema refused), webhook and
 * OAuth portals added, listed without secrets, enabled, disabled, changed and
 * removed, and what a worker reads to call a portal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { B24RulesError } from '../../engine/errors.js';
import { ERROR_CODES } from '../../engine/error-codes.js';
import {
  CONTROL_PLANE_VERSION,
  LeaseManager,
  maskWebhookUrl,
  openControlPlane,
  portalClientConfig,
  PortalNotFoundError,
  PortalRegistry,
  PortalsError,
  REVOKED_WORKER,
  webhookPortalKey,
  type ControlPlane,
} from '../../engine/portals/index.js';
import { redact } from '../../engine/redact.js';
import { pgUrl } from '../helpers/pg.js';
import { expireLease, freshControlPlane } from './control-plane.js';

const HOOK = 'https://acme.bitrix24.com/rest/7/s3cr3tw3bh00kc0de/';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as B24RulesError).code;
  }
  return undefined;
}

describe.skipIf(!pgUrl())('the portal registry (PostgreSQL)', () => {
  let cp: ControlPlane;
  let url: string;
  let registry: PortalRegistry;

  beforeAll(async () => {
    ({ cp, url } = await freshControlPlane('registry'));
    registry = new PortalRegistry(cp.pool);
  });
  afterAll(async () => {
    await cp?.close();
  });

  it('migrates once however many processes open it together, and refuses a schema a newer b24-rules wrote', async () => {
    const planes = await Promise.all([1, 2, 3].map(() => openControlPlane(url)));
    expect(planes.map((p) => p.version)).toEqual([CONTROL_PLANE_VERSION, CONTROL_PLANE_VERSION, CONTROL_PLANE_VERSION]);
    await Promise.all(planes.map((p) => p.close()));
    const { rows } = await cp.pool.query<{ version: number }>('SELECT version FROM b24rules.meta');
    expect(rows).toEqual([{ version: CONTROL_PLANE_VERSION }]);

    await cp.pool.query('UPDATE b24rules.meta SET version = version + 1');
    try {
      const err = await openControlPlane(url).then(
        () => undefined,
        (e: unknown) => e as PortalsError,
      );
      expect(err?.code).toBe('CONTROL_PLANE_TOO_NEW');
      expect(err?.kind).toBe('user');
    } finally {
      await cp.pool.query('UPDATE b24rules.meta SET version = version - 1');
    }
  });

  it('cannot reach a database: CONTROL_PLANE_UNAVAILABLE, naming host and database but never the password', async () => {
    const bad = 'postgres://someone:pa55w0rd-xyz@127.0.0.1:1/nowhere';
    const err = await openControlPlane(bad).then(
      () => undefined,
      (e: unknown) => e as PortalsError,
    );
    expect(err?.code).toBe('CONTROL_PLANE_UNAVAILABLE');
    expect(err?.kind).toBe('operational');
    expect(err?.message).toContain('127.0.0.1:1/nowhere');
    expect(err?.message).not.toContain('pa55w0rd-xyz');
    expect(await codeOf(openControlPlane('/var/lib/state.db'))).toBe('PORTAL_INVALID');
  });

  it('adds a webhook portal by URL, keyed by the URL without its code unless a member_id is given, and never shows the code', async () => {
    const portal = await registry.addWebhook({ webhookUrl: HOOK, ruleSet: 'acme' });
    expect(portal).toMatchObject({
      memberId: webhookPortalKey({ baseUrl: 'https://acme.bitrix24.com', userId: '7' }),
      domain: 'acme.bitrix24.com',
      authMode: 'webhook',
      webhookUrl: 'https://acme.bitrix24.com/rest/7/[REDACTED]/',
      plan: 'standard',
      enabled: true,
      ruleSet: 'acme',
      hasTokens: false,
    });
    expect(portal.memberId).toMatch(/^webhook:[0-9a-f]{32}$/);
    expect(JSON.stringify(await registry.list())).not.toContain('s3cr3tw3bh00kc0de');
    expect(redact(`calling ${HOOK}`)).not.toContain('s3cr3tw3bh00kc0de');
    expect(await codeOf(registry.addWebhook({ webhookUrl: HOOK }))).toBe('PORTAL_EXISTS');
    const named = await registry.addWebhook({ webhookUrl: 'http://127.0.0.1:9/rest/1/abcdef123456/', memberId: 'a1b2c3', plan: 'enterprise' });
    expect(named).toMatchObject({ memberId: 'a1b2c3', domain: '127.0.0.1:9', plan: 'enterprise' });
    expect(await registry.connection('a1b2c3')).toMatchObject({ baseUrl: 'http://127.0.0.1:9', auth: { mode: 'webhook', userId: '1', code: 'abcdef123456' } });
    expect(portalClientConfig(await registry.connection('a1b2c3'))).toEqual({ baseUrl: 'http://127.0.0.1:9', plan: 'enterprise', auth: { mode: 'webhook', userId: '1', code: 'abcdef123456' } });
  });

  it('refuses malformed portal data with PORTAL_INVALID, saying what to write', async () => {
    for (const webhookUrl of ['not a url', 'https://acme.bitrix24.com/rest/x/y/', 'ftp://acme/rest/1/abc/']) {
      const err = await registry.addWebhook({ webhookUrl }).then(
        () => undefined,
        (e: unknown) => e as PortalsError,
      );
      expect(err?.code).toBe('PORTAL_INVALID');
      expect(err?.message).toContain('/rest/{user id}/{webhook code}/');
    }
    expect(await codeOf(registry.addWebhook({ webhookUrl: 'https://b.bitrix24.com/rest/1/abcdef/', ruleSet: '../etc' }))).toBe('PORTAL_INVALID');
    expect(await codeOf(registry.addWebhook({ webhookUrl: 'https://b.bitrix24.com/rest/1/abcdef/', memberId: 'bad id!' }))).toBe('PORTAL_INVALID');
    expect(await codeOf(registry.addOAuth({ memberId: 'x1', domain: 'x.bitrix24.com', refreshToken: '' }))).toBe('PORTAL_INVALID');
    expect(await codeOf(registry.update('a1b2c3', { plan: 'gold' as 'standard' }))).toBe('PORTAL_INVALID');
  });

  it('adds an OAuth portal with a token pair: listed without tokens; the worker gets a config whose pair lives in the table', async () => {
    const portal = await registry.addOAuth({ memberId: 'oauthportal1', domain: 'http://127.0.0.1:8', refreshToken: 'refresh-abcdef-123', accessToken: 'access-abcdef-123', expiresAt: 1_900_000_000_000 });
    expect(portal).toMatchObject({ memberId: 'oauthportal1', domain: '127.0.0.1:8', authMode: 'oauth', clientEndpoint: 'http://127.0.0.1:8/rest/', hasTokens: true, tokenVersion: 1, installed: false });
    const listed = JSON.stringify(await registry.list());
    expect(listed).not.toContain('refresh-abcdef-123');
    expect(listed).not.toContain('access-abcdef-123');
    const conn = await registry.connection('oauthportal1');
    expect(conn).toMatchObject({ baseUrl: 'http://127.0.0.1:8', auth: { mode: 'oauth' } });
    expect(() => portalClientConfig(conn)).toThrow(/B24_CLIENT_ID/);
    const persistence = { read: async () => undefined, write: async () => undefined };
    const config = portalClientConfig(conn, { app: { clientId: 'id', clientSecret: 'secret-xyz-1', oauthUrl: 'http://127.0.0.1:8' }, tokenPersistence: persistence });
    expect(config.auth).toMatchObject({ mode: 'oauth', clientId: 'id', oauthUrl: 'http://127.0.0.1:8', tokenPersistence: persistence });
  });

  it('enables, disables, changes plan and rule set, and removes (its lease revoked until it expires); an unknown member_id is PORTAL_NOT_FOUND', async () => {
    await registry.addWebhook({ webhookUrl: 'https://c.bitrix24.com/rest/1/abcdef99/', memberId: 'cport' });
    expect((await registry.setEnabled('cport', false)).enabled).toBe(false);
    expect((await registry.setEnabled('cport', true)).enabled).toBe(true);
    expect(await registry.update('cport', { plan: 'enterprise', ruleSet: 'big-client' })).toMatchObject({ plan: 'enterprise', ruleSet: 'big-client' });
    expect((await registry.update('cport', { ruleSet: null })).ruleSet).toBeNull();
    const lease = await new LeaseManager(cp.pool, { workerId: 'w' }).acquireOne('cport');
    expect(lease).not.toBeNull();
    expect((await registry.list()).find((p) => p.memberId === 'cport')?.lease).toMatchObject({ workerId: 'w', live: true });
    await registry.remove('cport');
    expect(await registry.get('cport')).toBeUndefined();
    const { rows } = await cp.pool.query(`SELECT worker_id FROM b24rules.leases WHERE member_id = 'cport'`);
    expect(rows).toEqual([{ worker_id: REVOKED_WORKER }]);
    // Once expired, the next heartbeat clears a removed portal's lease.
    await expireLease(cp, 'cport');
    await new LeaseManager(cp.pool, { workerId: 'w' }).heartbeat();
    expect((await cp.pool.query(`SELECT 1 FROM b24rules.leases WHERE member_id = 'cport'`)).rows).toHaveLength(0);
    for (const call of [() => registry.remove('cport'), () => registry.setEnabled('cport', true), () => registry.require('cport'), () => registry.connection('cport')]) {
      expect(await codeOf(call())).toBe('PORTAL_NOT_FOUND');
    }
    expect(new PortalNotFoundError('x').message).toContain('rules portals list');
  });
});

describe('the control plane errors', () => {
  it('take their kind from the list', () => {
    for (const code of ['PORTAL_NOT_FOUND', 'PORTAL_EXISTS', 'PORTAL_INVALID', 'CONTROL_PLANE_UNAVAILABLE', 'CONTROL_PLANE_TOO_NEW'] as const) {
      expect(new PortalsError(code, 'x').kind).toBe(ERROR_CODES[code].kind);
    }
    expect(new PortalNotFoundError('x')).toMatchObject({ code: 'PORTAL_NOT_FOUND', kind: 'user' });
  });

  it('mask a webhook URL', () => {
    expect(maskWebhookUrl('https://a.bitrix24.com/rest/1/abcdef/')).toBe('https://a.bitrix24.com/rest/1/[REDACTED]/');
    expect(maskWebhookUrl('garbage')).toBe('[REDACTED]');
  });
});
