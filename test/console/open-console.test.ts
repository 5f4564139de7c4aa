/**
 * The console without a token (loopback) over HTTP against a daemon on the
 * emulator: it answers only requests that name it as localhost, 127.x.x.x or
 * [::1] and come through no proxy (a DNS-rebinding page, a proxy in front of
 * it); "Retry all" and `rules dlq retry all` when one item has two DLQ
 * entries; /api/dlq's limit; a run's DLQ link however many entries its rule
 * has; and every path that serves the console refusing a non-loopback listen
 * address without a token (the daemon's mount, `rules demo`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonConsole } from '../../engine/console/index.js';
import { createDaemon } from '../../engine/daemon/index.js';
import { silentLogger } from '../../engine/logger.js';
import type { DlqEntry } from '../../engine/store/index.js';
import { RULES_DIR } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';
import { playScenario, startRig, type ConsoleRig } from './harness.js';

let rig: ConsoleRig;
let port: number;
beforeAll(async () => {
  rig = await startRig();
  await playScenario(rig);
  port = Number(new URL(rig.url).port);
});
afterAll(async () => {
  await rig?.close();
});

type Res = { status: number; headers: Record<string, string | string[] | undefined>; text: string };
/** A request with exactly the headers given (Host included: `host: null` sends none). */
function raw(path: string, options: { method?: string; headers?: Record<string, string | null>; body?: string } = {}): Promise<Res> {
  const { host = `127.0.0.1:${port}`, ...rest } = options.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== null) headers[k] = v;
  if (host !== null) headers.host = host;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The csrf cookie and token of a confirmation page, as a browser holds them. */
async function csrfPair(): Promise<{ cookie: string; token: string }> {
  const res = await raw('/console/dlq/all/retry');
  expect(res.status).toBe(200);
  const setCookie = (res.headers['set-cookie'] ?? []) as string[];
  const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => /^b24c_csrf(?:_\d+)?=/.test(c))!;
  return { cookie, token: /name="_csrf" value="([^"]+)"/.exec(res.text)![1]! };
}

