/**
 * `rules dry-run` in live mode against an emulator started here, as a
 * subprocess: it reads the portal and never writes. The proof is the
 * emulator's own record of every call it answered.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type PortalData } from '../../emulator/index.js';
import { methodKind } from '../../engine/client/method-kind.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { portalDataOf, readFixturesFile } from '../../engine/testing/fixtures.js';
import { runCli } from '../helpers/cli.js';

const FIXTURES = join(PACKAGE_ROOT, 'rules', 'fixtures', '03-route-leads.fixtures.yaml');
const EVENTS = join(PACKAGE_ROOT, 'test', 'fixtures', 'dry-run', 'route-leads.events.jsonl');
let emulator: Emulator;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dry-run-live-'));
  emulator = await startEmulator({ port: 0, data: portalDataOf(readFixturesFile(FIXTURES)) as PortalData, limits: { burst: 10_000, drainPerSec: 10_000 } });
});
afterAll(async () => {
  await emulator.close();
  await rm(tmp, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return { B24_WEBHOOK_URL: emulator.webhookUrl, B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '', B24_PLAN: '' };
}

describe('rules dry-run against a live portal', () => {
  it('plans the writes from live data, and not one write reaches the portal', async () => {
    emulator.calls.clear();
    const before = emulator.store.all('lead');
    const out = join(tmp, 'plan.json');
    const r = await runCli(['dry-run', join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml'), '--events', EVENTS, '--at', '2026-11-24T09:00:00+03:00', '--format', 'json', '--out', out, '--detailed-exitcode'], { env: env(), cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.source).toEqual({ mode: 'live', portal: emulator.url });
    expect(plan.firings.filter((f) => f.calls.length > 0).map((f) => [f.rule, f.calls.map((c) => c.method)])).toEqual([['route-leads-key-accounts', ['crm.lead.update', 'im.notify.system.add']]]);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(plan);

    const records = emulator.calls.records;
    expect(records.length).toBeGreaterThan(0);
    // Every call the portal answered was a read: batch sub-commands one by one, and a batch only as the carrier of reads.
    for (const rec of records) {
      if (rec.method === 'batch') {
        const subs = records.filter((x) => x.batch?.parent === rec.seq);
        expect(subs.length).toBeGreaterThan(0);
        for (const s of subs) expect(methodKind(s.method), `batch command ${s.method}`).toBe('read');
      } else {
        expect(methodKind(rec.method), rec.method).toBe('read');
      }
    }
    expect(records.map((x) => x.method)).not.toContain('crm.lead.update');
    expect(emulator.store.all('lead')).toEqual(before);
  });
});

describe('rules apply --plan', () => {
  it('carries out exactly the saved plan, then refuses it once the records it read have changed', async () => {
    const out = join(tmp, 'plan-to-apply.json');
    const planned = await runCli(['dry-run', join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml'), '--events', EVENTS, '--at', '2026-11-24T09:00:00+03:00', '--format', 'json', '--out', out], { env: env(), cwd: tmp });
    expect(planned.code).toBe(0);
    const plan = JSON.parse(await readFile(out, 'utf8')) as PlanDocument;
    const writes = plan.firings.flatMap((f) => f.calls.filter((c) => c.kind === 'write'));
    expect(writes.map((c) => c.method)).toEqual(['crm.lead.update', 'im.notify.system.add']);

    emulator.calls.clear();
    const applied = await runCli(['apply', '--plan', out], { env: env(), cwd: tmp });
    expect(applied.stderr).not.toMatch(/refused/i);
    expect(applied.code).toBe(0);
    const sent = () => emulator.calls.records.map((x) => x.method).filter((m) => methodKind(m) === 'write' && m !== 'batch');
    expect(sent().sort()).toEqual(['crm.lead.update', 'im.notify.system.add']);

    // The update changed the lead the plan read: the same plan is now stale and nothing is sent.
    emulator.calls.clear();
    const again = await runCli(['apply', '--plan', out], { env: env(), cwd: tmp });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/changed/i);
    expect(sent()).toEqual([]);
  });

  it('--plan with a RULE is a usage error (exit 2)', async () => {
    const r = await runCli(['apply', 'route-leads', '--plan', 'plan.json'], { env: env(), cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give no RULE');
  });
});
