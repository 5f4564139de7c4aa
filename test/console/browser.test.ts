/**
 * The console in a real headless Chromium (Debian's, driven by playwright-core)
 * against a daemon on the emulator with the scenario rules: the rules page,
 * the traces of a run that acted and of one whose condition was false, a
 * dead-lettered run retried from the page, a refused reload, a lead titled
 * with markup, a POST without its CSRF token. The run writes the screenshots
 * in docs/ (docs/console.md shows them), so they show what the code does; a
 * second run leaves them byte for byte: the clock is the test's, the ERP's
 * address fixed, the offline events' random keys masked, and the health page
 * drawn from a fixed hour (a live hour's counts depend on the machine's pace).
 */
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsole, HealthRing, type HealthView, type PortalView } from '../../engine/console/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { startStatusServer, type StatusServer } from '../../engine/status/index.js';
import { ManualClock } from '../sources/helpers.js';
import { playScenario, START, startRig, XSS_TITLE, type ConsoleRig, type Scenario } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.log(`console browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);

const shot = (name: string) => join(PACKAGE_ROOT, 'docs', `console-${name}.png`);
/** What differs from run to run on a page: the offline events' keys (the portal's random reservation ids). */
const volatile = (page: Page) => ({ mask: [page.locator('.trigger-key')], maskColor: '#e9ecef' });

/** An hour of a busy portal's health, the same on every run: a morning's leads arriving, the calls they cause, a rate-limit wait. */
function fixedHour(report: Record<string, unknown>, end: number): HealthView {
  const clock = new ManualClock(end - 60 * 60_000);
  const level = { depth: 0, calls: 0, waits: 0, reservations: 0 };
  const ring = new HealthRing(clock, {
    depth: () => level.depth,
    dlq: () => 1,
    callsTotal: () => level.calls,
    rateLimitWaitsTotal: () => level.waits,
    offlineReservations: () => level.reservations,
    tokenExpiresAt: () => end + 25 * 60_000,
  });
  for (let minute = 0; minute < 60; minute++) {
    const busy = Math.round(12 + 10 * Math.sin(minute / 6) + (minute % 7));
    level.calls += busy;
    level.depth = Math.max(0, Math.round(busy / 4) - 2);
    level.reservations = level.depth > 0 ? 1 : 0;
    if (minute === 41) level.waits += 2;
    clock.advance(60_000);
    ring.tick();
  }
  return { report: { ...report, lastTickAt: new Date(end).toISOString(), depth: level.depth, dlq: 1 }, samples: ring.samples(), offline: true, tokenExpiresAt: end + 25 * 60_000 };
}

describe.skipIf(!HAVE_CHROMIUM)('the web console in Chromium', () => {
  let rig: ConsoleRig;
  let scenario: Scenario;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    rig = await startRig();
    scenario = await playScenario(rig);
    profile = mkdtempSync(join(tmpdir(), 'b24-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rig?.close();
  });

  const open = async (path: string) => {
    const res = await page.goto(`${rig.url}${path}`);
    expect(res?.status(), path).toBe(200);
  };

  it('the rules page lists the scenario rules with their files and triggers', async () => {
    await open('/');
    expect(new URL(page.url()).pathname).toBe('/console/rules');
    const ids = await page.locator('#rules tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule')));
    expect(ids).toEqual(rig.daemon.rules.map((r) => r.id));
    const erp = page.locator('tr[data-rule="prepayment-invoice-to-erp"]');
    await expect.poll(() => erp.innerText()).toContain('15-offline-queue-dlq.yaml');
    expect(await erp.innerText()).toContain('event ONCRMDEALUPDATE when STAGE_ID changes');
    await page.screenshot({ path: shot('rules'), ...volatile(page) });
  });

  it('a run that acted shows its trace: the trigger, the condition, the call with its fields before and after', async () => {
    await open('/console/runs');
    await page.screenshot({ path: shot('runs'), ...volatile(page) });
    // The filter: choosing a rule applies it (console.js).
    await Promise.all([page.waitForURL(/rule=route-leads-key-accounts/), page.selectOption('select[name="rule"]', 'route-leads-key-accounts')]);
    const row = page.locator('#runs tbody tr', { hasText: `lead:${scenario.bigLead}` }).first();
    await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), row.locator('td a').first().click()]);
    const shareable = page.url();
    expect(await page.locator('#why').innerText()).toMatch(/Acted: \d+ call\(s\) done/);
    expect(await page.locator('#condition').innerText()).toContain('true');
    const calls = await page.locator('#calls').innerText();
    expect(calls).toContain('crm.lead.update');
    expect(calls).toMatch(/batch of \d+/);
    expect(await page.locator('#actions').innerText()).toContain('ASSIGNED_BY_ID');
    expect(await page.locator('#loaded').innerText()).toContain('Fleet renewal — Contoso Freight');
    await page.screenshot({ path: shot('trace'), fullPage: true, ...volatile(page) });
    // A run has a URL: opened afresh, it shows the same trace.
    const again = await context.newPage();
    await again.goto(shareable);
    expect(await again.locator('h1').innerText()).toBe(await page.locator('h1').innerText());
    await again.close();
  });

  it('a run whose condition was false shows why', async () => {
    // The key-account rule on a lead of 5,000 (a routing rule after the winner of its group is skipped naming it, test/e2e-engine/groups.test.ts).
    await open(`/console/runs?rule=route-leads-key-accounts&record=lead:${scenario.xssLead}`);
    const row = page.locator('#runs tbody tr').first();
    expect(await row.innerText()).toContain('condition false:');
    await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), row.locator('td a').first().click()]);
    const why = await page.locator('#why').innerText();
    expect(why).toContain('Did not act:');
    expect(why).toMatch(/condition false: .+ is false/);
  });

  it('a lead titled with markup renders as text', async () => {
    await open(`/console/runs?record=lead:${scenario.xssLead}&outcome=done`);
    const row = page.locator('#runs tbody tr').first();
    await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), row.locator('td a').first().click()]);
    expect(await page.locator('#loaded').innerText()).toContain(XSS_TITLE);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main b').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('a dead-lettered run is retried from the page, after a confirmation, and then succeeds', async () => {
    await open('/console/dlq');
    const row = page.locator('#dlq tbody tr', { hasText: 'prepayment-invoice-to-erp' });
    expect(await row.count()).toBe(1);
    expect(await row.innerText()).toContain('HTTP 503');
    await page.screenshot({ path: shot('dlq'), ...volatile(page) });
    await Promise.all([page.waitForURL(/\/console\/dlq\/\d+\/retry$/), row.getByRole('link', { name: 'Retry' }).click()]);
    expect(await page.locator('#confirm').innerText()).toContain('sends the item back to the inbox');
    rig.erp.down = false;
    await Promise.all([page.waitForURL(/\/console\/dlq\?retried=\d+$/), page.locator('#confirm button[type="submit"]').click()]);
    expect(await page.locator('.flash').innerText()).toContain('Requeued entry');
    await rig.settle('the retried invoice');
    await open('/console/runs?rule=prepayment-invoice-to-erp&outcome=done');
    const done = page.locator('#runs tbody tr').first();
    await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), done.locator('td a').first().click()]);
    expect(await page.locator('#why').innerText()).toContain('Acted:');
    // The answers are folded (details): their text is in the page.
    expect(await page.locator('#calls').textContent()).toContain('INV-2026-');
    await open('/console/dlq');
    expect(await page.locator('.empty').innerText()).toContain('empty');
  });

  it('a POST without the CSRF token is refused, in the browser too', async () => {
    await open('/console/dlq');
    const statuses = await page.evaluate(async () => {
      const bare = await fetch('/api/dlq/all/drop', { method: 'POST' });
      const form = await fetch('/console/dlq/all/retry', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=guess' });
      return [bare.status, form.status];
    });
    expect(statuses).toEqual([403, 403]);
  });

  it('the health page draws the last hour', async () => {
    rig.clock.advance(60_000);
    await open('/console/health');
    expect(await page.locator('figure.chart').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#chart-calls rect.bar').count()).toBeGreaterThan(0);
    expect(await page.locator('#health-report').innerText()).toContain('offline');
    // The screenshot: the same page over a fixed hour (the daemon's own report, its time pinned), served by a console of its own.
    const end = START + 3 * 3600_000;
    const hour = fixedHour(rig.daemon.health(), end);
    const live = rig.daemon;
    const view: PortalView = { key: 'default', label: new URL(rig.emu.url).hostname, store: live.store, rules: () => live.rules, health: () => hour, lastRefusedReload: () => null };
    const app = createConsole({ source: { portals: () => [view] }, token: null, listen: '127.0.0.1:0', clock: new ManualClock(end) });
    const server: StatusServer = await startStatusServer({ listen: '127.0.0.1:0', metrics: { render: () => '' }, health: () => ({ ok: true }), handlers: [app.handler] });
    try {
      const res = await page.goto(`${server.url}/console/health`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('#chart-calls rect.bar').count()).toBeGreaterThanOrEqual(60);
      await page.screenshot({ path: shot('health') });
    } finally {
      await server.close();
    }
  });

  it('a refused reload shows the file and the line, and the running set keeps working', async () => {
    const broken = join(rig.rulesDir, '99-broken.yaml');
    writeFileSync(broken, 'id: broken-schedule\ndescription: A cron with a minute that does not exist.\ntrigger:\n  schedule: { cron: "61 9 * * *", timezone: Europe/Berlin }\nactions:\n  - notify: { user: 1, message: hi }\n');
    try {
      expect(await rig.daemon.reload()).toBe(false);
      const d = rig.daemon.lastRefusedReload!.diagnostics[0]!;
      expect(d.file).toBe(broken);
      await open('/console/rules');
      const panel = await page.locator('#refused-reload').innerText();
      expect(panel).toContain(`99-broken.yaml:${d.line}:${d.col}`);
      expect(d.line).toBe(4);
      expect(await page.locator('#rules tbody tr').count()).toBe(rig.daemon.rules.length);
    } finally {
      unlinkSync(broken);
    }
    expect(await rig.daemon.reload()).toBe(true);
    await open('/console/rules');
    expect(await page.locator('#refused-reload').count()).toBe(0);
  });

  // Last, so that the screenshots above keep showing the scenario rules alone.
  it('a shadow rule’s run carries a visible shadow mark beside the live runs, and its trace says its call was journaled, never sent', async () => {
    const twin = join(rig.rulesDir, '98-shadow-greeting.yaml');
    writeFileSync(twin, 'id: greet-shadow\nmode: shadow\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello from the shadow" }\n');
    try {
      expect(await rig.daemon.reload()).toBe(true);
      const lead = String((await rig.user.call<number>('crm.lead.add', { fields: { TITLE: 'Shadow visitor', NAME: 'Sam', OPPORTUNITY: 5000, CURRENCY_ID: 'EUR', ASSIGNED_BY_ID: 1, STATUS_ID: 'NEW', SOURCE_ID: 'WEB' } })).result);
      await rig.settle('the shadow rule’s run');
      await open(`/console/runs?record=lead:${lead}`);
      const rows = page.locator('#runs tbody tr');
      const marked = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[1]?.textContent, tr.querySelector('.badge-shadow') !== null]));
      expect(marked.length).toBeGreaterThan(1);
      for (const [rule, shadow] of marked) expect(shadow, String(rule)).toBe(rule === 'greet-shadow');
      const row = page.locator('#runs tbody tr', { hasText: 'greet-shadow' });
      expect(await row.locator('.badge-shadow').isVisible()).toBe(true);
      await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), row.locator('td a').first().click()]);
      expect(await page.locator('.status-line .badge-shadow').isVisible()).toBe(true);
      expect(await page.locator('#why').innerText()).toContain('Shadow: 1 call(s) journaled, none sent');
      const calls = await page.locator('#calls').innerText();
      expect(calls).toContain('crm.timeline.comment.add');
      expect(calls).toContain('not sent (shadow)');
      expect(rig.emu.store.all('timeline_comment').filter((c) => c.COMMENT === 'Hello from the shadow')).toEqual([]);
      // Only the shadow runs, on the page and in the API.
      await open('/console/runs?mode=shadow');
      expect(await page.locator('#runs tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[1]?.textContent, tr.querySelector('.badge-shadow') !== null]))).toEqual([['greet-shadow', true]]);
      const api = (await (await page.request.get(`${rig.url}/api/runs?mode=shadow`)).json()) as Array<{ ruleId: string; mode: string }>;
      expect(api.map((r) => [r.ruleId, r.mode])).toEqual([['greet-shadow', 'shadow']]);
    } finally {
      unlinkSync(twin);
    }
    expect(await rig.daemon.reload()).toBe(true);
  });
});
