/**
 * A daemon with its web console on the in-process emulator, for the console's
 * HTTP and browser tests: the scenario rules (a copy of rules/, so a test may
 * break a file), the demo's stub services for the rules' external calls, an
 * ERP stand-in that can be down (the rules reach it by a fixed name,
 * erp.test:8080, with credentials in the URL: the daemon's fetch sends that
 * name to the stand-in's port, so error texts are the same on every run), and
 * one clock for the daemon and the emulator that moves only when the test (or
 * a retry's backoff) moves it, so times on the pages are the same on every run.
 * No value is registered as a secret here: what the pages hide, the daemon
 * hid by itself.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStubServices, type StubServices } from '../../demo/stub-services.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { daemonConsole } from '../../engine/console/index.js';
import { authConnectorFor } from '../../engine/config.js';
import { createDaemon, type Daemon, type DaemonOptions } from '../../engine/daemon/index.js';
import { RULES_DIR } from '../../engine/paths.js';
import { ManualClock, memoryLogger } from '../sources/helpers.js';
import { oauthConfig, userClient } from '../sources/emulator-helpers.js';

/** Wednesday 2026-03-04 10:00 UTC: no scenario schedule falls due in the hours a test moves the clock. */
export const START = Date.UTC(2026, 2, 4, 10, 0, 0);

/** Where the rules reach the ERP stand-in (INVOICING_URL's host): the same in every run's error texts. */
export const ERP_HOST = 'erp.test:8080';
/** The password in INVOICING_URL (`http://erp-user:PASSWORD@erp.test:8080/erp`): no page or document may show it. */
export const ERP_PASSWORD = 'erp-pw-4b7e1f0c9a';

export interface ConsoleRig {
  emu: Emulator;
  daemon: Daemon;
  clock: ManualClock;
  /** The status server (`http://127.0.0.1:PORT`). */
  url: string;
  /** The daemon's copy of the scenario rules. */
  rulesDir: string;
  /** The ERP stand-in of rule 15: answers 503 while down. */
  erp: { down: boolean; calls: number };
  user: ReturnType<typeof userClient>;
  /** The rules' environment (nothing in it registered as a secret by the harness). */
  env: Record<string, string | undefined>;
  /** Wait (in real time) until the daemon has nothing left to do; a run waiting for a retry gets the clock moved a minute. */
  settle(what?: string): Promise<void>;
  close(): Promise<void>;
}

function erpStandIn(state: { down: boolean; calls: number }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls++;
      if (state.down) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"ledger locked for the month-end close"}');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(`{"number":"INV-2026-${String(state.calls).padStart(4, '0')}","status":"issued"}`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

export interface RigOptions {
  /** The console token. @default null (loopback, no login) */
  token?: string | null;
  /** B24_RULES_CONSOLE_ORIGIN's origins. @default none */
  allowedOrigins?: string[];
}

