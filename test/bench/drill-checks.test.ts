/**
 * The drill's checker logic (`npm run drill`, bench/drill/): each invariant
 * holds on a healthy record and breaks, naming the case, on a broken one; the
 * plan, the mutations and the payloads are the same for the same seed; the
 * summary line carries the outside drill's figures. The whole drill runs in
 * CI (.ci/run, `--quick`), not here: these tests take no wall-clock time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkBugs,
  checkCrashes,
  checkDlq,
  checkEffects,
  checkFileModes,
  checkForms,
  checkLostAnswer,
  checkPayloads,
  checkQueue,
  checkRefreshes,
  checkRuleFuzz,
  checkRunsLogged,
  checkSecrets,
  checkSigterm,
  checkStartUp,
  commentText,
  contactName,
  doneEffects,
  DrillUsageError,
  effectsFromRows,
  FORM_PATH,
  formatInvariants,
  formatSummary,
  formLeadTitle,
  fuzzRuleFiles,
  lastError,
  makePayloads,
  mutateRuleFile,
  parseDrillArgs,
  planDrill,
  Random,
  replayCommand,
  sendPayload,
  startDrillPortal,
  taskTitle,
  type CliRun,
  type LifeFacts,
} from '../../bench/drill/index.js';

/** The portal's rows after the rules followed up `ids` (and the form leads `formIds` for posts 0..n-1), once each. */
function healthyRows(ids: string[], formIds: string[] = []) {
  const all = [...ids, ...formIds];
  return {
    leads: [
      ...ids.map((id, i) => ({ ID: id, TITLE: `Drill lead ${i}`, CONTACT_ID: `c${id}` })),
      ...formIds.map((id, n) => ({ ID: id, TITLE: formLeadTitle(n), CONTACT_ID: `c${id}` })),
    ],
    tasks: all.map((id) => ({ id: `t${id}`, title: taskTitle(id) })),
    comments: all.map((id) => ({ ID: `m${id}`, COMMENT: commentText(id) })),
    contacts: all.map((id) => ({ ID: `c${id}`, NAME: contactName(id) })),
  };
}

const SIZES = { events: 300, kills: 4, forms: 20, payloads: 200, stormSeconds: 10 };

describe('drill plan and replay', () => {
  it('the same seed gives the same plan; another seed another one', () => {
    expect(planDrill(42, SIZES)).toEqual(planDrill(42, SIZES));
    expect(planDrill(43, SIZES).steps).not.toEqual(planDrill(42, SIZES).steps);
  });

  it('plans the kills, one SIGTERM under load, a storm and the payloads, in the order of their moments', () => {
    for (const seed of [1, 2, 3, 99, 12345]) {
      const plan = planDrill(seed, SIZES);
      expect(plan.leads).toHaveLength(300);
      expect(new Set(plan.lateLeads.map((l) => l.email)).size).toBe(plan.lateLeads.length);
      expect(plan.forms).toHaveLength(20);
      expect(plan.steps.filter((s) => s.kind === 'kill')).toHaveLength(4);
      const term = plan.steps.filter((s) => s.kind === 'term');
      expect(term).toHaveLength(1);
      expect(term[0]?.at).toBeGreaterThanOrEqual(0.3);
      expect(term[0]?.at).toBeLessThanOrEqual(0.6);
      expect(plan.steps.filter((s) => s.kind === 'storm')).toHaveLength(1);
      expect(plan.steps.filter((s) => s.kind === 'payloads')).toHaveLength(1);
      // The lost answer comes last, once the backlog is done.
      expect(plan.steps.filter((s) => s.kind === 'lose-answer')).toHaveLength(1);
      expect(plan.steps[plan.steps.length - 1]).toEqual({ kind: 'lose-answer', at: 1 });
      const ats = plan.steps.map((s) => s.at);
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
      // A kill during start-up follows the kill whose restart it interrupts.
      plan.steps.forEach((s, i) => {
        if (s.kind === 'kill' && s.duringStartUp) expect(plan.steps[i - 1]?.kind).toBe('kill');
      });
    }
  });

  it('the replay command parses back to the same run', () => {
    const args = parseDrillArgs(['--quick', '--events', '120', '--kills', '2']);
    if (args === 'help') throw new Error('help');
    const command = replayCommand(args, 777);
    expect(command).toBe('npm run drill -- --quick --seed 777 --events 120 --kills 2');
    const again = parseDrillArgs(command.split(' ').slice(4));
    expect(again).toEqual({ ...args, seed: 777 });
    expect(replayCommand({ ...(parseDrillArgs([]) as Exclude<typeof args, 'help'>) }, 5)).toBe('npm run drill -- --seed 5');
  });

  it('refuses a bad size with a usage error', () => {
    expect(() => parseDrillArgs(['--events', '0'])).toThrow(DrillUsageError);
    expect(() => parseDrillArgs(['--kills', 'many'])).toThrow(/--kills must be an integer/);
    expect(() => parseDrillArgs(['--nope'])).toThrow(DrillUsageError);
  });
});

