/**
 * 10,000 pending timers and kill -9 (issue 18): engines in child processes on
 * one state file, against the emulator over HTTP. The first creates 10,000
 * delayed runs (one timer each) and is killed with SIGKILL once they are all
 * pending; a tick a millisecond before they are due fires none; the next
 * engine, at the due time, is killed right after the portal carried out its
 * first batch of the comments the timers lead to; the last one finishes. Each
 * timer fired exactly once, none early, none lost: one comment per deal.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { openStateStore } from '../../engine/store/index.js';
import { dealEvent, harness, type Harness } from './harness.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'engine');
const N = 10_000;
const FIRST = 100_001;
const HOUR = 3_600_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: an-hour-later
trigger: { event: ONCRMDEALUPDATE }
actions:
  - delay: 1h
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "an hour later: {{ deal.ID }}" }
`;

/** An engine on the state file at a fixed clock (NOW). KILL=created: SIGKILL once no tick has work left; KILL=write: SIGKILL right after the first write batch came back. */
const CHILD = `
import { openStateStore, createEngine } from ${JSON.stringify(pathToFileURL(join(DIST, 'index.js')).href)};
import { createClient } from ${JSON.stringify(pathToFileURL(join(DIST, 'client', 'index.js')).href)};
import { loadRuleSource } from ${JSON.stringify(pathToFileURL(join(DIST, 'rules', 'index.js')).href)};
const [base, user, code] = /^(https?:\\/\\/[^/]+)\\/rest\\/(\\d+)\\/([^/]+)\\/$/.exec(process.env.WEBHOOK).slice(1);
const client = createClient({ baseUrl: base, plan: 'enterprise', auth: { mode: 'webhook', userId: user, code } }, { rateLimit: false, retries: 0 });
const kill = process.env.KILL;
const dying = {
  call: client.call.bind(client),
  listAll: client.listAll.bind(client),
  async batch(cmds, options) {
    const res = await client.batch(cmds, options);
    if (kill === 'write' && Object.values(cmds).some((c) => !/\\.(get|list)$/.test(c.method))) process.kill(process.pid, 'SIGKILL');
    return res;
  },
};
const now = () => Number(process.env.NOW);
const rules = loadRuleSource(process.env.RULE, 'kill9.yaml').rules;
const store = openStateStore(process.env.STATE, { now });
const engine = createEngine({ store, client: dying, rules, clock: now });
for (let i = 0; i < 500; i++) {
  const r = await engine.tick();
  const f = r.finished;
  if (r.items + r.runsCreated + r.calls + (r.timersFired ?? 0) + f.done + f.skipped + f.failed + f.dead === 0) break;
}
if (kill === 'created') process.kill(process.pid, 'SIGKILL');
console.log('survived');
`;

async function child(h: Harness, now: number, kill: 'created' | 'write' | 'none'): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  // The portal's clock shows the same time (comments it creates are dated by it; in-doubt lookups compare).
  h.clock.t = now;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, WEBHOOK: h.emu.webhookUrl, RULE, STATE: h.path, NOW: String(now), KILL: kill },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, sig) => resolve(sig)));
  return { signal, out };
}

describe('10,000 pending timers and kill -9', () => {
  it('each timer fires exactly once, none early, none lost', { timeout: 300_000 }, async () => {
    if (!existsSync(join(DIST, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
    h = await harness(RULE);
    const t0 = h.clock.now();
    const template = h.emu.store.get('deal', 1)!;
    for (let i = 0; i < N; i++) h.emu.store.put('deal', FIRST + i, { ...template, ID: String(FIRST + i), TITLE: `Deal ${FIRST + i}` });
    h.store.inbox.add(Array.from({ length: N }, (_, i) => dealEvent(FIRST + i)));
    h.store.close();

    // 1. Every event becomes a delayed run with its timer; then the process dies.
    const created = await child(h, t0, 'created');
    expect(created.signal, created.out).toBe('SIGKILL');
    let peek = openStateStore(h.path, { now: () => t0 });
    expect(peek.timers.countByState()).toEqual({ pending: N, fired: 0, cancelled: 0 });
    expect(peek.runs.countByStatus()).toMatchObject({ delayed: N, new: 0, active: 0 });
    expect(peek.inbox.countByStatus()).toMatchObject({ done: N, pending: 0, running: 0 });
    expect(peek.timers.nextDue()).toBe(t0 + HOUR);
    peek.close();

    // 2. A millisecond before they are due: nothing fires.
    const early = await child(h, t0 + HOUR - 1, 'none');
    expect(early.out).toContain('survived');
    peek = openStateStore(h.path);
    expect(peek.timers.countByState().pending).toBe(N);
    peek.close();
    expect(h.emu.store.all('timeline_comment')).toHaveLength(0);

    // 3. At the due time: killed right after the portal carried out the first batch of comments.
    const firing = await child(h, t0 + HOUR, 'write');
    expect(firing.signal, firing.out).toBe('SIGKILL');
    const partial = h.emu.store.all('timeline_comment').length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(N);
    peek = openStateStore(h.path);
    const midway = peek.timers.countByState();
    expect(midway.fired).toBeGreaterThan(0);
    expect(midway.pending + midway.fired).toBe(N);
    peek.close();

    // 4. The next process finishes the work.
    const last = await child(h, t0 + HOUR + 60_000, 'none');
    expect(last.out).toContain('survived');

    const perDeal = new Map<string, number>();
    for (const c of h.emu.store.all('timeline_comment')) perDeal.set(String(c.ENTITY_ID), (perDeal.get(String(c.ENTITY_ID)) ?? 0) + 1);
    expect(perDeal.size).toBe(N);
    expect([...perDeal.values()].every((n) => n === 1)).toBe(true);
    const store = openStateStore(h.path);
    try {
      expect(store.timers.countByState()).toEqual({ pending: 0, fired: N, cancelled: 0 });
      expect(store.runs.countByStatus()).toMatchObject({ done: N, delayed: 0, new: 0, active: 0, waiting: 0, dead: 0 });
      const fired = store.timers.list({ state: 'fired', limit: N });
      expect(fired).toHaveLength(N);
      expect(fired.filter((t) => t.firedAt! < t.dueAt)).toEqual([]);
      expect(new Set(fired.map((t) => t.runId)).size).toBe(N);
    } finally {
      store.close();
    }
    // The harness closes its own store handle: give it one to close.
    h.store = openStateStore(h.path);
  });
});
