/**
 * A worker's receivers (engine/worker/webhook-receivers.ts) on the emulator fleet and the throwaway PostgreSQL: an
 * outgoing-webhook event of an installed app, posted as Bitrix24 posts it (form-encoded, auth[member_id],
 * auth[domain], auth[application_token]) to the worker that does NOT hold the portal, is stored in the portal's inbox
 * before the 200 and done once, by the holder; a forged token, an unknown portal and a missing token are refused and
 * store nothing; a form hook posted to /hooks/<member_id>/<rule path> with the rule's secret is done once by the
 * holder, a wrong secret refused; a typo in another rule file, reloaded, leaves the good form hook answering.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatorFleet, stringifyPhpQuery, type EmulatorFleet, type FleetPortal } from '../../emulator/index.js';
import { silentLogger } from '../../engine/logger.js';
import { PortalRegistry, type ControlPlane } from '../../engine/portals/index.js';
import { openPgStateStore } from '../../engine/store/index.js';
import { createWorker, type Worker } from '../../engine/worker/index.js';
import { until } from '../daemon/harness.js';
import { pgUrl } from '../helpers/pg.js';
import { appOf, closeUsers, fleetDeployment, ruleFolder, userOf } from './helpers.js';

const UPDATE_RULE = `id: lead-touched
trigger: { event: ONCRMLEADUPDATE }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "touched {{ lead.TITLE }}" }
`;
const FORM_RULE = `id: contact-form
env: [FORM_SECRET]
trigger:
  webhook:
    path: /forms/contact
    secret: "{{ env.FORM_SECRET }}"
actions:
  - create:
      entity: lead
      fields:
        TITLE: "Form: {{ request.body.name }}"
`;
const FORM_SECRET = 'f0rm-s3cret-value';

describe.skipIf(!pgUrl())("a worker's outgoing-webhook and form receivers (PostgreSQL + emulator fleet)", () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  const workers: Worker[] = [];
  /** Each worker's rule folder, by worker id. */
  const folders = new Map<string, string>();

  const worker = (id: string): Worker => {
    folders.set(id, ruleFolder({ 'touched.yaml': UPDATE_RULE, 'form.yaml': FORM_RULE }));
    const w = createWorker({
      databaseUrl: url,
      workerId: id,
      rulesPaths: [folders.get(id) as string],
      logger: silentLogger,
      listen: '127.0.0.1:0',
      leaseTtlMs: 6000,
      leaseGraceMs: 1000,
      app: appOf(fleet),
      watch: false,
      env: { FORM_SECRET },
      daemon: { tickIntervalMs: 50, offline: { pollIntervalMs: 50 }, drainTimeoutMs: 3000 },
    });
    workers.push(w);
    return w;
  };
  /** The outgoing-webhook body Bitrix24 posts for an event (api-reference/events/index.md), form-encoded. */
  const eventBody = (p: FleetPortal, leadId: number, auth: Record<string, string> = {}) =>
    stringifyPhpQuery({
      event: 'ONCRMLEADUPDATE',
      event_handler_id: '975',
      data: { FIELDS: { ID: String(leadId) } },
      ts: String(Math.floor(Date.now() / 1000)),
      auth: { domain: p.domain, client_endpoint: `${p.url}/rest/`, server_endpoint: `${fleet.tokenServerUrl}/rest/`, member_id: p.memberId, application_token: p.app.application_token, ...auth },
    });
  const post = async (to: Worker, path: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${to.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    return { status: res.status, body: await res.text() };
  };
  const comments = (p: FleetPortal, text: string) => p.emulator.store.all('timeline_comment').filter((c) => c.COMMENT === text);
  /** Items done but not yet acknowledged (retired) by the engine serving the portal. */
  const unretired = (p: FleetPortal, source: 'outgoing' | 'form') => {
    const store = openPgStateStore({ url, portal: p.memberId });
    try {
      return store.inbox.finished(source);
    } finally {
      store.close();
    }
  };
  const inboxOf = (p: FleetPortal, source: 'outgoing' | 'form') => {
    const store = openPgStateStore({ url, portal: p.memberId });
    try {
      return store.inbox.list({ source, limit: 1000 });
    } finally {
      store.close();
    }
  };

  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: 2, limits: { burst: 1e9 } });
    // No portal registered yet: both are installed through a worker's /b24/app, which keeps their application_token.
    ({ url, cp } = await fleetDeployment(fleet, 'receivers', 2));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  it('an event posted to the worker that does not hold its portal is stored before the 200 and done once, by the holder', async () => {
    const [w1, w2] = [worker('r1'), worker('r2')];
    await w1.start();
    await w2.start();
    for (const i of [0, 1]) expect((await fleet.install(i, `${w1.url}/b24/app`)).status).toBe(200);
    await until(async () => {
      await w1.round();
      await w2.round();
      return w1.held().length === 1 && w2.held().length === 1 && [w1, w2].every((w) => w.held().every((m) => w.runner(m)?.state === 'running'));
    }, 'one portal each', 60_000);
    const p = fleet.find(w1.held()[0] as string) as FleetPortal;
    expect(w2.held()).not.toContain(p.memberId);
    const lead = (await userOf(p).call<number>('crm.lead.add', { fields: { TITLE: 'Outgoing' } })).result;

    const r = await post(w2, '/b24/events', eventBody(p, lead));
    expect(r.status, r.body).toBe(200);
    // Stored when answered: the row is in the portal's inbox in PostgreSQL, whoever works on it.
    expect(inboxOf(p, 'outgoing').map((i) => i.event)).toEqual(['ONCRMLEADUPDATE']);
    await until(() => comments(p, 'touched Outgoing').length === 1, 'the holder doing the event', 60_000);
    // The same delivery again is a duplicate: stored once, done once.
    expect((await post(w1, '/b24/events', eventBody(p, lead))).status).toBe(200);
    await until(() => inboxOf(p, 'outgoing').every((i) => i.status === 'done'), 'the event done');
    // And retired by the holder once done, as the daemon's receiver retires its own (so retention can prune it).
    await until(() => unretired(p, 'outgoing').length === 0, 'the event retired');
    expect(comments(p, 'touched Outgoing')).toHaveLength(1);
    // Done by the holder: no request of w2 ever reached this portal.
    expect(fleet.requests(p.index).filter((q) => q.worker === 'r2')).toEqual([]);
    expect(fleet.overlaps()).toEqual([]);
  });

  it('a forged application_token, an unknown portal and a missing token are refused; nothing is stored, nothing echoed', async () => {
    const [w1, w2] = workers as [Worker, Worker];
    const p = fleet.find(w1.held()[0] as string) as FleetPortal;
    const before = inboxOf(p, 'outgoing').length;
    const forged = await post(w2, '/b24/events', eventBody(p, 1, { application_token: 'forged-app-token-0001' }));
    expect(forged.status).toBe(403);
    expect(forged.body).toContain(`application_token does not match portal ${p.memberId}`);
    // The other portal's real token does not open this one either.
    const other = fleet.portals.find((q) => q !== p) as FleetPortal;
    const crossed = await post(w2, '/b24/events', eventBody(p, 1, { application_token: other.app.application_token }));
    expect(crossed.status).toBe(403);
    const unknown = await post(w2, '/b24/events', eventBody(p, 1, { member_id: 'f'.repeat(32), domain: 'nowhere.bitrix24.com' }));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain("no portal of this deployment has member_id 'ffff");
    const missing = await post(w2, '/b24/events', stringifyPhpQuery({ event: 'ONCRMLEADUPDATE', data: { FIELDS: { ID: '1' } }, auth: { member_id: p.memberId } }));
    expect(missing.status).toBe(401);
    for (const r of [forged, crossed, unknown, missing]) {
      for (const secret of fleet.secrets()) expect(r.body).not.toContain(secret);
      expect(r.body).not.toContain('forged-app-token-0001');
    }
    expect(inboxOf(p, 'outgoing')).toHaveLength(before);
    const metrics = await (await fetch(`${w2.url}/metrics`)).text();
    expect(metrics).toMatch(/b24rules_worker_webhook_events_total\{outcome="refused",source="outgoing"\} 4/);
  });

  it('regression: an unknown member_id whose domain two portals share is refused with 409, not the 503 of a database outage; neither member_id is echoed', async () => {
    const [, w2] = workers as [Worker, Worker];
    const p = fleet.portals[0] as FleetPortal;
    const registry = new PortalRegistry(cp.pool);
    // A second portal under the same domain (disabled: no worker serves it), as an admin may add a webhook portal.
    const twin = await registry.addWebhook({ webhookUrl: `https://${p.domain}/rest/1/twinwebhookcode01/`, memberId: 'd'.repeat(32), enabled: false });
    try {
      expect(twin.domain).toBe((await registry.get(p.memberId))?.domain);
      const before = inboxOf(p, 'outgoing').length;
      const ambiguous = await post(w2, '/b24/events', eventBody(p, 1, { member_id: 'e'.repeat(32) }));
      expect(ambiguous.status).toBe(409);
      expect(ambiguous.body).toContain("no portal of this deployment has member_id 'eeee");
      expect(ambiguous.body).not.toContain(p.memberId);
      expect(ambiguous.body).not.toContain(twin.memberId);
      expect(inboxOf(p, 'outgoing')).toHaveLength(before);
    } finally {
      await registry.remove(twin.memberId);
    }
  });

  it('regression: a refusal of an event that names its portal by domain only does not name the portal by its member_id', async () => {
    const [, w2] = workers as [Worker, Worker];
    const p = fleet.portals[0] as FleetPortal;
    const forged = await post(w2, '/b24/events', eventBody(p, 1, { member_id: '', application_token: 'forged-app-token-0002' }));
    expect(forged.status).toBe(403);
    expect(forged.body).toContain("application_token does not match the event's domain's portal");
    expect(forged.body).not.toContain(p.memberId);
    const nowhere = await post(w2, '/b24/events', eventBody(p, 1, { member_id: '', domain: 'nowhere.bitrix24.com' }));
    expect(nowhere.status).toBe(404);
    expect(nowhere.body).toContain("no portal of this deployment has the event's domain");
  });

  it('a form hook posted to /hooks/<member_id>/<rule path> with the rule\'s secret is done once by the holder; a wrong secret is refused', async () => {
    const [w1, w2] = workers as [Worker, Worker];
    const p = fleet.find(w1.held()[0] as string) as FleetPortal;
    const path = `/hooks/${p.memberId}/forms/contact`;
    const json = (body: unknown) => JSON.stringify(body);
    const wrong = await post(w2, path, json({ name: 'Mallory' }), { 'content-type': 'application/json', 'x-rules-secret': 'not-the-secret' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).not.toContain(FORM_SECRET);
    expect((await post(w2, `/hooks/${p.memberId}/forms/nothing`, json({}), { 'content-type': 'application/json', 'x-rules-secret': FORM_SECRET })).status).toBe(404);
    expect((await post(w2, '/hooks/nobody/forms/contact', json({}), { 'content-type': 'application/json', 'x-rules-secret': FORM_SECRET })).status).toBe(404);
    const headers = { 'content-type': 'application/json', 'x-rules-secret': FORM_SECRET, 'idempotency-key': 'submission-1' };
    const ok = await post(w2, path, json({ name: 'Alice' }), headers);
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ ok: true, duplicate: false });
    expect(JSON.parse((await post(w1, path, json({ name: 'Alice' }), headers)).body)).toEqual({ ok: true, duplicate: true });
    await until(() => p.emulator.store.all('lead').some((l) => l.TITLE === 'Form: Alice'), 'the lead from the form', 60_000);
    await until(() => inboxOf(p, 'form').every((i) => i.status === 'done') && unretired(p, 'form').length === 0, 'the submission done and retired');
    expect(p.emulator.store.all('lead').filter((l) => l.TITLE === 'Form: Alice')).toHaveLength(1);
    expect(p.emulator.store.all('lead').filter((l) => l.TITLE === 'Form: Mallory')).toHaveLength(0);
    expect(fleet.requests(p.index).filter((q) => q.worker === 'r2')).toEqual([]);
  });

  it('a typo in another rule file reloaded: the good form hook keeps answering 200 from the last good routes, and its submission is stored', async () => {
    const [w1, w2] = workers as [Worker, Worker];
    const p = fleet.find(w1.held()[0] as string) as FleetPortal;
    const path = `/hooks/${p.memberId}/forms/contact`;
    const headers = { 'content-type': 'application/json', 'x-rules-secret': FORM_SECRET, 'idempotency-key': 'submission-typo' };
    const broken = join(folders.get('r2') as string, 'broken.yaml');
    const stored = inboxOf(p, 'form').length;
    writeFileSync(broken, 'id: broken-rule\ntrigger: { evnt: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "1", text: x }\n');
    try {
      await w2.reload();
      const ok = await post(w2, path, JSON.stringify({ name: 'Bob' }), headers);
      expect(ok.status, ok.body).toBe(200);
      expect(JSON.parse(ok.body)).toEqual({ ok: true, duplicate: false });
      // Stored before the 200, in the portal's inbox in PostgreSQL.
      expect(inboxOf(p, 'form')).toHaveLength(stored + 1);
      await until(() => p.emulator.store.all('lead').some((l) => l.TITLE === 'Form: Bob'), 'the lead from the form', 60_000);
    } finally {
      rmSync(broken);
      await w2.reload();
    }
  });
});