describe('lost and duplicated effects', () => {
  const ids = ['11', '12', '13'];

  it('a record with every effect once: nothing lost, nothing duplicated', () => {
    const record = effectsFromRows(healthyRows(ids, ['20', '21']), ids, 2);
    const v = checkEffects(record, { backlog: 3, forms: 2 });
    expect(v.lost.ok).toBe(true);
    expect(v.duplicated.ok).toBe(true);
    expect(v.expected).toBe(3 * 4 + 2 * 5);
    expect(doneEffects(record)).toBe(v.expected);
  });

  it('a missing comment and an unlinked lead are lost effects, named by lead', () => {
    const rows = healthyRows(ids);
    rows.comments = rows.comments.filter((c) => c.COMMENT !== commentText('12'));
    rows.leads = rows.leads.map((l) => (l.ID === '13' ? { ...l, CONTACT_ID: '' } : l));
    const v = checkEffects(effectsFromRows(rows, ids, 0), { backlog: 3, forms: 0 });
    expect(v.lost.ok).toBe(false);
    expect(v.lostCount).toBe(2);
    expect(v.lost.problems).toEqual(['lead 12 (Drill lead 1): no comment', 'lead 13 (Drill lead 2): no contact link']);
  });

  it('a second task, a form post made twice and a comment on no expected lead are duplicates', () => {
    const rows = healthyRows(ids, ['20']);
    rows.tasks.push({ id: 'tx', title: taskTitle('11') });
    rows.leads.push({ ID: '22', TITLE: formLeadTitle(0), CONTACT_ID: '' });
    rows.comments.push({ ID: 'mx', COMMENT: commentText('999') });
    const v = checkEffects(effectsFromRows(rows, ids, 1), { backlog: 3, forms: 1 });
    expect(v.duplicated.ok).toBe(false);
    expect(v.duplicated.problems).toContain('lead 11 (Drill lead 0): 2 tasks');
    expect(v.duplicated.problems).toContain('form post 0: 2 leads');
    expect(v.duplicated.problems.some((p) => /belong to no expected lead/.test(p))).toBe(true);
  });

  it('a form post that never became a lead loses the lead and its four effects', () => {
    const v = checkEffects(effectsFromRows(healthyRows(ids), ids, 1), { backlog: 3, forms: 1 });
    expect(v.lostCount).toBe(5);
    expect(v.lost.problems).toEqual(['form post 0: no lead']);
  });
});

