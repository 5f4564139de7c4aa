/**
 * Shadow runs and rollout skips on the command line (issue 16), the built CLI as
 * a subprocess: `rules runs` marks a shadow run beside the live ones and
 * `--mode` picks either; `rules trace` says the run's calls were journaled,
 * never sent; a run outside a rollout shows its reason; `rules dry-run` marks a
 * shadow rule's firing, keeps its calls out of the batches and counts them apart.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, harness, leadEvent, type Harness } from '../e2e-engine/harness.js';
import { runCli } from '../helpers/cli.js';

const RULES = `
id: greet-live
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello" }
---
id: greet-shadow
mode: shadow
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello" }
---
id: greet-nobody
rollout: { percent: 0 }
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Hello again" }
`;

let h: Harness;
let lead: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  h = await harness(RULES);
  lead = String(h.emu.store.all('lead')[0]!.ID);
  h.store.inbox.add([leadEvent(lead)]);
  await drain(h.engine, h.clock);
  for (const r of h.store.runs.summaries()) ids[r.ruleId] = r.id;
});
afterAll(async () => {
  await h.close();
});

const cli = (...args: string[]) => runCli([...args, '--state', h.path], { cwd: h.dir });

describe('rules runs and rules trace', () => {
  it('runs marks the shadow run beside the live one, and shows why a run outside its rollout did not act', async () => {
    const r = await cli('runs');
    expect(r.stderr).toBe('');
    const line = (rule: string) => r.stdout.split('\n').find((l) => l.includes(` ${rule} `)) ?? '';
    expect(line('greet-shadow')).toMatch(/ done \(shadow\) /);
    expect(line('greet-live')).toMatch(/ done /);
    expect(line('greet-live')).not.toContain('shadow');
    expect(line('greet-nobody')).toContain(`skipped`);
    expect(line('greet-nobody')).toContain(`rollout: lead ${lead} is outside the 0 % share`);
  });

  it('--mode shadow lists only shadow runs (json: mode), --mode live the others; another value is a usage error', async () => {
    const shadow = JSON.parse((await cli('runs', '--mode', 'shadow', '--json')).stdout) as Array<{ ruleId: string; mode: string }>;
    expect(shadow.map((r) => [r.ruleId, r.mode])).toEqual([['greet-shadow', 'shadow']]);
    const live = JSON.parse((await cli('runs', '--mode', 'live', '--json')).stdout) as Array<{ ruleId: string; mode: string }>;
    expect(live.map((r) => r.ruleId).sort()).toEqual(['greet-live', 'greet-nobody']);
    const bad = await cli('runs', '--mode', 'dark');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("rules: --mode must be live or shadow; got 'dark'\n");
  });

  it('trace of a shadow run says so, and lists its call as journaled, not sent', async () => {
    const r = await cli('trace', String(ids['greet-shadow']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  mode:     shadow (its calls were journaled, never sent)');
    expect(r.stdout).toMatch(/^ {2}sh {2}#0 action 0 comment: crm\.timeline\.comment\.add {2}\[shadow\]$/m);
    expect(r.stdout).toContain('not sent (shadow)');
    const json = JSON.parse((await cli('trace', String(ids['greet-shadow']), '--json')).stdout) as { run: { mode: string }; calls: Array<{ state: string; sentAt: null }> };
    expect(json.run.mode).toBe('shadow');
    expect(json.calls.map((c) => [c.state, c.sentAt])).toEqual([['shadow', null]]);
    const live = await cli('trace', String(ids['greet-live']));
    expect(live.stdout).not.toContain('mode:');
  });
});

describe('rules validate', () => {
  it('a shadow twin does not conflict with the live rule it copies: it writes nothing (no WRITE_CONFLICT)', async () => {
    const r = await runCli(['validate', 'rules', 'rules/demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('WRITE_CONFLICT');
    expect(r.stdout).toMatch(/0 errors, 0 warnings/);
  });
});

describe('rules dry-run', () => {
  it('marks the shadow rule’s firing, packs only the live calls into batches and counts the shadow ones apart', async () => {
    const events = join(h.dir, 'events.jsonl');
    writeFileSync(events, `${JSON.stringify({ event: 'ONCRMLEADADD', data: { FIELDS: { ID: '901' } }, ts: '2026-11-24T09:00:00+03:00' })}\n`);
    const args = ['dry-run', 'rules/demo/09-lead-score-shadow.yaml', 'rules/09-lead-scoring.yaml', '--fixtures', 'rules/fixtures/09-lead-scoring.fixtures.yaml', '--events', events, '--at', '2026-11-24T09:00:00+03:00'];
    const text = await runCli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^◌ \[2\] rule lead-score-new-shadow {2}\(rules\/demo\/09-lead-score-shadow\.yaml:\d+\) {2}shadow: its calls are journaled, never sent$/m);
    expect(text.stdout).toContain('batch 1: 3 commands (crm.lead.update ×1, im.notify.system.add ×1, tasks.task.add ×1)');
    expect(text.stdout).toMatch(/^Plan: 3 writes from 1 of 2 rule runs, .* 3 shadow calls journaled, never sent\.$/m);
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout) as { summary: { writes: number; shadow_calls: number }; firings: Array<{ rule: string; mode?: string; calls: Array<{ method: string; params: unknown }> }>; batches: Array<{ calls: Array<[number, number]> }> };
    expect(json.summary).toMatchObject({ writes: 3, shadow_calls: 3 });
    const [live, shadow] = json.firings;
    expect([live!.rule, live!.mode, shadow!.rule, shadow!.mode]).toEqual(['lead-score-new', undefined, 'lead-score-new-shadow', 'shadow']);
    expect(shadow!.calls.map((c) => [c.method, c.params])).toEqual(live!.calls.map((c) => [c.method, c.params]));
    expect(json.batches.flatMap((b) => b.calls.map(([f]) => f))).toEqual([0, 0, 0]);
  });
});
