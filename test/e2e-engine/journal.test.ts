/**
 * The cheap journal (issue 12), end to end on the emulator over HTTP with a real
 * state file: a run that does not act is one compact row whose reason `rules runs`
 * and `rules trace` show; runs matched in a tick get their rows only in the start
 * commit, so a process that dies before it leaves the items pending and they are
 * matched again; a run cut off by a restart finishes with a note; a DLQ retry of an
 * item whose run kept only its change set (a first sight, as a mark) fires again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { B24ClientApi } from '../../engine/client/types.js';
import { openDatabase } from '../../engine/store/sqlite.js';
import { runCli } from '../helpers/cli.js';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The run rows as stored (the columns the journal writes), straight from the file. */
function rawRuns(path: string): Array<{ id: number; rule_id: string; status: string; facts: string | null; trace: string; reason: string | null }> {
  const db = openDatabase(path, { readonly: true });
  try {
    return db.prepare(`SELECT id, rule_id, status, facts, trace, reason FROM runs ORDER BY id`).all() as never;
  } finally {
    db.close();
  }
}

/** A client that passes everything through until `when` says a request is the one to freeze on: it reaches the portal and its answer never comes (the process is stuck there, then killed). */
function freezing(real: B24ClientApi, when: (kind: 'batch' | 'list', methods: string[]) => boolean): { client: B24ClientApi; frozen: Promise<void> } {
  let reached!: () => void;
  const frozen = new Promise<void>((resolve) => (reached = resolve));
  let done = false;
  const client: B24ClientApi = {
    call: real.call.bind(real),
    listAll<T>(method: string, options?: Parameters<B24ClientApi['listAll']>[1]): AsyncIterable<T> {
      if (done || !when('list', [method])) return real.listAll<T>(method, options);
      done = true;
      return (async function* () {
        // The first page reaches the portal; the rest never comes.
        await real.listAll<T>(method, options)[Symbol.asyncIterator]().next();
        reached();
        yield* [] as T[];
        await new Promise<never>(() => {});
      })();
    },
    async batch(cmds, options) {
      if (done || !when('batch', Object.values(cmds).map((c) => c.method))) return real.batch(cmds, options);
      done = true;
      await real.batch(cmds, options);
      reached();
      return new Promise<never>(() => {});
    },
  };
  return { client, frozen };
}

const isRead = (m: string) => /\.(get|list)$/.test(m);

describe('skipped runs', () => {
  it('are one compact row (no facts, no trace) whose reason rules runs and rules trace show', async () => {
    h = await harness(`
id: big-deals
trigger: { event: ONCRMDEALUPDATE }
condition: { ">": [{ var: deal.OPPORTUNITY }, 100000000] }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "big" }
---
id: every-deal
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "seen" }
`);
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    const rows = rawRuns(h.path);
    const skipped = rows.find((r) => r.rule_id === 'big-deals')!;
    const done = rows.find((r) => r.rule_id === 'every-deal')!;
    expect(skipped).toMatchObject({ status: 'skipped', facts: null, trace: '{}' });
    expect(skipped.reason).toMatch(/^condition false: /);
    // The acting run's journal is whole: what it loaded, and where its call ended.
    expect(done.status).toBe('done');
    expect(JSON.parse(done.trace)).toMatchObject({ outcome: 'done', loaded: { deal: { ID: '1' } }, effects: [{ method: 'crm.timeline.comment.add', state: 'done' }] });
    // Readers see the compact row's journal entry as its outcome and reason.
    expect(h.store.runs.get(skipped.id)?.trace).toEqual({ outcome: 'skipped', reason: skipped.reason });

    const cli = (...args: string[]) => runCli([...args, '--state', h!.path], { cwd: h!.dir });
    const list = await cli('runs');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/ERROR \/ REASON$/);
    expect(list.stdout.split('\n').find((l) => l.includes('big-deals'))).toContain('condition false');
    const json = JSON.parse((await cli('runs', '--json')).stdout) as Array<{ id: number; reason: string | null; trace?: unknown; facts?: unknown }>;
    expect(json.find((r) => r.id === skipped.id)).toMatchObject({ reason: skipped.reason });
    expect(json.every((r) => !('trace' in r) && !('facts' in r))).toBe(true);
    const trace = await cli('trace', String(skipped.id));
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain('status:   skipped');
    expect(trace.stdout).toMatch(/^ {2}reason: '?condition false: /m);
  });
});