describe('the portal and the state file', () => {
  it('the offline queue must be empty: a reserved record left behind breaks it', () => {
    expect(checkQueue([]).ok).toBe(true);
    const q = checkQueue([{ eventName: 'ONCRMLEADADD', processId: 'p1', error: 0, eventData: { FIELDS: { ID: '7' } } }]);
    expect(q.ok).toBe(false);
    expect(q.detail).toContain('1 reserved');
    expect(q.problems[0]).toBe('ONCRMLEADADD for record 7: reserved by p1');
  });

  it('the batch of a lost event.offline.get answer must be cleared within the limit', () => {
    const base = { happened: true, leadIds: ['501'], attempts: 1, misses: [], lost: ['p-lost'], left: [], limitMs: 60_000 };
    const ok = checkLostAnswer({ ...base, recoveredMs: 4200 });
    expect(ok.ok).toBe(true);
    expect(ok.detail).toBe('the answer to the event.offline.get that reserved new leads was lost (attempt 1): its batch cleared 4.2 s later (limit 60 s)');
    const hidden = checkLostAnswer({ ...base, recoveredMs: null, left: ['p-lost'] });
    expect(hidden.problems).toEqual(['the batch whose answer was lost (p-lost) still in the queue after 60 s']);
    expect(checkLostAnswer({ ...base, happened: false, attempts: 1, misses: ['attempt 1: no event.offline.get within 60 s'], recoveredMs: null }).problems).toEqual(['attempt 1: no event.offline.get within 60 s']);
  });

  it('the fault schedule loses exactly one answer of the method aimed at, and no other call meanwhile', async () => {
    const portal = await startDrillPortal({ tokenTtlSeconds: 30 });
    try {
      const schedule = portal.startFaults([{ ms: 60_000, dropWhen: 'before', latencyMs: 0 }], 1);
      const hook = portal.emu.webhookUrl;
      schedule.pause();
      const during: number[] = [];
      let prepared!: () => void;
      const preparedNow = new Promise<void>((resolve) => (prepared = resolve));
      const lost = schedule.loseOneAnswer('user.current', 60_000, async () => {
        // While it prepares, the method is refused without running; other methods go through.
        during.push((await fetch(`${hook}user.current`)).status, (await fetch(`${hook}profile`)).status);
        prepared();
      });
      // Wait for the preparation itself, not for a fixed time: on a loaded machine two requests may take longer than any guess.
      await preparedNow;
      expect(during).toEqual([500, 200]);
      expect((await fetch(`${hook}profile`)).status).toBe(200);
      await expect(fetch(`${hook}user.current`)).rejects.toThrow();
      // Dropped after it ran: the portal answered it (status 200), the caller never saw that.
      expect(await lost).toMatchObject({ method: 'user.current', status: 200, fault: 'drop' });
      expect(portal.emu.calls.records.filter((r) => r.fault === 'drop')).toHaveLength(1);
      expect((await fetch(`${hook}user.current`)).status).toBe(200);
      schedule.resume();
      schedule.stop();
    } finally {
      await portal.close();
    }
  });

  it('every dead letter is explained: a rule, a dead run, an error that says something', () => {
    const runs = [
      { id: 1, status: 'dead' },
      { id: 2, status: 'done' },
    ];
    expect(checkDlq([{ id: 1, runId: 1, ruleId: 'r', error: 'B24_API_ERROR: crm.lead.update: Not found (HTTP 400)' }], runs).ok).toBe(true);
    const bad = checkDlq(
      [
        { id: 1, runId: 1, ruleId: 'r', error: 'url is not an absolute URL: undefined' },
        { id: 2, runId: 2, ruleId: 'r', error: 'x failed' },
      ],
      runs,
    );
    expect(bad.problems).toHaveLength(2);
    expect(bad.problems[0]).toMatch(/error says nothing/);
    expect(bad.problems[1]).toMatch(/run 2 is done, not dead/);
    expect(bad.deadLetters).toBe(2);
  });

  it('file modes: owner-only passes; a -wal readable by others breaks, once per file and mode', () => {
    expect(checkFileModes([{ file: 'state.db', when: 'a', mode: 0o600 }, { file: 'state.db-wal', when: 'a', mode: null }]).ok).toBe(true);
    const m = checkFileModes([
      { file: 'state.db', when: 'a', mode: 0o600 },
      { file: 'state.db-wal', when: 'while daemon #0 ran', mode: 0o644 },
      { file: 'state.db-wal', when: 'while daemon #1 ran', mode: 0o644 },
    ]);
    expect(m.problems).toEqual(['state.db-wal is 0644 (while daemon #0 ran); owner-only is 0600']);
    // The detail shows the loosest mode a file had, not the last.
    expect(checkFileModes([{ file: 'state.db-shm', when: 'a', mode: 0o644 }, { file: 'state.db-shm', when: 'b', mode: 0o600 }]).detail).toBe('state.db-shm 0644 (umask 022)');
  });

  it('form posts: refusals during restarts are fine, a 500 or a post never stored is not', () => {
    expect(checkForms([{ n: 0, accepted: true, attempts: 3, refusals: { 0: 1, 503: 1 } }], 1).ok).toBe(true);
    const f = checkForms(
      [
        { n: 0, accepted: true, attempts: 2, refusals: { 500: 1 } },
        { n: 1, accepted: false, attempts: 9, refusals: { 0: 9 } },
      ],
      3,
    );
    expect(f.problems).toEqual(['form post 0: answered 500 (1 times)', 'form post 1: never stored (9 attempts)', '1 form posts never sent (the workload ended first)']);
  });
});

