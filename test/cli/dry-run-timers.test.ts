/** rules dry-run shows the timers a change would start and when they would fire (issue 18), in text and in the JSON plan. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-dry-timers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('rules dry-run and timers', () => {
  it('shows the delay of scenario 16 from Friday evening to Monday 10:30 Moscow, and a for: timer 14 days out', async () => {
    const events = join(tmp, 'leads.jsonl');
    writeFileSync(events, '{"event":"ONCRMLEADADD","data":{"FIELDS":{"ID":"1601"}}}\n');
    const args = ['dry-run', 'rules/16-lead-not-contacted.yaml', '--fixtures', 'rules/fixtures/16-lead-not-contacted.fixtures.yaml', '--events', events, '--at', '2026-11-27T17:30:00+03:00'];
    const text = await runCli(args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('timer      delay 2h of office hours, once the calls before it are done (action 2): fires at 2026-11-30T07:30:00.000Z, then the condition is checked again');
    const plan = JSON.parse((await runCli([...args, '--format', 'json'])).stdout) as { firings: Array<{ rule: string; timers?: unknown[]; calls: Array<{ method: string }> }> };
    expect(plan.firings[0]!.calls.map((c) => c.method)).toEqual(['im.notify.system.add']);
    expect(plan.firings[0]!.timers).toEqual([{ kind: 'delay', action: 2, fires_at: '2026-11-30T07:30:00.000Z', wait: '2h of office hours, once the calls before it are done', recheck: true }]);

    const rule = join(tmp, 'stale.yaml');
    writeFileSync(rule, 'id: stale\ntrigger: { event: ONCRMLEADUPDATE, changed: { STATUS_ID: { to: IN_PROCESS } }, for: 14d }\nactions:\n  - notify: { user: 12, message: stale }\n');
    const upd = join(tmp, 'update.jsonl');
    writeFileSync(upd, '{"event":"ONCRMLEADUPDATE","data":{"FIELDS":{"ID":"1603"}}}\n');
    const stale = await runCli(['dry-run', rule, '--fixtures', 'rules/fixtures/16-lead-not-contacted.fixtures.yaml', '--events', upd, '--at', '2026-11-24T10:00:00+03:00']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toContain('for: STATUS_ID is "IN_PROCESS": a timer of 14d starts');
    expect(stale.stdout).toContain('timer      for: 14d while STATUS_ID is "IN_PROCESS": fires at 2026-12-08T07:00:00.000Z');
  });
});
