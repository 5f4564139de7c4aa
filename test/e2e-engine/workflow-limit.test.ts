/**
 * Bitrix24 runs at most two workflows on one CRM record at once; the emulator
 * refuses a third start as the portal does (400, no code, the bizproc
 * runtime's message). The engine names that refusal WORKFLOW_LIMIT with a
 * message saying what happened and what to do, and starts the workflow again
 * minutes later (not the seconds of other refusals); once a running workflow
 * ended, the start goes through, once. Given up, the dead letter says
 * WORKFLOW_LIMIT too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: approve
trigger: { event: ONCRMDEALUPDATE }
on_error: { retries: 2 }
actions:
  - workflow: { template_id: 7, entity: deal, id: "{{ deal.ID }}" }
`;

const DEAL_DOC = ['crm', 'CCrmDocumentDeal', 'DEAL_4'];

async function startOnPortal(template: number): Promise<string> {
  const r = await h!.client.call<string>('bizproc.workflow.start', { TEMPLATE_ID: template, DOCUMENT_ID: DEAL_DOC });
  return r.result;
}

const starts = () => h!.emu.calls.of('bizproc.workflow.start').filter((c) => String(c.params.TEMPLATE_ID) === '7');

describe('workflow: the portal runs at most two workflows on a record', () => {
  it('a refused start is WORKFLOW_LIMIT, retried minutes later, and goes through once a workflow ended', async () => {
    h = await harness(RULE);
    const running = [await startOnPortal(3), await startOnPortal(5)];
    h.store.inbox.add([dealEvent(4)]);
    await h.engine.tick();

    const [effect] = h.store.effects.forRun(h.store.runs.list({ ruleId: 'approve' })[0]!.id);
    expect(effect).toMatchObject({ method: 'bizproc.workflow.start', state: 'failed', errorCode: 'WORKFLOW_LIMIT' });
    expect(effect!.error).toBe(
      'the portal already runs 2 workflows on deal 4; Bitrix24 allows at most two at once per record; the engine starts this one again later, or stop one of them (the record\'s Workflows tab) and retry (the portal said: An element can be handled by 2 processes at most.)',
    );
    const run = h.store.runs.list({ ruleId: 'approve' })[0]!;
    expect(run).toMatchObject({ status: 'waiting', attempts: 1 });
    // A minute, not the 2 s of other refusals.
    expect(run.nextAttemptAt! - h.clock.now()).toBe(60_000);

    h.clock.advance(30_000);
    await h.engine.tick();
    expect(starts()).toHaveLength(1);

    await h.client.call('bizproc.workflow.terminate', { ID: running[0] });
    h.clock.advance(30_000);
    await h.engine.tick();
    expect(starts()).toHaveLength(2);
    expect(h.store.runs.list({ ruleId: 'approve' })[0]).toMatchObject({ status: 'done' });
    const ours = h.emu.store.all('workflow').filter((w) => String(w.TEMPLATE_ID) === '7');
    expect(ours.map((w) => w.DOCUMENT_ID)).toEqual(['DEAL_4']);
  });

  it('when the workflows keep running, the run dead-letters with WORKFLOW_LIMIT after its retries (1 then 4 minutes)', async () => {
    h = await harness(RULE);
    await startOnPortal(3);
    await startOnPortal(5);
    h.store.inbox.add([dealEvent(4)]);
    await h.engine.tick();
    const waits: number[] = [];
    for (let i = 0; i < 5 && h.store.dlq.count() === 0; i++) {
      const run = h.store.runs.list({ ruleId: 'approve' })[0]!;
      waits.push(run.nextAttemptAt! - h.clock.now());
      h.clock.advance(run.nextAttemptAt! - h.clock.now());
      await h.engine.tick();
    }
    expect(waits).toEqual([60_000, 240_000]);
    expect(starts()).toHaveLength(3);
    const [dead] = h.store.dlq.list();
    expect(dead!.error).toContain('bizproc.workflow.start: the portal already runs 2 workflows on deal 4');
    expect(h.store.effects.forRun(h.store.runs.list({ ruleId: 'approve' })[0]!.id)[0]).toMatchObject({ errorCode: 'WORKFLOW_LIMIT' });
  });
});
