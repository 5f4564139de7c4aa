/**
 * The web console of a worker (issue 10's many portals on PostgreSQL): one
 * worker serving two portals of an emulator fleet on the throwaway PostgreSQL
 * shows both in the portal selector, and a run page of each portal renders
 * that portal's run; the token rules are the daemon's (no token: loopback
 * only, for the library and for `rules run --state postgres://...`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, type EmulatorFleet } from '../../emulator/index.js';
import { silentLogger } from '../../engine/logger.js';
import type { ControlPlane } from '../../engine/portals/index.js';
import { createWorker, type Worker } from '../../engine/worker/index.js';
import { until } from '../daemon/harness.js';
import { runCli } from '../helpers/cli.js';
import { pgUrl } from '../helpers/pg.js';
import { addLeads, appOf, bound, closeUsers, commentsByTitle, fleetDeployment, ruleFolder } from '../worker/helpers.js';

describe.skipIf(!pgUrl())('the console of a worker serving two portals (PostgreSQL + emulator fleet)', () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  let rules: string;
  let worker: Worker;

  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: 2, limits: { burst: 1e9 } });
    ({ url, cp } = await fleetDeployment(fleet, 'worker_console'));
    rules = ruleFolder();
    worker = createWorker({
      databaseUrl: url,
      workerId: 'wc1',
      rulesPaths: [rules],
      logger: silentLogger,
      listen: '127.0.0.1:0',
      leaseTtlMs: 5000,
      app: appOf(fleet),
      watch: false,
      daemon: { tickIntervalMs: 50, offline: { pollIntervalMs: 50 } },
      console: { token: null },
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${worker.url}${path}`);
    return { status: res.status, text: await res.text() };
  };

  it("lists both portals in the selector, and a run page of each portal shows that portal's run", async () => {
    await until(() => worker.held().length === 2 && fleet.portals.every(bound), 'the worker serving both portals', 60_000);
    for (const p of fleet.portals) await addLeads(p, `portal${p.index}-lead`, 2);
    await until(() => fleet.portals.every((p) => commentsByTitle(p).size === 2), 'every lead commented', 60_000);

    const portals = JSON.parse((await get('/api/portals')).text) as Array<{ key: string; label: string }>;
    expect(portals.map((p) => p.key).sort()).toEqual(fleet.portals.map((p) => p.memberId).sort());
    const rulesPage = await get(`/console/rules?portal=${portals[0]!.key}`);
    expect(rulesPage.status).toBe(200);
    const selector = /<nav class="portals"[^>]*>([\s\S]*?)<\/nav>/.exec(rulesPage.text)?.[1] ?? '';
    for (const p of portals) expect(selector).toContain(`href="/console/rules?portal=${p.key}"`);
    expect(selector).toContain('aria-current="page"');

    for (const p of fleet.portals) {
      const key = p.memberId;
      const runs = JSON.parse((await get(`/api/runs?portal=${key}&rule=lead-seen&outcome=done`)).text) as Array<{ id: number; recordKey: string }>;
      expect(runs).toHaveLength(2);
      const page = await get(`/console/runs/${runs[0]!.id}?portal=${key}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Acted:');
      expect(page.text).toContain(`portal${p.index}-lead-`);
      expect(page.text).not.toContain(`portal${1 - p.index}-lead-`);
      // The page's links stay on its portal.
      expect(page.text).toContain(`href="/console/runs?rule=lead-seen&amp;portal=${key}"`);
    }
    expect((await get('/console/rules?portal=nobody')).status).toBe(404);
  });

  it('refuses a listen address beyond loopback without a token, before anything starts (the library and the CLI)', async () => {
    const open = createWorker({ databaseUrl: url, workerId: 'wc-open', rulesPaths: [rules], logger: silentLogger, listen: '0.0.0.0:0', app: appOf(fleet), watch: false, console: { token: null } });
    await expect(open.start()).rejects.toMatchObject({ code: 'CONSOLE_TOKEN_REQUIRED' });
    expect(open.held()).toEqual([]);
    await open.stop();
    const cli = await runCli(['run', rules, '--state', url, '--worker-id', 'wc-cli', '--listen', '0.0.0.0:0'], {
      env: { B24_RULES_CONSOLE_TOKEN: '', B24_CLIENT_ID: fleet.clientId, B24_CLIENT_SECRET: fleet.clientSecret, B24_OAUTH_URL: fleet.oauthUrl },
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('CONSOLE_TOKEN_REQUIRED');
  });
});