export async function startRig(options: RigOptions = {}): Promise<ConsoleRig> {
  const clock = new ManualClock(START);
  const dir = mkdtempSync(join(tmpdir(), 'b24-console-'));
  const rulesDir = join(dir, 'rules');
  cpSync(RULES_DIR, rulesDir, { recursive: true });
  const emu = await startEmulator({ port: 0, now: clock.now, limits: { burst: 1e9, drainPerSec: 1e9, operatingBudgetSec: 1e12 } });
  const stubs: StubServices = await startStubServices();
  const erp = { down: true, calls: 0 };
  const erpServer = await erpStandIn(erp);
  const env: Record<string, string | undefined> = { ...stubs.env, INVOICING_URL: `http://erp-user:${ERP_PASSWORD}@${ERP_HOST}/erp`, FORM_SECRET: 'console-form-secret', APPROVAL_TEMPLATE_ID: '17' };
  // The name erp.test resolves to the stand-in (as a hosts file would); fetch takes no credentials in a URL, a client library would send them.
  const http: NonNullable<DaemonOptions['http']> = (url, init) => {
    const u = new URL(url);
    return fetch(u.host === ERP_HOST ? `${erpServer.url}${u.pathname}${u.search}` : url, init);
  };
  const config = oauthConfig(emu, dir);
  const daemon = createDaemon({
    rulesPaths: [rulesDir],
    statePath: join(dir, 'state.db'),
    config,
    logger: memoryLogger().logger,
    env,
    listen: '127.0.0.1:0',
    watch: false,
    clock,
    tickIntervalMs: 40,
    offline: { pollIntervalMs: 60 },
    clientOptions: { rateLimit: false },
    http,
    mount: daemonConsole({ token: options.token ?? null, config, clock, ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) }),
  });
  await daemon.start();
  const connector = authConnectorFor(config);
  const settle = async (what = 'the daemon to settle'): Promise<void> => {
    const until = Date.now() + 60_000;
    let quiet = 0;
    while (Date.now() < until) {
      // A dead item's event stays in the portal's queue marked as an error (event.offline.error).
      const queued = emu.events.hub.queue.snapshot().some((r) => r.connector === connector && !r.error);
      const st = daemon.store.runs.countByStatus();
      const working = daemon.store.inbox.countByStatus().pending > 0 || st.new > 0 || st.active > 0;
      const busy = queued || working;
      // (A reserved event stays queued until its item finishes: a run waiting for its retry keeps it there.)
      if (!working && st.waiting > 0) {
        // A run waits for its retry: its backoff passes at once.
        clock.advance(60_000);
        quiet = 0;
      } else if (!busy && daemon.store.inbox.depth() === 0) {
        if (++quiet >= 5) return;
      } else quiet = 0;
      await new Promise((r) => setTimeout(r, 60));
    }
    const st = daemon.store.runs.countByStatus();
    const open = daemon.store.runs.summaries({ status: ['new', 'active', 'waiting'], limit: 10 }).map((r) => `${r.id} ${r.ruleId} ${r.status} ${r.error ?? ''}`);
    const q = emu.events.hub.queue.snapshot().filter((r) => r.connector === connector).map((r) => JSON.stringify(r).slice(0, 300));
    throw new Error(`timed out waiting for ${what}: queue ${q.join(" | ")}; runs ${JSON.stringify(st)}, depth ${daemon.store.inbox.depth()}, open: ${open.join('; ')}`);
  };
  return {
    emu,
    daemon,
    clock,
    url: daemon.url as string,
    rulesDir,
    erp,
    user: userClient(emu),
    env,
    settle,
    async close() {
      await daemon.stop();
      await emu.close();
      await stubs.close();
      await new Promise((r) => erpServer.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The title of a lead that must render as text. */
export const XSS_TITLE = '<img src=x onerror=alert(1)>';

export interface Scenario {
  /** A 2,000,000 lead: route-leads-key-accounts acts, the other routing rules (its group) are skipped naming it. */
  bigLead: string;
  /** A lead titled XSS_TITLE. */
  xssLead: string;
  /** Deal 1 moved to PREPAYMENT_INVOICE while the ERP is down: rule 15 ends in the DLQ. */
  deal: string;
}

/** Portal activity, one step at a time (each settles first, so run ids come in the same order every time). */
export async function playScenario(rig: ConsoleRig): Promise<Scenario> {
  const add = async (fields: Record<string, unknown>) => String((await rig.user.call<number>('crm.lead.add', { fields })).result);
  const bigLead = await add({ TITLE: 'Fleet renewal — Contoso Freight', NAME: 'Dana', LAST_NAME: 'Fischer', OPPORTUNITY: 2_000_000, CURRENCY_ID: 'EUR', ASSIGNED_BY_ID: 1, STATUS_ID: 'NEW', SOURCE_ID: 'WEB' });
  await rig.settle('the big lead');
  rig.clock.advance(60_000);
  const xssLead = await add({ TITLE: XSS_TITLE, NAME: '<b>Eve</b>', OPPORTUNITY: 5000, CURRENCY_ID: 'EUR', ASSIGNED_BY_ID: 1, STATUS_ID: 'NEW', SOURCE_ID: 'CALL' });
  await rig.settle('the lead with markup in its title');
  rig.clock.advance(60_000);
  await rig.user.call('crm.deal.update', { id: 1, fields: { STAGE_ID: 'PREPAYMENT_INVOICE' } });
  await rig.settle('the deal moved to PREPAYMENT_INVOICE');
  return { bigLead, xssLead, deal: '1' };
}