describe('secrets and bad input', () => {
  const secrets = [
    { name: 'client_secret', value: 'cs-0123456789abcdef' },
    { name: 'refresh_token #3', value: 'rt-fedcba9876543210' },
  ];

  it('finds a secret in any line and reports it by name, with every secret in the quoted line masked', () => {
    const clean = checkSecrets([{ source: 'daemon #0', lines: ['{"msg":"ok","auth":"[REDACTED]"}'] }], secrets);
    expect(clean.ok).toBe(true);
    expect(clean.lines).toBe(1);
    const leak = checkSecrets([{ source: 'daemon #2', lines: ['fine', 'refresh failed for rt-fedcba9876543210 with cs-0123456789abcdef'] }], secrets);
    expect(leak.ok).toBe(false);
    expect(leak.leaks).toBe(2);
    expect(leak.problems[0]).toBe('daemon #2 line 2: client_secret in: refresh failed for [refresh_token #3] with [client_secret]');
    expect(formatInvariants([leak]).join('\n')).not.toMatch(/fedcba|0123456789abcdef/);
  });

  it('a 5xx or no answer to a hostile payload breaks the bad-input invariant; 4xx and 2xx do not', () => {
    expect(checkPayloads([{ label: 'x', path: '/b24/events', status: 400, error: null }, { label: 'y', path: '/hooks/a', status: 200, error: null }]).ok).toBe(true);
    const b = checkPayloads([
      { label: 'JSON nested 10000 deep', path: '/b24/events', status: 500, error: null },
      { label: 'JSON nested 10000 deep', path: '/b24/events', status: 500, error: null },
      { label: 'huge body 4096 KiB', path: '/hooks/drill/sink', status: null, error: 'ECONNRESET' },
    ]);
    expect(b.problems).toEqual(['JSON nested 10000 deep to /b24/events: HTTP 500 (2 times)', 'huge body 4096 KiB to /hooks/drill/sink: no answer (ECONNRESET)']);
  });

  it('the payloads: deterministic, deep and huge ones among them, no effect-making request', () => {
    const secrets2 = { applicationToken: 'app-token-123456', sinkSecret: 'sink-secret-123456' };
    const a = makePayloads(400, new Random(9), secrets2);
    expect(makePayloads(400, new Random(9), secrets2).map((c) => [c.label, c.path, c.body?.toString('base64')])).toEqual(a.map((c) => [c.label, c.path, c.body?.toString('base64')]));
    expect(a.some((c) => /nested (5000|20000|10000|100000) deep/.test(c.label))).toBe(true);
    expect(a.some((c) => (c.body?.length ?? 0) > 1024 * 1024)).toBe(true);
    for (const c of a) {
      // The form rule would make a lead: it only ever gets a wrong or missing secret.
      if (c.path.startsWith(FORM_PATH)) expect(c.headers['x-rules-secret']).not.toBe(secrets2.sinkSecret);
      expect(c.body?.toString('latin1') ?? '').not.toMatch(/ONCRMLEADADD/i);
      expect(c.label).not.toContain(secrets2.sinkSecret);
    }
  });
});

describe('sending a payload (a real node:http server)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  }

  it('an answer sent before the body was read counts (413 on a 4 MiB chunked body)', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(413, { connection: 'close' }).end('{"error":"body larger than 1048576 bytes"}');
    });
    const a = await sendPayload(url, { label: 'huge', path: '/b24/events', method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(4 * 1024 * 1024, 'a'), chunked: true });
    expect(a.status).toBe(413);
    expect(a.body).toContain('larger than');
  });

  it('a connection closed without an answer is no answer', async () => {
    const url = await serve((req) => req.socket.destroy());
    const a = await sendPayload(url, { label: 'x', path: '/hooks/a', method: 'POST', headers: {}, body: Buffer.from('a=1'), chunked: false });
    expect(a.status).toBeNull();
    expect(a.error).toBeTruthy();
    expect(checkPayloads([a]).ok).toBe(false);
  });
});

