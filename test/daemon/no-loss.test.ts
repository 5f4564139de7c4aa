/**
 * THE no-loss test: a daemon killed with kill -9 in the middle of its work
 * (the portal has executed a batch and not yet answered) and restarted on the
 * same state file processes every event, and creates no task, comment or lead
 * twice. Asserted on what the emulator's portal holds.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { userClient } from '../sources/emulator-helpers.js';
import { emulatorEnv, startDaemonProcess, tempDir, until, writeRule, type DaemonProcess } from './harness.js';

const RULES = `id: lead-followup
trigger: { event: ONCRMLEADADD }
actions:
  - task: { title: "Call {{ lead.TITLE }}", responsible: 1, bind: { entity: lead, id: "{{ lead.ID }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Follow-up task created for {{ lead.TITLE }}" }
---
id: form-lead
env: [FORM_SECRET]
trigger: { webhook: { path: /forms/lead, secret: "{{ env.FORM_SECRET }}" } }
actions:
  - create: { entity: lead, fields: { TITLE: "Form lead {{ request.body.n }}", SOURCE_ID: WEB } }
`;

const LEADS = 30;
const FORMS = 10;
let emu: Emulator;
let dir: string;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  emu = await startEmulator({ port: 0 });
  dir = tempDir('b24-noloss-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'rules.yaml', RULES);
});
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      d.kill('SIGKILL');
      await d.exited;
    }
  }
  await emu.close();
});

/**
 * A create the restarted daemon does not find is sent again only after --in-doubt-settle-ms: longer than the
 * 1.5 s a killed daemon's request may still take at the portal (the latency below), short for a test.
 */
const SETTLE_MS = '5000';

function start(): DaemonProcess {
  const d = startDaemonProcess(
    [join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '400', '--no-watch', '--in-doubt-settle-ms', SETTLE_MS],
    { ...emulatorEnv(emu, dir), FORM_SECRET: 'form-secret-123456' },
    dir,
  );
  daemons.push(d);
  return d;
}

const tasksFor = (lead: string) => emu.store.all('task').filter((t) => ((t.ufCrmTask ?? t.UF_CRM_TASK ?? []) as string[]).includes(`L_${lead}`)).length;
const commentsFor = (lead: string) => emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === lead && String(c.ENTITY_TYPE).toLowerCase() === 'lead').length;
const formLeads = () => emu.store.all('lead').filter((l) => String(l.TITLE).startsWith('Form lead '));

describe('no loss, no duplicates across kill -9', () => {
  it('a daemon killed mid-batch and restarted processes every event exactly once', { timeout: 120_000 }, async () => {
    const user = userClient(emu, { retries: 30, backoffBaseMs: 50 });
    const tasksBefore = emu.store.all('task').length;
    // The queue fills before the daemon exists; bind first so the portal queues for it.
    const first = start();
    const url1 = await first.url;
    // Every request waits 1.5 s at the portal after it was read, before its work and answer (the emulator's
    // latency), from before the first lead exists: each write batch is in flight for 1.5 s. A batch sent
    // before the kill still runs after it, as a real portal finishes a request whose sender died; the
    // restarted daemon must not send again what that batch creates (the settle above).
    emu.setFaults({ latencyMs: 1500 });
    const added = await user.batch(Array.from({ length: LEADS }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `Kill test ${i}` } } })));
    const leads = Object.values(added).map((r) => String(r.result));
    expect(leads).toHaveLength(LEADS);
    for (let n = 0; n < FORMS; n++) {
      const res = await fetch(`${url1}/hooks/forms/lead`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rules-secret': 'form-secret-123456' }, body: JSON.stringify({ n }) });
      expect(res.status).toBe(200);
    }
    // The portal has just done a write batch's work: kill now, before the daemon records the answer
    // (a later batch may be waiting at the portal; it runs after the kill).
    await until(() => emu.store.all('task').length > tasksBefore, 'the first tasks to be created', 20_000, 5);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    // Killed mid-work: the portal made tasks the first daemon never saw answered.
    expect(emu.store.all('task').length - tasksBefore).toBeGreaterThan(first.logs.filter((r) => r.rule === 'lead-followup' && r.outcome === 'done').length);

    emu.setFaults({ latencyMs: 0 });
    const second = start();
    await second.url;
    await until(() => leads.every((l) => tasksFor(l) >= 1 && commentsFor(l) >= 1) && formLeads().length >= FORMS, 'every lead followed up and every form turned into a lead', 30_000);
    // Settled for certain before counting: the portal's queue for the daemon is empty and the daemon has finished every item
    // (no run left to send anything), both seen at once.
    const url2 = await second.url;
    const settled = async () =>
      emu.events.hub.queue.snapshot().filter((r) => r.connector === 'b24rules').length === 0 && ((await (await fetch(`${url2}/healthz`)).json()) as { depth: number }).depth === 0;
    await until(settled, 'the offline queue cleared and every inbox item finished', 30_000);
    for (const l of leads) {
      expect(tasksFor(l), `tasks for lead ${l}`).toBe(1);
      expect(commentsFor(l), `comments for lead ${l}`).toBe(1);
    }
    expect(formLeads().map((l) => l.TITLE).sort()).toEqual(Array.from({ length: FORMS }, (_, n) => `Form lead ${n}`).sort());
    // Form leads the daemon created come back as ONCRMLEADADD (creations carry no auth_connector): one task each too.
    for (const l of formLeads()) expect(tasksFor(String(l.ID)), `tasks for form lead ${String(l.ID)}`).toBe(1);
    expect(emu.store.all('task')).toHaveLength(tasksBefore + LEADS + FORMS);

    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
