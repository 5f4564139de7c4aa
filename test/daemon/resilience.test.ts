/**
 * The daemon in-process against the emulator under stress: a rate-limit storm
 * (the portal's burst set very low), an access token that expires during the
 * run, and a poison event that ends in the dead-letter queue. Assertions are
 * on what the portal holds and on the state file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { memoryLogger } from '../sources/helpers.js';
import { oauthConfig, userClient } from '../sources/emulator-helpers.js';
import { tempDir, until, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await emu?.close();
  emu = undefined;
});

async function setup(rules: string, emuOptions: EmulatorOptions = {}) {
  emu = await startEmulator({ port: 0, ...emuOptions });
  const dir = tempDir('b24-resilience-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'rules.yaml', rules);
  const { logger, records } = memoryLogger();
  daemon = createDaemon({
    rulesPaths: [join(dir, 'rules')],
    statePath: join(dir, 'state.db'),
    config: oauthConfig(emu, dir),
    logger,
    listen: null,
    watch: false,
    offline: { pollIntervalMs: 50 },
    tickIntervalMs: 50,
    clientOptions: { backoffBaseMs: 20, backoffMaxMs: 300, retries: 8 },
    engineOptions: { backoffBaseMs: 20, backoffMaxMs: 200 },
  });
  await daemon.start();
  return { emu, daemon, records, dir, user: userClient(emu, { retries: 30, backoffBaseMs: 50 }) };
}

const COMMENT_RULE = `id: welcome
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome {{ lead.TITLE }}" }
`;

const commentsFor = (e: Emulator, lead: string) => e.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === lead).length;

describe('daemon resilience', { timeout: 120_000 }, () => {
  it('a rate-limit storm (portal burst of 3) finishes with no lost and no doubled events', async () => {
    // Burst 3, drained at 2 requests a second (a standard portal's rate): the daemon's own polling and
    // work overrun it, whatever the machine's speed.
    const { emu: e, records } = await setup(COMMENT_RULE, { limits: { burst: 3, drainPerSec: 2 } });
    // The portal user adds the 25 leads in one batch request (retried patiently: the daemon keeps the
    // bucket full), so the daemon has all of them to work through in the storm.
    const user = userClient(e, { retries: 200, backoffBaseMs: 500 });
    const added = await user.batch(Array.from({ length: 25 }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `Storm ${i}` } } })));
    const leads = Object.values(added).map((r) => String(r.result));
    expect(leads).toHaveLength(25);
    await until(() => leads.every((l) => commentsFor(e, l) >= 1), 'a comment on every lead', 60_000);
    await until(() => e.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules').length === 0, 'the queue cleared', 30_000);
    for (const l of leads) expect(commentsFor(e, l)).toBe(1);
    expect(e.calls.records.some((c) => c.error === 'QUERY_LIMIT_EXCEEDED')).toBe(true);
    // The daemon itself was refused (its client logged the retries) and its client then waited for the bucket.
    const refused = records.filter((r) => r.msg === 'REST call failed; retrying' && String(r.error).includes('QUERY_LIMIT_EXCEEDED'));
    expect(refused.length, "the daemon's refusals").toBeGreaterThan(0);
    expect(daemon!.metrics.rateLimitWaits.get({ kind: 'request_rate' }), "the daemon's rate-limit waits").toBeGreaterThan(0);
    expect(daemon?.store.dlq.count()).toBe(0);
  });

  it('an access token that expires during the run is refreshed and the work goes on', async () => {
    const { emu: e, user, records } = await setup(COMMENT_RULE, { tokenTtlSeconds: 1 });
    const a = String((await user.call<number>('crm.lead.add', { fields: { TITLE: 'Before expiry' } })).result);
    await until(() => commentsFor(e, a) === 1, 'the first comment');
    await new Promise((r) => setTimeout(r, 1300));
    const b = String((await user.call<number>('crm.lead.add', { fields: { TITLE: 'After expiry' } })).result);
    await until(() => commentsFor(e, b) === 1, 'the comment after the token expired');
    expect(e.calls.records.some((c) => c.error === 'expired_token')).toBe(true);
    expect(records.some((r) => Number(r.level) >= 50)).toBe(false);
    expect(daemon?.store.dlq.count()).toBe(0);
  });

  it('a poison event ends in the DLQ, is reported with event.offline.error, and does not hold up the others', async () => {
    const rule = `${COMMENT_RULE}---
id: poison-aware
trigger: { event: ONCRMLEADADD }
on_error: { retries: 1, then: dead_letter }
condition: { in: ["poison", { var: lead.TITLE }] }
actions:
  - comment: { entity: deal, id: 987654, text: "a deal that does not exist" }
`;
    const { emu: e, user } = await setup(rule);
    const good1 = String((await user.call<number>('crm.lead.add', { fields: { TITLE: 'good one' } })).result);
    const bad = String((await user.call<number>('crm.lead.add', { fields: { TITLE: 'a poison lead' } })).result);
    const good2 = String((await user.call<number>('crm.lead.add', { fields: { TITLE: 'good two' } })).result);
    await until(() => commentsFor(e, good1) === 1 && commentsFor(e, good2) === 1, 'the good leads processed');
    await until(() => (daemon?.store.dlq.count() ?? 0) === 1, 'the poison event in the DLQ', 15_000);
    const [entry] = daemon!.store.dlq.list();
    expect(entry?.ruleId).toBe('poison-aware');
    expect(JSON.stringify(entry?.payload)).toContain(bad);
    await until(() => e.calls.records.some((c) => c.method === 'event.offline.error'), 'event.offline.error');
    // The other rule acted on the same event once; only the poison run is dead.
    expect(commentsFor(e, bad)).toBe(1);
    // Kept out of the live queue, marked as an error on the portal.
    await until(() => e.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules' && r.error === 0).length === 0, 'the live queue to be empty');
    expect(e.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules' && r.error === 1)).toHaveLength(1);
  });
});
