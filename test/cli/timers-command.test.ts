/**
 * Timers on the command line (issue 18), as subprocesses: `rules runs --waiting`
 * and `rules timers list|cancel` on a state file where an engine left delayed
 * runs and a for: timer; `rules test` with steps: a failing step says which
 * step, when, and what fired; a bad `advance:` is refused with its line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../engine/store/index.js';
import { dealEvent, harness, type Harness } from '../e2e-engine/harness.js';
import { runCli } from '../helpers/cli.js';

let h: Harness;
let state: string;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'b24-timers-cli-'));
  h = await harness(`
id: later
trigger: { event: ONCRMDEALUPDATE }
actions:
  - delay: { for: 2h, recheck: true }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "later" }
---
id: stale-executing
trigger: { event: ONCRMDEALUPDATE, changed: { STAGE_ID: { to: EXECUTING } }, for: 14d }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "stale" }
`);
  h.store.inbox.add([dealEvent(1), dealEvent(2), dealEvent(3)]);
  await h.engine.tick();
  state = h.path;
  h.store.close();
});
afterAll(async () => {
  h.store = openStateStore(state);
  await h.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('rules runs --waiting and rules timers', () => {
  it('list the delayed runs and the pending timers, with what they wait for and until when', async () => {
    const runs = await runCli(['runs', '--waiting', '--state', state]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout.split('\n')[0]).toMatch(/^RUN\s+RULE\s+STATUS\s+RECORD\s+UNTIL\s+WAITS FOR$/);
    expect(runs.stdout).toMatch(/later\s+delayed\s+deal:1\s+2026-03-02T12:00:00Z\s+timer \d+: delay 2h, then recheck/);
    expect(runs.stdout.match(/later\s+delayed/g)).toHaveLength(3);
    const json = JSON.parse((await runCli(['runs', '--waiting', '--state', state, '--json'])).stdout) as Array<{ status: string; timer: { kind: string } | null }>;
    expect(json.map((r) => [r.status, r.timer?.kind])).toEqual([['delayed', 'delay'], ['delayed', 'delay'], ['delayed', 'delay']]);

    const list = await runCli(['timers', 'list', '--state', state]);
    expect(list.code, list.stderr).toBe(0);
    // Deal 3 is in EXECUTING when the engine first sees it: its for: timer runs 14 days.
    expect(list.stdout).toMatch(/for\s+stale-executing\s+deal:3\s+-\s+2026-03-16T10:00:00Z\s+pending\s+for: STAGE_ID="EXECUTING" held/);
    expect(list.stdout.match(/delay\s+later/g)).toHaveLength(3);
  });

  it('cancel a delayed run\'s timer: the run ends skipped with its journal; a second cancel and an unknown id are refused', async () => {
    const pending = JSON.parse((await runCli(['timers', 'list', '--state', state, '--rule', 'later', '--format', 'json'])).stdout) as Array<{ id: number; runId: number; recordKey: string }>;
    const one = pending.find((t) => t.recordKey === 'deal:2')!;
    const cancel = await runCli(['timers', 'cancel', String(one.id), '--state', state]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`Cancelled timer ${one.id} (delay 2h, then recheck, rule later, deal:2); run ${one.runId} ends skipped (rules trace ${one.runId}).\n`);
    const s = openStateStore(state);
    try {
      expect(s.timers.get(one.id)).toMatchObject({ state: 'cancelled', note: 'cancelled by an operator (rules timers cancel)' });
      const run = s.runs.get(one.runId)!;
      expect(run.status).toBe('skipped');
      expect(run.reason).toBe(`timer ${one.id} cancelled: cancelled by an operator (rules timers cancel)`);
      expect(run.trace.waitingFor).toBeDefined();
    } finally {
      s.close();
    }
    const again = await runCli(['timers', 'cancel', String(one.id), '--state', state]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('TIMER_NOT_PENDING');
    const unknown = await runCli(['timers', 'cancel', '99999', '--state', state]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('TIMER_NOT_FOUND');
    const all = await runCli(['timers', 'list', '--all', '--state', state]);
    expect(all.stdout).toMatch(/delay\s+later\s+deal:2\s+\d+\s+\S+\s+cancelled\s+cancelled by an operator/);
    const usage = await runCli(['timers', 'cancl', '1', '--state', state]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("did you mean 'cancel'?");
  });
});

describe('rules test with steps', () => {
  it('says which step failed, at what time, and what fired; a bad advance: is refused at its line', async () => {
    const rule = join(tmp, 'wait.yaml');
    writeFileSync(rule, 'id: wait\ntrigger: { event: ONCRMDEALUPDATE }\nactions:\n  - delay: 1h\n  - comment: { entity: deal, id: "{{ deal.ID }}", text: waited }\n');
    writeFileSync(
      join(tmp, 'wait.test.yaml'),
      `fixtures:
  deals: [{ ID: "5", TITLE: Five, STAGE_ID: NEW }]
at: "2026-11-24T10:00:00+03:00"
tests:
  - name: fires after the hour
    steps:
      - event: { name: ONCRMDEALUPDATE, id: 5 }
        expect: { no_calls: true, timers: [{ rule: wait, kind: delay, fires_at: "2026-11-24T11:00:00+03:00" }] }
      - advance: 59m
        expect:
          calls: [{ method: crm.timeline.comment.add, params: { fields: { ENTITY_ID: 5 } } }]
`,
    );
    const r = await runCli(['test', join(tmp, 'wait.test.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('step 2 (line 9, at 2026-11-24T07:59:00.000Z):');
    expect(r.stdout).toMatch(/- 1\. crm\.timeline\.comment\.add .*\(expected, not fired\)/);
    writeFileSync(join(tmp, 'wait.test.yaml'), `at: "2026-11-24T10:00:00+03:00"\ntests:\n  - name: bad\n    steps:\n      - advance: 1month\n        expect: { no_calls: true }\n`);
    const bad = await runCli(['test', join(tmp, 'wait.test.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/wait\.test\.yaml:5: advance: duration "1month"/);
  });
});