describe('a console without a token', () => {
  it('answers only a Host of localhost, 127.x.x.x or [::1]: a DNS-rebinding page is refused with 421 and why', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`, 'localhost']) {
      expect((await raw('/api/rules', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `[::2]:${port}`, `10.0.0.5:${port}`, `127.0.0.256:${port}`]) {
      const api = await raw('/api/rules', { headers: { host } });
      expect(api.status, host).toBe(421);
      expect(JSON.parse(api.text).error).toContain('localhost, 127.x.x.x or [::1]');
      const page = await raw('/console/runs', { headers: { host } });
      expect(page.status, host).toBe(421);
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.text).not.toContain('<table');
      expect((await raw('/', { headers: { host } })).status, host).toBe(421);
    }
    // A state-changing POST from a rebinding page, even with a token it read (it cannot), gets no further.
    const { cookie, token } = await csrfPair();
    const post = await raw('/api/dlq/all/drop', { method: 'POST', headers: { host: `evil.example:${port}`, cookie, 'x-csrf-token': token } });
    expect(post.status).toBe(421);
    expect(rig.daemon.store.dlq.count()).toBe(1);
    // No Host at all: refused as well (by Node's server already, 400, for HTTP/1.1; by the console otherwise).
    expect([400, 421]).toContain((await raw('/api/rules', { headers: { host: null } })).status);
    // Not the console: the status server's own endpoints are unchanged.
    expect((await raw('/healthz', { headers: { host: `evil.example:${port}` } })).status).toBe(200);
  });

  it('refuses a request that came through a proxy (Forwarded, X-Forwarded-*, X-Real-IP): set the token when proxying', async () => {
    const proxied: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7;proto=https' }, { 'x-forwarded-host': 'rules.example.com' }, { 'x-forwarded-proto': 'https' }, { 'x-real-ip': '203.0.113.7' }];
    for (const headers of proxied) {
      const res = await raw('/console/rules', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.text).toContain('B24_RULES_CONSOLE_TOKEN');
      expect(res.text).toContain('through a proxy');
      expect((await raw('/api/dlq', { headers })).status).toBe(403);
    }
  });

  it('"Retry all" requeues an item with two DLQ entries once (a 500 before), and rules dlq retry all does too', async () => {
    // A second rule on the same trigger: a deal that reaches PREPAYMENT_INVOICE while the ERP is down is dead-lettered by both.
    const copy = readFileSync(join(RULES_DIR, '15-offline-queue-dlq.yaml'), 'utf8')
      .replace('id: prepayment-invoice-to-erp', 'id: prepayment-invoice-copy')
      .replace('dedupe: "erp-invoice:', 'dedupe: "erp-invoice-copy:');
    writeFileSync(join(rig.rulesDir, '15b-copy.yaml'), copy);
    expect(await rig.daemon.reload()).toBe(true);
    const deadDeal = async (id: number) => {
      await rig.user.call('crm.deal.update', { id, fields: { STAGE_ID: 'PREPAYMENT_INVOICE' } });
      await rig.settle(`deal ${id} dead-lettered by both rules`);
      const entries = rig.daemon.store.dlq.list({ limit: 100 });
      const item = rig.daemon.store.runs.get(entries[0]!.runId!)!.itemId;
      expect(entries.filter((e) => e.itemId === item).map((e) => e.ruleId).sort()).toEqual(['prepayment-invoice-copy', 'prepayment-invoice-to-erp']);
      return item;
    };
    const item = await deadDeal(3);
    expect(rig.daemon.store.dlq.count()).toBe(3);

    const { cookie, token } = await csrfPair();
    const res = await raw('/api/dlq/all/retry', { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
    expect(res.status, res.text).toBe(200);
    const { retried } = JSON.parse(res.text) as { retried: number[] };
    // One id per item requeued: deal 1's entry and one of deal 3's (the retry took its other entry with it).
    expect(retried).toHaveLength(2);
    expect(rig.daemon.store.dlq.count()).toBe(0);
    rig.erp.down = false;
    await rig.settle('the retried items');
    expect(rig.daemon.store.inbox.get(item)!.status).toBe('done');

    rig.erp.down = true;
    await deadDeal(8);
    const cli = await runCli(['dlq', 'retry', 'all', '--state', rig.daemon.store.path, '--format', 'json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as { retried: number[] }).retried).toHaveLength(1);
    expect(rig.daemon.store.dlq.count()).toBe(0);
    rig.erp.down = false;
    await rig.settle('the item retried by the CLI');
  });

  let dead: DlqEntry;
  it("a run's page links its DLQ entry however many newer entries its rule has", async () => {
    rig.erp.down = true;
    await rig.user.call('crm.deal.update', { id: 10, fields: { STAGE_ID: 'PREPAYMENT_INVOICE' } });
    await rig.settle('deal 10 dead-lettered');
    dead = rig.daemon.store.dlq.list({ ruleId: 'prepayment-invoice-to-erp', limit: 1 })[0]!;
    // 600 newer entries of the same rule (an ERP down for a day), none of that run.
    rig.daemon.store.transaction(() => {
      for (let i = 0; i < 600; i++) rig.daemon.store.dlq.add({ itemId: dead.itemId, runId: null, ruleId: 'prepayment-invoice-to-erp', error: `HTTP 503 #${i}`, payload: {} });
    });
    const trace = await raw(`/console/runs/${dead.runId}`);
    expect(trace.text).toContain(`href="/console/dlq/${dead.id}">entry ${dead.id}</a>`);
  });

  it("/api/dlq takes ?limit= as the CLI's --limit: default 100, clamped to 500, a bad one is 400", async () => {
    const list = async (query: string) => {
      const res = await raw(`/api/dlq${query}`);
      return { status: res.status, body: JSON.parse(res.text) as unknown };
    };
    const byDefault = await list('');
    expect((byDefault.body as unknown[]).length).toBe(100);
    const cli = await runCli(['dlq', 'list', '--state', rig.daemon.store.path, '--format', 'json']);
    expect(byDefault.body).toEqual(JSON.parse(cli.stdout));
    expect(((await list('?limit=7')).body as unknown[]).length).toBe(7);
    expect(((await list('?limit=100000')).body as unknown[]).length).toBe(500);
    for (const bad of ['abc', '0', '-3', '2.5']) {
      const r = await list(`?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect((r.body as { error: string }).error).toContain('limit must be a whole number from 1 to 500');
    }
  });
});

describe('a non-loopback listen address without a token', () => {
  it("is refused by the console's mount itself: the daemon does not start", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-console-listen-'));
    writeFileSync(join(dir, 'lead.yaml'), 'id: lead-seen\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "{{ lead.ID }}", text: seen }\n');
    const daemon = createDaemon({
      rulesPaths: [dir],
      statePath: ':memory:',
      config: { baseUrl: 'http://127.0.0.1:9', plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'abcdefgh' } },
      logger: silentLogger,
      listen: '0.0.0.0:0',
      watch: false,
      mount: daemonConsole({ token: null }),
    });
    try {
      await expect(daemon.start()).rejects.toMatchObject({ code: 'CONSOLE_TOKEN_REQUIRED' });
      expect(daemon.url ?? null).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rules demo --listen 0.0.0.0 refuses to start (it served the open console before)', async () => {
    const r = await runCli(['demo', '--listen', '0.0.0.0:0', '--duration', '3'], { env: { B24_RULES_CONSOLE_TOKEN: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONSOLE_TOKEN_REQUIRED');
    expect(r.stdout).not.toContain('web console');
  });
});