describe('the start commit', () => {
  it('a process that dies before it leaves the items pending, with no run rows and no snapshots; the next one matches them again and acts once', async () => {
    h = await harness(`
id: note
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "noted {{ deal.ID }}" }
---
id: never
trigger: { event: ONCRMDEALUPDATE }
condition: { "==": [1, 2] }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "never" }
`);
    // Two events for deal 1: the second run of rule note is held (serial) behind the first.
    h.store.inbox.add([dealEvent(1), dealEvent(2), dealEvent(1)]);
    const { client, frozen } = freezing(h.client, (kind, methods) => kind === 'batch' && methods.every(isRead));
    void h.reopen({ client }).tick();
    await frozen;
    expect(h.store.inbox.countByStatus()).toMatchObject({ pending: 3, running: 0 });
    expect(rawRuns(h.path)).toEqual([]);
    expect(h.store.snapshots.get('deal', 1)).toBeUndefined();

    await drain(h.reopen(), h.clock);
    const comments = h.emu.store.all('timeline_comment').map((c) => `${c.ENTITY_ID}:${c.COMMENT}`).sort();
    expect(comments).toEqual(['1:noted 1', '2:noted 2']);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 3, pending: 0, running: 0 });
    // The held run went on once the first was done, and saw nothing new in the deal.
    const notes = h.store.runs.list({ ruleId: 'note', limit: 10 });
    expect(notes.map((r) => r.status).sort()).toEqual(['done', 'done', 'skipped']);
    expect(notes.find((r) => r.status === 'skipped')?.reason).toMatch(/unchanged/);
  });

  it('a foreach rule whose list read is cut off is matched again from scratch', async () => {
    h = await harness(`
id: sweep
trigger: { manual: {} }
foreach: { entity: deal, as: deal, filter: { "<=ID": 3 }, max_records: 10 }
dedupe: "sweep:{{ deal.ID }}"
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "swept" }
`);
    h.store.inbox.add([{ source: 'manual', key: 'sweep-1', event: null, ruleId: 'sweep', payload: {}, receivedAt: 0 }]);
    const { client, frozen } = freezing(h.client, (kind, methods) => methods.some((m) => m === 'crm.deal.list'));
    void h.reopen({ client }).tick();
    await frozen;
    expect(h.store.inbox.countByStatus()).toMatchObject({ pending: 1, running: 0 });
    expect(rawRuns(h.path)).toEqual([]);

    await drain(h.reopen(), h.clock);
    const swept = h.emu.store.all('timeline_comment').filter((c) => c.COMMENT === 'swept').map((c) => String(c.ENTITY_ID)).sort();
    expect(swept).toEqual(['1', '2', '3']);
    expect(h.store.runs.list({ ruleId: 'sweep' }).map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });
});

describe('a run cut off by a restart', () => {
  it('finishes in the next process with a note that its trace before the restart was not kept; its calls are in the ledger', async () => {
    h = await harness(`
id: two-calls
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "first" }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "second" }
`);
    h.store.inbox.add([dealEvent(1)]);
    const { client, frozen } = freezing(h.client, (kind, methods) => kind === 'batch' && !methods.every(isRead));
    void h.reopen({ client }).tick();
    await frozen;
    // Started (active, its calls in the ledger), never finished; its trace was not written yet.
    const [row] = rawRuns(h.path);
    expect(row).toMatchObject({ status: 'active', trace: '{}' });
    expect(JSON.parse(row!.facts!)).toEqual({ $run: { firstSight: true } });

    await drain(h.reopen(), h.clock);
    const run = h.store.runs.get(row!.id)!;
    expect(run.status).toBe('done');
    expect(run.trace).toMatchObject({ rule: { id: 'two-calls' }, outcome: 'done', resumed: expect.stringMatching(/restarted/) });
    expect((run.trace.effects as Array<{ state: string }>).map((e) => e.state)).toEqual(['done', 'done']);
    expect(h.emu.store.all('timeline_comment').map((c) => c.COMMENT).sort()).toEqual(['first', 'second']);
  });
});

describe('a DLQ retry', () => {
  it('of an item whose dead run kept only its change set (a first sight) fires the changed: trigger again', async () => {
    h = await harness(`
id: stage-watch
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: {} }
actions:
  - call: { method: crm.lead.update, params: { id: 4242, fields: { TITLE: "Deal {{ deal.ID }} moved" } } }
on_error: { retries: 0, then: dead_letter }
`);
    h.store.inbox.add([dealEvent(1)]);
    await drain(h.engine, h.clock);
    const [dead] = rawRuns(h.path);
    expect(dead).toMatchObject({ status: 'dead' });
    expect(JSON.parse(dead!.facts!)).toEqual({ $run: { firstSight: true } });
    const [entry] = h.store.dlq.list();

    // The lead exists now; the snapshot already holds the deal, so only the kept change set makes the trigger hold.
    h.emu.store.put('lead', 4242, { ID: '4242', TITLE: 'Old', STATUS_ID: 'NEW' });
    h.store.dlq.retry(entry!.id);
    await drain(h.engine, h.clock);
    expect(h.emu.store.get('lead', 4242)?.TITLE).toBe('Deal 1 moved');
    const again = h.store.runs.list({ ruleId: 'stage-watch' })[0]!;
    expect(again.status).toBe('done');
    expect(again.trace.changes).toEqual({ note: 'no snapshot yet: every field counts as changed' });
  });
});