describe('the daemon processes', () => {
  const life = (over: Partial<LifeFacts>): LifeFacts => ({ index: 0, spawnedAt: 1000, startedAt: 2000, endedBy: null, signalledAt: null, exitedAt: null, code: null, signal: null, records: [], lines: [], ...over });

  it('an exit the drill did not cause is a crash, with the error the process printed', () => {
    const lives = [
      life({ index: 0, endedBy: 'SIGKILL', signalledAt: 5000, exitedAt: 5001, signal: 'SIGKILL' }),
      life({
        index: 1,
        startedAt: null,
        exitedAt: 3000,
        code: 1,
        lines: [
          { stream: 'stderr', text: 'node:internal/process/promises:391' },
          { stream: 'stderr', text: "Error: Cannot find module './build/Release/re2.node'" },
          { stream: 'stderr', text: '    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)' },
          { stream: 'stderr', text: 'Node.js v20.20.2' },
        ],
      }),
      life({ index: 2, exitedAt: 9000, code: 1, records: [{ level: 60, msg: 'cannot start', err: { message: 'event.bind: Handler already binded (HTTP 400)' } }] }),
    ];
    const c = checkCrashes(lives);
    expect(c.crashes).toBe(2);
    expect(c.problems[0]).toBe("daemon #1 exited by itself while starting (code 1): Error: Cannot find module './build/Release/re2.node'");
    expect(c.problems[1]).toBe('daemon #2 exited by itself after 7.0 s of work (code 1): cannot start: event.bind: Handler already binded (HTTP 400)');
    expect(lastError(lives[1] as LifeFacts)).toMatch(/^Error: Cannot find module/);
  });

  it('a SIGTERM must end in exit 0 within 10 s', () => {
    expect(checkSigterm([life({ endedBy: 'SIGTERM', signalledAt: 10_000, exitedAt: 12_500, code: 0 })]).ok).toBe(true);
    const slow = checkSigterm([life({ endedBy: 'SIGTERM', signalledAt: 10_000, exitedAt: 20_500, code: 1 })]);
    expect(slow.problems).toHaveLength(2);
    expect(slow.slowestMs).toBe(10_500);
  });

  it('every run a SIGTERM-stopped daemon finished is in its log, the ones finished while draining too', () => {
    const logged = (ids: number[]) => ids.map((run) => ({ level: 30, msg: `rule r done`, run, outcome: 'done' }));
    const stopped = life({ spawnedAt: 1000, endedBy: 'SIGTERM', signalledAt: 5000, exitedAt: 6000, code: 0, records: logged([1, 2]) });
    const runs = [
      { id: 1, ruleId: 'r', status: 'done', finishedAt: 3000 },
      { id: 2, ruleId: 'r', status: 'done', finishedAt: 5500 },
      { id: 3, ruleId: 'r', status: 'done', finishedAt: 5800 },
      { id: 4, ruleId: 'r', status: 'done', finishedAt: 7000 },
    ];
    const r = checkRunsLogged([stopped], runs);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['daemon #0: 1 of 3 finished runs never logged (1 finished after SIGTERM): runs 3']);
    expect(checkRunsLogged([{ ...stopped, records: logged([1, 2, 3]) }], runs).ok).toBe(true);
  });

  it('refreshes: one per third of the token lifetime (plus one per start) is the most', () => {
    const lives = [life({ spawnedAt: 0, exitedAt: 60_000 })];
    const grants = (n: number) => Array.from({ length: n }, (_, i) => ({ at: i, status: 200 }));
    // 60 s with 30 s tokens: 1 start + 6.
    expect(checkRefreshes(grants(7), lives, 30, 60_000).ok).toBe(true);
    const storm = checkRefreshes(grants(8), lives, 30, 60_000);
    expect(storm.ok).toBe(false);
    expect(storm.problems[0]).toMatch(/^8 refreshes in 60 s .*\(at most 7\)/);
    expect(checkRefreshes([{ at: 1, status: 400 }], lives, 30, 60_000).problems).toEqual(['1 refresh requests refused by the token server']);
  });

  it('a start slower than the limit breaks start-up; a life killed while starting does not count', () => {
    expect(checkStartUp([life({ spawnedAt: 0, startedAt: 3000 }), life({ startedAt: null, endedBy: 'SIGKILL', exitedAt: 500 })]).ok).toBe(true);
    expect(checkStartUp([life({ spawnedAt: 0, startedAt: 31_000 })]).problems).toEqual(['daemon #0 took 31.0 s to start (limit 15 s)']);
  });

  it('an error line with a TypeError or an UNEXPECTED error is a bug; a portal error is not', () => {
    const records = [
      { level: 50, msg: 'engine tick failed', err: { type: 'Object', message: 'provedNotRun is not defined', stack: 'ReferenceError: provedNotRun is not defined\n    at x' } },
      { level: 50, msg: 'engine tick failed', err: { type: 'Object', message: 'provedNotRun is not defined', stack: 'ReferenceError: provedNotRun is not defined\n    at x' } },
      { level: 50, msg: 'offline: clear failed', err: { message: 'B24_SERVER_ERROR (HTTP 500)', stack: 'B24ServerError: ...', code: 'B24_SERVER_ERROR' } },
      { level: 40, msg: 'REST call failed; retrying', err: { stack: 'TypeError: fetch failed' } },
    ];
    const b = checkBugs([life({ records })]);
    expect(b.problems).toEqual(['engine tick failed: provedNotRun is not defined (2 times)']);
    expect(b.detail).toBe("2 of 3 error lines in the daemons' logs show a bug");
  });
});

