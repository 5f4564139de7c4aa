import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { openStateStore } from '../../engine/store/index.js';
import { dealEvent, drain, harness, type Harness } from './harness.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'engine');
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const RULE = `
id: kill9
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "once for {{ deal.ID }}" }
  - task: { title: "Task for {{ deal.ID }}", responsible: 2, bind: { entity: deal, id: "{{ deal.ID }}" } }
  - create: { entity: lead, fields: { TITLE: "Lead for {{ deal.ID }}" } }
`;

/** The engine in a child process that SIGKILLs itself right after the portal answered the first write batch, before recording the answer. */
const CHILD = `
import { openStateStore, createEngine } from ${JSON.stringify(pathToFileURL(join(DIST, 'index.js')).href)};
import { createClient } from ${JSON.stringify(pathToFileURL(join(DIST, 'client', 'index.js')).href)};
import { loadRuleSource } from ${JSON.stringify(pathToFileURL(join(DIST, 'rules', 'index.js')).href)};
const [base, user, code] = /^(https?:\\/\\/[^/]+)\\/rest\\/(\\d+)\\/([^/]+)\\/$/.exec(process.env.WEBHOOK).slice(1);
const client = createClient({ baseUrl: base, plan: 'enterprise', auth: { mode: 'webhook', userId: user, code } }, { rateLimit: false, retries: 0 });
const dying = {
  call: client.call.bind(client),
  listAll: client.listAll.bind(client),
  async batch(cmds, options) {
    const res = await client.batch(cmds, options);
    if (Object.values(cmds).some((c) => !/\\.(get|list)$/.test(c.method))) process.kill(process.pid, 'SIGKILL');
    return res;
  },
};
const rules = loadRuleSource(process.env.RULE, 'kill9.yaml').rules;
const store = openStateStore(process.env.STATE);
const engine = createEngine({ store, client: dying, rules });
await engine.tick();
console.log('survived');
`;

describe('kill -9 mid-batch', () => {
  it('a process killed after the portal carried out its batch loses nothing and repeats nothing when the next process opens the file', async () => {
    if (!existsSync(join(DIST, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
    // The child runs on the real clock; the portal's clock starts at the same time (as a real portal's would be).
    h = await harness(RULE, { startAt: Date.now() });
    const deals = [1, 2, 3, 4];
    h.store.inbox.add(deals.map((id) => dealEvent(id)));
    h.store.close();

    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, WEBHOOK: h.emu.webhookUrl, RULE, STATE: h.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    expect(signal, out).toBe('SIGKILL');
    // The portal did the work of the first write batch; the state file still says `sent`.
    expect(h.emu.store.all('timeline_comment')).toHaveLength(deals.length);
    const peek = openStateStore(h.path);
    expect(peek.effects.countByState().sent).toBeGreaterThan(0);
    peek.close();

    const engine = h.reopen();
    await drain(engine, h.clock);
    const comments = h.emu.store.all('timeline_comment');
    const tasks = h.emu.store.all('task').filter((t) => /^Task for /.test(String(t.TITLE ?? t.title)));
    const leads = h.emu.store.all('lead').filter((l) => /^Lead for /.test(String(l.TITLE)));
    expect(comments).toHaveLength(deals.length);
    expect(tasks).toHaveLength(deals.length);
    expect(leads).toHaveLength(deals.length);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: deals.length, dead: 0, pending: 0, running: 0 });
  });
});
