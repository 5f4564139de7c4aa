/** `rules runs`, `rules trace`, `rules dlq` as subprocesses of the built CLI, on a state file written through the real store. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../engine/store/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';

const run = promisify(execFile);
const CLI = join(PACKAGE_ROOT, 'dist/cli/rules.js');
let dir: string;
let state: string;
const ids: { ok: number; dead: number; dlq: number; item: number } = { ok: 0, dead: 0, dlq: 0, item: 0 };

async function rules(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [CLI, ...args], { cwd: dir });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'b24-journal-'));
  state = join(dir, 'state.db');
  let t = Date.parse('2026-02-02T10:00:00Z');
  const store = openStateStore(state, { now: () => (t += 1000) });
  store.inbox.add([{ source: 'offline', key: 'p1:m1', event: 'ONCRMLEADADD', ruleId: null, payload: { data: { FIELDS: { ID: '5' } } }, processId: 'p1', messageId: 'm1', receivedAt: t }]);
  store.inbox.add([{ source: 'offline', key: 'p1:m2', event: 'ONCRMLEADADD', ruleId: null, payload: { data: { FIELDS: { ID: '6' } } }, processId: 'p1', messageId: 'm2', receivedAt: t }]);
  const [second, first] = store.inbox.list();
  ids.item = second!.id;
  ids.ok = store.runs.create({ itemId: first!.id, ruleId: 'lead-routing', ruleHash: 'abcdef0123456789', triggerKey: 'p1:m1', recordKey: 'lead:5', trace: { trigger: { event: 'ONCRMLEADADD', id: '5' }, condition: { value: true }, auth: { access_token: 'very-secret-token' } } });
  const eff = store.effects.record({ effectKey: 'k1', runId: ids.ok, seq: 0, actionIndex: 0, kind: 'update', method: 'crm.lead.update', params: { id: 5, fields: { ASSIGNED_BY_ID: 3 } }, recovery: 'resend' });
  store.effects.markSent([eff.effect.id]);
  store.effects.markDone(eff.effect.id, true);
  store.runs.update(ids.ok, { status: 'done' });
  ids.dead = store.runs.create({ itemId: second!.id, ruleId: 'lead-scoring', ruleHash: 'ffff', triggerKey: 'p1:m2', recordKey: 'lead:6' });
  store.runs.update(ids.dead, { status: 'dead', error: 'QUERY_LIMIT_EXCEEDED after 3 retries' });
  store.inbox.finish(second!.id, 'dead', 'dead-lettered');
  ids.dlq = store.dlq.add({ itemId: second!.id, runId: ids.dead, ruleId: 'lead-scoring', error: 'QUERY_LIMIT_EXCEEDED after 3 retries', payload: { data: { FIELDS: { ID: '6' } } } });
  store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rules runs / trace / dlq', () => {
  it('runs lists newest first, filters by rule and --failed, and --json is parseable', async () => {
    const all = await rules('runs', '--state', state);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+RULE\s+STATUS/);
    expect(lines[1]).toContain('lead-scoring');
    expect(lines[2]).toContain('lead-routing');
    const failed = await rules('runs', '--state', state, '--failed');
    expect(failed.stdout).toContain('lead-scoring');
    expect(failed.stdout).not.toContain('lead-routing');
    const json = JSON.parse((await rules('runs', '--state', state, '--rule', 'lead-routing', '--json')).stdout) as Array<{ id: number; status: string }>;
    expect(json).toEqual([expect.objectContaining({ id: ids.ok, status: 'done' })]);
  });

  it('trace prints the run, its trace (secrets masked) and its calls; --json too', async () => {
    const r = await rules('trace', String(ids.ok), '--state', state);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run ${ids.ok}: rule lead-routing`);
    expect(r.stdout).toContain('crm.lead.update');
    expect(r.stdout).toContain('ASSIGNED_BY_ID');
    expect(r.stdout).not.toContain('very-secret-token');
    const j = JSON.parse((await rules('trace', String(ids.ok), '--state', state, '--json')).stdout) as { run: { id: number }; calls: unknown[] };
    expect(j.run.id).toBe(ids.ok);
    expect(j.calls).toHaveLength(1);
    const missing = await rules('trace', '9999', '--state', state);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('RUN_NOT_FOUND');
  });

  it('dlq list/show/retry/drop', async () => {
    const list = await rules('dlq', 'list', '--state', state);
    expect(list.stdout).toContain('lead-scoring');
    expect(list.stdout).toContain('QUERY_LIMIT_EXCEEDED');
    const show = await rules('dlq', 'show', String(ids.dlq), '--state', state);
    expect(show.stdout).toContain(`rules trace ${ids.dead}`);
    expect((await rules('dlq', 'show', '77', '--state', state)).code).toBe(1);
    expect((await rules('dlq', 'frob', '--state', state)).code).toBe(2);
    const retry = await rules('dlq', 'retry', String(ids.dlq), '--state', state);
    expect(retry.code).toBe(0);
    const store = openStateStore(state);
    expect(store.dlq.count()).toBe(0);
    expect(store.inbox.get(ids.item)?.status).toBe('pending');
    const again = store.dlq.add({ itemId: ids.item, runId: null, ruleId: 'x', error: 'e', payload: {} });
    const again2 = store.dlq.add({ itemId: ids.item, runId: null, ruleId: 'x', error: 'e', payload: {} });
    store.close();
    expect((await rules('dlq', 'drop', String(again), '--state', state)).code).toBe(0);
    const all = JSON.parse((await rules('dlq', 'retry', 'all', '--state', state, '--json')).stdout) as { retried: number[] };
    expect(all.retried).toEqual([again2]);
  });

  it('refuses a missing state file with a hint, and bad usage with exit 2', async () => {
    const r = await rules('runs', '--state', join(dir, 'nope.db'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STATE_FILE_MISSING');
    expect(r.stderr).toContain('rules run');
    expect((await rules('trace', '--state', state)).code).toBe(2);
    expect((await rules('runs', '--limit', 'x', '--state', state)).code).toBe(2);
  });
});