describe('the rule fuzzer', () => {
  const run = (over: Partial<CliRun>): CliRun => ({ args: [], code: 0, signal: null, stdout: '', stderr: '', ms: 10, timedOut: false, ...over });
  const doc = (files: Array<[string, boolean]>, diagnostics: unknown[]) => JSON.stringify({ format_version: 1, diagnostics, files: files.map(([file, ok]) => ({ file, ok })) });

  it('a refused file with its diagnostic and a valid file pass', () => {
    const d = { severity: 'error', code: 'YAML_SYNTAX', message: 'bad', file: '/f/b.yaml', line: 2, col: 1 };
    expect(checkRuleFuzz([{ files: ['/f/a.yaml', '/f/b.yaml'], run: run({ code: 1, stdout: doc([['/f/a.yaml', true], ['/f/b.yaml', false]], [d]) }) }]).ok).toBe(true);
  });

  it('a crash, an INTERNAL diagnostic and a silent refusal each break it', () => {
    const r = checkRuleFuzz([
      { files: ['/f/a.yaml'], run: run({ code: null, signal: 'SIGABRT' }) },
      { files: ['/f/b.yaml'], run: run({ code: 1, stdout: doc([['/f/b.yaml', false]], [{ severity: 'error', code: 'INTERNAL', message: 'the loader failed on this rule: x', file: '/f/b.yaml', line: 1, col: 1 }]) }) },
      { files: ['/f/c.yaml'], run: run({ code: 0, stdout: doc([['/f/c.yaml', false]], []) }) },
      { files: ['/f/d.yaml'], run: run({ code: 2, stderr: 'RangeError: Maximum call stack size exceeded\n    at parse (file:///x.js:1:2)' }) },
    ]);
    expect(r.crashes).toBe(3);
    expect(r.problems).toEqual([
      '/f/a.yaml: validate crashed: killed by SIGABRT',
      '/f/b.yaml: the loader failed on its own (INTERNAL): the loader failed on this rule: x',
      '/f/c.yaml: refused without an error diagnostic',
      '/f/d.yaml: validate crashed: exit code 2: RangeError: Maximum call stack size exceeded',
    ]);
  });

  it("mutated files through the real 'rules validate': each one valid, or refused with a diagnostic", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-drill-fuzz-'));
    try {
      const observations = await fuzzRuleFiles({ dir, count: 40, seed: 2024, env: {} });
      const verdict = checkRuleFuzz(observations);
      expect(verdict.problems).toEqual([]);
      expect(verdict.detail).toMatch(/^40 mutated rule files/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('mutations are deterministic and keep rule ids unique across files', () => {
    const seed = 'id: a\ntrigger: { event: ONCRMLEADADD }\nactions: []\n---\nid: b\ntrigger: { manual: {} }\nactions: []\n';
    expect(mutateRuleFile(seed, '7', new Random(3))).toBe(mutateRuleFile(seed, '7', new Random(3)));
    const texts = Array.from({ length: 50 }, (_, i) => mutateRuleFile(seed, String(i), new Random(i)));
    expect(new Set(texts).size).toBeGreaterThan(40);
    expect(texts[0]).not.toMatch(/^id: a$/m);
  });
});

describe('the summary line', () => {
  it('carries the outside drill figures and the verdict', () => {
    const counts = { lost: 0, duplicated: 0, deadLetters: 0, crashes: 0, secretsLeaked: 0, badAnswers: 0, ruleFileCrashes: 0 };
    const ok = { name: 'lost', ok: true, detail: 'x', problems: [] };
    const bad = { name: 'file-modes', ok: false, detail: 'y', problems: ['state.db-wal is 0644'] };
    expect(formatSummary(counts, [ok])).toBe('summary: lost 0, duplicated 0, dead letters 0, crashes 0, secrets leaked 0, 5xx or unanswered for bad input 0, rule-file crashes 0; 1 of 1 invariants held: PASS');
    expect(formatSummary(counts, [ok, bad])).toMatch(/1 of 2 invariants held: FAIL \(file-modes\)$/);
    expect(formatInvariants([ok, bad])).toEqual(['ok    lost        x', 'FAIL  file-modes  y', '        - state.db-wal is 0644']);
  });
});
