/**
 * `rules portals` as a subprocess against the throwaway PostgreSQL: add a
 * webhook portal (by flag or B24_RULES_DATABASE_URL/B24_WEBHOOK_URL) and an
 * OAuth one (tokens from the environment), list them (text and JSON) with
 * lease holder and expiry and without any secret, enable, disable, set,
 * remove; usage errors exit 2, control-plane errors 1 with their code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseManager, openControlPlane, type ControlPlane } from '../../engine/portals/index.js';
import { openStateStoreFor, portalSchema } from '../../engine/store/index.js';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, pgUrl } from '../helpers/pg.js';

const HOOK = 'https://acme.bitrix24.com/rest/3/w3bh00kc0d3secret/';
const REFRESH = 'refresh-token-from-env-0001';
const ACCESS = 'access-token-from-env-0001';
const SECRETS = ['w3bh00kc0d3secret', REFRESH, ACCESS];

describe.skipIf(!pgUrl())('rules portals (CLI, PostgreSQL)', () => {
  let url: string;
  let cp: ControlPlane;
  const rules = (args: string[], env: Record<string, string | undefined> = {}) => runCli(['portals', ...args], { env: { B24_RULES_DATABASE_URL: undefined, B24_WEBHOOK_URL: undefined, B24_REFRESH_TOKEN: undefined, B24_ACCESS_TOKEN: undefined, B24_DOMAIN: undefined, ...env } });
  const noSecrets = (text: string) => {
    for (const s of SECRETS) expect(text).not.toContain(s);
  };

  beforeAll(async () => {
    url = await freshDatabase('portals_cli');
    cp = await openControlPlane(url);
  });
  afterAll(async () => {
    await cp?.close();
  });

  it('adds, lists, disables, enables, changes and removes portals, never printing a secret', async () => {
    const hook = await rules(['add', '--webhook', HOOK, '--state', url, '--rule-set', 'acme']);
    expect(hook.stderr).toBe('');
    expect(hook.code).toBe(0);
    expect(hook.stdout).toMatch(/^Added portal webhook:[0-9a-f]{32} \(acme\.bitrix24\.com, webhook, standard, enabled, rule set acme\)\.\n$/);
    noSecrets(hook.stdout);

    const oauth = await rules(['add', '--oauth', '--member-id', 'f00dcafe', '--domain', 'beta.bitrix24.com', '--plan', 'enterprise', '--json'], {
      B24_RULES_DATABASE_URL: url,
      B24_REFRESH_TOKEN: REFRESH,
      B24_ACCESS_TOKEN: ACCESS,
    });
    expect(oauth.code).toBe(0);
    expect(JSON.parse(oauth.stdout)).toMatchObject({ memberId: 'f00dcafe', domain: 'beta.bitrix24.com', authMode: 'oauth', plan: 'enterprise', hasTokens: true });
    noSecrets(oauth.stdout);

    // A third from B24_WEBHOOK_URL, with its member_id, disabled from the start.
    const fromEnv = await rules(['add', '--member-id', 'gamma01', '--disabled', '--state', url], { B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/g4mm4c0d3secret/' });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain('gamma01 (127.0.0.1:9, webhook, standard, disabled)');
    expect(fromEnv.stdout).not.toContain('g4mm4c0d3secret');

    const lease = await new LeaseManager(cp.pool, { workerId: 'worker-a' }).acquireOne('f00dcafe');
    expect(lease).not.toBeNull();

    const list = await rules(['list', '--state', url]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MEMBER_ID\s+DOMAIN\s+AUTH\s+PLAN\s+ENABLED\s+RULE SET\s+LEASE$/);
    expect(lines.find((l) => l.startsWith('f00dcafe'))).toMatch(/^f00dcafe\s+beta\.bitrix24\.com\s+oauth\s+enterprise\s+yes\s+-\s+worker-a until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines.find((l) => l.startsWith('gamma01'))).toMatch(/^gamma01\s+127\.0\.0\.1:9\s+webhook\s+standard\s+no\s+-\s+-$/);
    expect(lines.find((l) => l.startsWith('webhook:'))).toMatch(/acme\.bitrix24\.com\s+webhook\s+standard\s+yes\s+acme\s+-$/);
    noSecrets(list.stdout);

    const json = await rules(['list', '--state', url, '--format', 'json']);
    const portals = JSON.parse(json.stdout) as Array<{ memberId: string; webhookUrl: string | null; lease: { workerId: string } | null }>;
    expect(portals.map((p) => p.memberId)).toEqual(['f00dcafe', 'gamma01', expect.stringMatching(/^webhook:/)]);
    expect(portals.find((p) => p.memberId === 'gamma01')?.webhookUrl).toBe('http://127.0.0.1:9/rest/1/[REDACTED]/');
    expect(portals.find((p) => p.memberId === 'f00dcafe')?.lease).toMatchObject({ workerId: 'worker-a', live: true });
    noSecrets(json.stdout);
    expect(json.stdout).not.toContain('g4mm4c0d3secret');

    const disable = await rules(['disable', 'f00dcafe', '--state', url]);
    expect(disable.code).toBe(0);
    expect(disable.stdout).toContain('stops at its next lease renewal');
    const afterDisable = await rules(['list', '--state', url]);
    expect(afterDisable.stdout.split('\n').find((l) => l.startsWith('f00dcafe'))).toMatch(/\s+no\s+-\s+\(revoked, free at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
    expect((await rules(['enable', 'gamma01', '--state', url])).stdout).toContain('Enabled portal gamma01 (127.0.0.1:9, webhook, standard, enabled)');
    const set = await rules(['set', 'gamma01', '--plan', 'enterprise', '--rule-set', 'gamma', '--json', '--state', url]);
    expect(JSON.parse(set.stdout)).toMatchObject({ plan: 'enterprise', ruleSet: 'gamma' });
    expect(JSON.parse((await rules(['set', 'gamma01', '--no-rule-set', '--json', '--state', url])).stdout).ruleSet).toBeNull();

    const removed = await rules(['remove', 'f00dcafe', '--state', url]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed portal f00dcafe');
    expect((await cp.pool.query(`SELECT worker_id FROM b24rules.leases WHERE member_id = 'f00dcafe'`)).rows).toEqual([{ worker_id: '(revoked)' }]);
  });

  it('remove --drop-state drops the portal\'s state schema; without it the state stays', async () => {
    for (const id of ['keepme1', 'dropme1']) {
      expect((await rules(['add', '--webhook', `https://${id}.bitrix24.com/rest/1/abcdef12/`, '--member-id', id, '--state', url])).code).toBe(0);
      const store = openStateStoreFor(url, { portal: id });
      store.inbox.add([{ source: 'manual', key: `k-${id}`, event: 'manual', ruleId: null, payload: {}, receivedAt: 1 }]);
      store.close();
    }
    const schemas = async () => (await cp.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname IN ('${portalSchema('keepme1')}', '${portalSchema('dropme1')}') ORDER BY 1`)).rows.map((r) => r.nspname);
    expect(await schemas()).toEqual([portalSchema('dropme1'), portalSchema('keepme1')]);
    const kept = await rules(['remove', 'keepme1', '--state', url]);
    expect(kept.stdout).toContain('its state stays in PostgreSQL (--drop-state drops it)');
    const dropped = await rules(['remove', 'dropme1', '--drop-state', '--state', url, '--json']);
    expect(dropped.code).toBe(0);
    expect(JSON.parse(dropped.stdout)).toEqual({ removed: 'dropme1', stateDropped: true });
    expect(await schemas()).toEqual([portalSchema('keepme1')]);
    expect((await rules(['disable', 'x', '--drop-state', '--state', url])).code).toBe(2);
  });

  it('errors: a second add of the same portal, an unknown one, bad data: exit 1 with the code; bad usage: exit 2', async () => {
    await rules(['add', '--webhook', 'https://dup.bitrix24.com/rest/1/abcdef12/', '--member-id', 'dup1', '--state', url]);
    const dup = await rules(['add', '--webhook', 'https://dup.bitrix24.com/rest/1/abcdef12/', '--member-id', 'dup1', '--state', url]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("PORTAL_EXISTS: portal 'dup1' is already registered");
    expect(dup.stderr).not.toContain('abcdef12');

    const unknown = await rules(['disable', 'nope', '--state', url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("PORTAL_NOT_FOUND: no portal 'nope'; list them with: rules portals list");

    const bad = await rules(['add', '--webhook', 'https://x.bitrix24.com/hook/abc/', '--state', url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PORTAL_INVALID');
    expect(bad.stderr).toContain("'https://your-portal.bitrix24.com/rest/{user id}/{webhook code}/'");

    const down = await rules(['list', '--state', 'postgres://nobody:s3cretpw@127.0.0.1:1/none']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('CONTROL_PLANE_UNAVAILABLE: cannot use the control plane at postgres://nobody@127.0.0.1:1/none');
    expect(down.stderr).not.toContain('s3cretpw');

    for (const [args, message] of [
      [['list'], 'needs the control plane: --state postgres://'],
      [['list', '--state', '.rules/state.db'], '--state must be a postgres:// URL'],
      [['frob', '--state', url], "unknown portals subcommand 'frob'"],
      [['disable', '--state', url], "portals disable needs a portal's member_id"],
      [['add', '--oauth', '--member-id', 'm1', '--domain', 'd.bitrix24.com', '--state', url], 'reads the refresh token from B24_REFRESH_TOKEN'],
      [['add', '--state', url], 'portals add needs --webhook URL'],
      [['add', '--webhook', HOOK, '--plan', 'gold', '--state', url], '--plan must be standard or enterprise'],
      [['set', 'dup1', '--state', url], 'portals set needs --plan, --rule-set or --no-rule-set'],
    ] as const) {
      const r = await rules([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('is listed by rules --help', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toMatch(/^ {2}portals +list, add, enable, disable or remove/m);
  });
});
