/**
 * Issue 15, done when: a smart-process scenario runs end to end on the
 * emulator, `changed:` included. The daemon (in-process, manual clock and
 * timers) runs rules/17-purchase-requests.yaml against the emulator's demo
 * portal over HTTP with its OAuth app; a person moves purchase requests (the
 * smart process 1032) through the portal's REST API; the portal queues the
 * type's own ONCRMDYNAMICITEMUPDATE_1032 offline; the daemon reads the queue,
 * loads each request, compares it with its snapshot and acts, and each effect
 * lands once: one approval workflow, one comment, one notification, one
 * invoice (entityTypeId 31), nothing again for a change that is not a stage
 * move nor after a restart.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { RULES_DIR } from '../../engine/paths.js';
import { tempDir } from '../daemon/harness.js';
import { oauthConfig, userClient } from '../sources/emulator-helpers.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await emu?.close();
  emu = undefined;
});

const RULE_FILE = join(RULES_DIR, '17-purchase-requests.yaml');

function startDaemon(e: Emulator, dir: string, clock: ManualClock, timers: ManualTimers): Daemon {
  daemon = createDaemon({
    rulesPaths: [RULE_FILE],
    statePath: join(dir, 'state.db'),
    config: oauthConfig(e, dir),
    logger: memoryLogger().logger,
    listen: null,
    watch: false,
    clock,
    timers,
    offline: { pollIntervalMs: 100 },
    clientOptions: { rateLimit: false },
  });
  return daemon;
}

/** Run the manual timers until `cond` holds (each round: every armed timer once, then let the I/O they start finish). */
async function drive(timers: ManualTimers, cond: () => boolean, what: string): Promise<void> {
  for (let round = 0; round < 300; round++) {
    if (cond()) return;
    timers.runAll();
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out driving the daemon until ${what}`);
}

describe('scenario 17 on the emulator: purchase requests, a smart process', () => {
  it('a request moved to a stage triggers its rule through the offline event, once; changed: leaves other changes alone', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-smart-process-');
    const clock = new ManualClock(Date.now());
    const timers = new ManualTimers();
    const d = startDaemon(emu, dir, clock, timers);
    await d.start();
    // The daemon binds the type's own event, offline; not the common one.
    expect(emu.events.hub.bindings.forEvent('ONCRMDYNAMICITEMUPDATE_1032')).toHaveLength(1);
    expect(emu.events.hub.bindings.forEvent('ONCRMDYNAMICITEMUPDATE')).toHaveLength(0);

    const person = userClient(emu);
    const finished = () => daemon!.store.inbox.countByStatus();
    const idle = () => finished().pending === 0 && finished().running === 0;
    const runs = (rule: string) => daemon!.store.runs.list({ ruleId: rule });
    const wf = () => emu!.store.all('workflow').filter((w) => w.DOCUMENT_ID === 'DYNAMIC_1032_1');
    const commentsOn = (id: string) => emu!.store.all('timeline_comment').filter((c) => c.ENTITY_TYPE === 'dynamic_1032' && String(c.ENTITY_ID) === id);

    // A change that is no stage move: the engine sees request 1 for the first time and keeps it.
    await person.call('crm.item.update', { entityTypeId: 1032, id: 1, fields: { title: 'Laptops for three new sales hires' } });
    await drive(timers, () => runs('purchase-request-approval').length === 1 && idle(), 'the first event was handled');
    expect(runs('purchase-request-approval')[0]).toMatchObject({ status: 'skipped', recordKey: 'item:1' });
    expect(d.store.snapshots.get('item:1032', '1')?.fields).toMatchObject({ title: 'Laptops for three new sales hires', stageId: 'DT1032_7:NEW' });

    // Request 1 goes to Manager approval: the workflow starts, the comment and the notification land.
    await person.call('crm.item.update', { entityTypeId: 1032, id: 1, fields: { stageId: 'DT1032_7:APPROVAL' } });
    await drive(timers, () => runs('purchase-request-approval').some((r) => r.status === 'done'), 'the approval rule acted');
    expect(wf().map((w) => [w.TEMPLATE_ID, w.ENTITY])).toEqual([['21', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic']]);
    expect(commentsOn('1').map((c) => c.COMMENT)).toEqual(['Sent for approval: 3200 USD.']);
    expect(emu.store.all('notification').filter((n) => String(n.USER_ID) === '3').map((n) => n.MESSAGE)).toEqual([
      "Your purchase request [URL=/crm/type/1032/details/1/]Laptops for three new sales hires[/URL] is waiting for your manager's approval.",
    ]);

    // Another change of request 1 that is no stage move: changed: does not hold, nothing is done again.
    await person.call('crm.item.update', { entityTypeId: 1032, id: 1, fields: { opportunity: 3300 } });
    await drive(timers, () => runs('purchase-request-approval').length === 3 && idle(), 'the third event was handled');
    expect(runs('purchase-request-approval').map((r) => r.status).sort()).toEqual(['done', 'skipped', 'skipped']);
    expect(wf()).toHaveLength(1);
    expect(commentsOn('1')).toHaveLength(1);

    // Request 2 is ordered: its supplier invoice is registered in the new invoices (entityTypeId 31), noted in its timeline.
    await person.call('crm.item.update', { entityTypeId: 1032, id: 2, fields: { stageId: 'DT1032_7:ORDERED' } });
    await drive(timers, () => runs('purchase-request-invoice').some((r) => r.status === 'done'), 'the invoice rule acted');
    const invoices = emu.store.all('dynamic_31');
    expect(invoices.map((i) => [i.TITLE, i.OPPORTUNITY, i.ASSIGNED_BY_ID])).toEqual([['Supplier invoice: Trade show booth, Hannover', '12000', '9']]);
    expect(String(invoices[0]!.XML_ID)).toMatch(/^b24rules:purchase-request-invoice:/);
    expect(commentsOn('2').map((c) => c.COMMENT)).toEqual([`Ordered. Supplier invoice #${String(invoices[0]!.ID)} is registered for 12000 USD.`]);
    expect(d.store.inbox.countByStatus()).toMatchObject({ dead: 0 });

    // A restart on the same state file finds nothing to do again.
    await d.stop();
    const again = startDaemon(emu, dir, clock, timers);
    await again.start();
    const polls = () => emu!.calls.records.filter((r) => !r.batch && r.method === 'event.offline.get').length;
    const before = polls();
    await drive(timers, () => polls() >= before + 2 && idle(), 'the restarted daemon polled the queue twice');
    expect(wf()).toHaveLength(1);
    expect(emu.store.all('dynamic_31')).toHaveLength(1);
    expect(commentsOn('1')).toHaveLength(1);
    expect(commentsOn('2')).toHaveLength(1);
    expect(emu.calls.of('bizproc.workflow.start')).toHaveLength(1);
    expect(emu.calls.of('crm.item.add')).toHaveLength(1);
  });
});
