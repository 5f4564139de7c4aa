/**
 * The console's JSON endpoints against a daemon on the emulator: the same
 * documents as the CLI's --format json (the CLI runs as a subprocess on the
 * same state file), the runs filter and paging, the rules and health
 * documents, and what a trace page may show (escaped values, no secrets).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ERP_HOST, ERP_PASSWORD, playScenario, startRig, XSS_TITLE, type ConsoleRig, type Scenario } from './harness.js';

let rig: ConsoleRig;
let scenario: Scenario;
beforeAll(async () => {
  rig = await startRig();
  scenario = await playScenario(rig);
});
afterAll(async () => {
  await rig?.close();
});

const get = async (path: string) => {
  const res = await fetch(`${rig.url}${path}`);
  return { status: res.status, headers: res.headers, text: await res.text() };
};
const getJson = async (path: string) => JSON.parse((await get(path)).text) as unknown;
const cli = async (...args: string[]) => {
  const r = await runCli([...args, '--format', 'json', '--state', rig.daemon.store.path]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as unknown;
};

describe('the console API', () => {
  it('answers /api/runs, /api/runs/:id, /api/dlq and /api/dlq/:id with the CLI documents', async () => {
    const runs = (await getJson('/api/runs?limit=50')) as Array<{ id: number; ruleId: string; status: string }>;
    expect(runs.length).toBeGreaterThan(5);
    expect(runs).toEqual(await cli('runs', '--limit', '50'));
    const acted = runs.find((r) => r.ruleId === 'route-leads-key-accounts' && r.status === 'done');
    expect(acted).toBeDefined();
    expect(await getJson(`/api/runs/${acted!.id}`)).toEqual(await cli('trace', String(acted!.id)));
    const dlq = (await getJson('/api/dlq')) as Array<{ id: number; ruleId: string }>;
    expect(dlq.map((e) => e.ruleId)).toEqual(['prepayment-invoice-to-erp']);
    expect(dlq).toEqual(await cli('dlq', 'list'));
    expect(await getJson(`/api/dlq/${dlq[0]!.id}`)).toEqual(await cli('dlq', 'show', String(dlq[0]!.id)));
    expect((await get('/api/runs/999999')).status).toBe(404);
  });

  it('filters runs by rule, record, outcome and time, newest first, paged by a Link header', async () => {
    const record = `lead:${scenario.bigLead}`;
    const skipped = (await getJson(`/api/runs?record=${record}&outcome=skipped`)) as Array<{ ruleId: string; reason: string; recordKey: string }>;
    expect(skipped.map((r) => r.ruleId).sort()).toEqual(expect.arrayContaining(['route-leads-inbound', 'route-leads-partners', 'route-leads-regions']));
    for (const r of skipped) expect(r.recordKey).toBe(record);
    expect(skipped.find((r) => r.ruleId === 'route-leads-partners')!.reason).toMatch(/^condition false: /);
    const byRule = (await getJson('/api/runs?rule=route-leads-key-accounts')) as Array<{ ruleId: string }>;
    expect(byRule.length).toBeGreaterThan(0);
    expect(new Set(byRule.map((r) => r.ruleId))).toEqual(new Set(['route-leads-key-accounts']));
    // The first lead's runs were created at START, the second's a minute later.
    const late = (await getJson(`/api/runs?record=${record}&from=2026-03-04T10:00:30Z`)) as unknown[];
    expect(late).toEqual([]);
    const first = await get('/api/runs?limit=2');
    const page1 = JSON.parse(first.text) as Array<{ id: number }>;
    expect(page1).toHaveLength(2);
    expect(page1[0]!.id).toBeGreaterThan(page1[1]!.id);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBe(`/api/runs?limit=2&before=${page1[1]!.id}`);
    const page2 = (await getJson(next!)) as Array<{ id: number }>;
    expect(page2[0]!.id).toBeLessThan(page1[1]!.id);
    const bad = await get('/api/runs?outcome=maybe&before=x');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('outcome must be one of');
  });

  it('/api/rules lists every running rule with its file, trigger and counts, and /api/health samples by the minute', async () => {
    const doc = (await getJson('/api/rules')) as { rules: Array<{ id: string; file: string; line: number; trigger: string; runs: { hour: Record<string, number> }; dlq: number; lastActedAt: number | null }>; refusedReload: unknown };
    expect(doc.rules.map((r) => r.id)).toEqual(rig.daemon.rules.map((r) => r.id));
    expect(doc.refusedReload).toBeNull();
    const erp = doc.rules.find((r) => r.id === 'prepayment-invoice-to-erp')!;
    expect(erp).toMatchObject({ trigger: 'event ONCRMDEALUPDATE when STAGE_ID changes', dlq: 1 });
    expect(erp.file).toMatch(/15-offline-queue-dlq\.yaml$/);
    expect(erp.runs.hour.dead).toBe(1);
    const ka = doc.rules.find((r) => r.id === 'route-leads-key-accounts')!;
    expect(ka.lastActedAt).toBe(Date.UTC(2026, 2, 4, 10, 0, 0));
    const before = (await getJson('/api/health')) as { samples: Array<{ at: number; calls: number }>; report: { ok: boolean } };
    expect(before.report.ok).toBe(true);
    rig.clock.advance(60_000);
    const after = (await getJson('/api/health')) as { samples: Array<{ at: number; calls: number; depth: number }> };
    expect(after.samples.length).toBe(before.samples.length + 1);
    expect(after.samples.reduce((n, s) => n + s.calls, 0)).toBeGreaterThan(0);
  });

  it('a trace page shows field values as text and no secret of the rules', async () => {
    const runs = (await getJson(`/api/runs?record=lead:${scenario.xssLead}&outcome=done`)) as Array<{ id: number }>;
    expect(runs.length).toBeGreaterThan(0);
    const page = await get(`/console/runs/${runs[0]!.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain(XSS_TITLE);
    expect(page.text).not.toContain('<b>Eve</b>');
    // Every page of every run: the stub services' keys go out in http calls' headers, never onto a page.
    const all = (await getJson('/api/runs?limit=200')) as Array<{ id: number }>;
    const secrets = Object.entries(rig.env).filter(([k, v]) => /KEY|TOKEN|SECRET/.test(k) && v).map(([, v]) => v as string);
    expect(secrets.length).toBeGreaterThan(3);
    for (const r of all) {
      const text = (await get(`/console/runs/${r.id}`)).text + (await get(`/api/runs/${r.id}`)).text;
      for (const s of secrets) expect(text, `run ${r.id}`).not.toContain(s);
      // INVOICING_URL carries the ERP's credentials (http://erp-user:PASSWORD@erp.test:8080/erp): registered nowhere, masked by its shape.
      expect(text, `run ${r.id}`).not.toContain(ERP_PASSWORD);
    }
    const erpRun = all.find((r) => (r as { ruleId?: string }).ruleId === 'prepayment-invoice-to-erp')!;
    const erpTrace = (await get(`/api/runs/${erpRun.id}`)).text;
    expect(erpTrace).toContain(`erp-user:[REDACTED]@${ERP_HOST}/erp/invoices`);
    const [entry] = (await getJson('/api/dlq')) as Array<{ id: number }>;
    for (const path of ['/api/dlq', `/api/dlq/${entry!.id}`, '/console/dlq', `/console/dlq/${entry!.id}`]) expect((await get(path)).text, path).not.toContain(ERP_PASSWORD);
  });

  it("a trace shows each call's batch, answer and times, and the condition's explanation", async () => {
    const [acted] = (await getJson(`/api/runs?rule=route-leads-key-accounts&outcome=done`)) as Array<{ id: number }>;
    const doc = (await getJson(`/api/runs/${acted!.id}`)) as { calls: Array<{ method: string; meta: { batch?: { id: number; commands: number } } }> };
    const update = doc.calls.find((c) => c.method === 'crm.lead.update')!;
    expect(update.meta.batch).toEqual({ id: expect.any(Number), commands: expect.any(Number) });
    const page = (await get(`/console/runs/${acted!.id}`)).text;
    expect(page).toContain('Acted:');
    expect(page).toMatch(/batch of \d+ \(from call \d+\)/);
    expect(page).toContain('ASSIGNED_BY_ID');
    const [skip] = (await getJson(`/api/runs?rule=route-leads-partners&record=lead:${scenario.bigLead}`)) as Array<{ id: number; reason: string }>;
    const skipPage = (await get(`/console/runs/${skip!.id}`)).text;
    expect(skipPage).toContain('Did not act:');
    expect(skipPage).toContain('condition false: ');
  });

  it('drops a dead letter from the page after its confirmation; the item stays dead', async () => {
    const [entry] = (await getJson('/api/dlq')) as Array<{ id: number; itemId: number }>;
    const confirm = await fetch(`${rig.url}/console/dlq/${entry!.id}/drop`);
    const html = await confirm.text();
    expect(html).toContain(`Yes, drop entry ${entry!.id}`);
    const cookie = confirm.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await fetch(`${rig.url}/console/dlq/${entry!.id}/drop`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}` });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/dlq?dropped=${entry!.id}`);
    expect(await getJson('/api/dlq')).toEqual([]);
    expect(rig.daemon.store.inbox.get(entry!.itemId)!.status).toBe('dead');
    expect((await get(`/console/dlq?dropped=${entry!.id}`)).text).toContain(`Dropped entry ${entry!.id}.`);
  });
});
