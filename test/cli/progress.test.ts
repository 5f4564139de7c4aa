/**
 * Progress of long commands (cli/progress.ts): the display itself on a collecting stream with an injected
 * clock; `rules apply --yes` in a pseudo-terminal (util-linux `script`: one line redrawn in place) and piped
 * (plain lines, no escape codes); Ctrl-C (SIGINT to the subprocess) stopping an apply after the tick in
 * flight with a summary of what was done and what was not, whose rest a daemon then finishes, each update
 * once; and `rules record`, `rules portal pull` and `rules dry-run` stopped by Ctrl-C while a request is
 * held by the emulator, writing nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { formatSeconds, Progress } from '../../cli/progress.js';
import { CLI, emulatorEnv, startDaemonProcess, tempDir, until, writeRule } from '../daemon/harness.js';
import { runCli } from '../helpers/cli.js';
import { userClient } from '../sources/emulator-helpers.js';

const ESC = '\x1b';

/** A stream that keeps what was written. */
function collector(tty: boolean): { write(t: string): boolean; isTTY: boolean; columns: number; text: string } {
  return {
    isTTY: tty,
    columns: 100,
    text: '',
    write(t: string) {
      this.text += t;
      return true;
    },
  };
}

describe('the progress display', () => {
  it('on a terminal: one line redrawn in place, at most every redrawMs, a change of done drawn at once, erased at the end', () => {
    let now = 1_000_000;
    const out = collector(true);
    const p = new Progress({ label: 'rules apply', stream: out, now: () => now, redrawMs: 100 });
    p.phase('applying');
    p.total(40, 'records');
    p.expect(10, 2);
    p.clientEvent({ type: 'request', method: 'batch', status: 200, ms: 5 });
    p.clientEvent({ type: 'request', method: 'batch', status: 200, ms: 5 });
    const frames = () => out.text.split(`\r${ESC}[2K`).filter(Boolean);
    const before = frames().length;
    now += 50;
    p.clientEvent({ type: 'rate-limit-wait', method: 'batch', ms: 1500 });
    expect(frames().length, 'no redraw within redrawMs').toBe(before);
    p.done(20);
    expect(frames().at(-1)).toBe('rules apply: applying, 20/40 records, 2 requests, 1 rate-limit wait (2 s), 0 s elapsed, ETA 4 s');
    expect(out.text).not.toContain('\n');
    p.log('a message');
    expect(out.text).toContain(`\r${ESC}[2Ka message\n`);
    p.finish();
    expect(out.text.endsWith(`\r${ESC}[2K`)).toBe(true);
  });

  it('piped: no escape codes, a plain line every lineEveryMs, the final line after a long run (or always when asked)', () => {
    let now = 0;
    const out = collector(false);
    const p = new Progress({ label: 'rules dry-run', stream: out, now: () => now, lineEveryMs: 10_000 });
    p.phase('planning (reads only)');
    p.clientEvent({ type: 'request', method: 'crm.deal.list', status: 200, ms: 5 });
    expect(out.text).toBe('');
    now = 12_000;
    p.clientEvent({ type: 'request', method: 'crm.deal.list', status: 200, ms: 5 });
    expect(out.text).toBe('rules dry-run: planning (reads only), 2 requests, 0 rate-limit waits, 12 s elapsed\n');
    now = 13_000;
    p.finish();
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(out.text).not.toContain('\r');
    expect(out.text).not.toContain(ESC);

    const quiet = collector(false);
    const q = new Progress({ label: 'rules record', stream: quiet, now: () => 0 });
    q.clientEvent({ type: 'request', method: 'event.offline.list', status: 200, ms: 5 });
    q.finish();
    expect(quiet.text, 'a short run piped says nothing').toBe('');
    const always = collector(false);
    const a = new Progress({ label: 'rules apply', stream: always, now: () => 0, finalLine: 'always' });
    a.total(3);
    a.done(3);
    a.finish();
    expect(always.text).toBe('rules apply: 3/3 records, 0 requests, 0 rate-limit waits, 0 s elapsed\n');
  });

  it('formats durations', () => {
    expect([formatSeconds(12.4), formatSeconds(200), formatSeconds(3900), formatSeconds(120)]).toEqual(['12 s', '3 min 20 s', '1 h 5 min', '2 min']);
  });
});

const RULES = `id: junk-bulk
trigger: { manual: {} }
foreach:
  entity: lead
  as: lead
  filter: { UTM_CAMPAIGN: "{{ params.campaign }}" }
  select: [ID, TITLE, STATUS_ID, UTM_CAMPAIGN]
  max_records: 500
dedupe: "junk:{{ lead.ID }}"
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { STATUS_ID: JUNK } }
---
id: deal-digest
trigger: { schedule: { cron: "0 9 * * *", timezone: UTC } }
foreach:
  entity: lead
  as: lead
  filter: { UTM_CAMPAIGN: big }
  max_records: 500
dedupe: "digest:{{ lead.ID }}"
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "daily" }
`;

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe('progress of long commands (subprocesses on the emulator)', { timeout: 120_000 }, () => {
  let emu: Emulator;
  let dir: string;
  let rules: string;
  const env = (): Record<string, string> => ({ PATH: process.env.PATH ?? '', NO_COLOR: '1', ...emulatorEnv(emu, dir) });

  async function addLeads(campaign: string, n: number): Promise<string[]> {
    const res = await userClient(emu).batch(Array.from({ length: n }, (_, i) => ({ method: 'crm.lead.add', params: { fields: { TITLE: `${campaign} ${i}`, STATUS_ID: 'NEW', UTM_CAMPAIGN: campaign } } })));
    return Object.values(res).map((r) => String((r as { result: unknown }).result));
  }
  const updatesOf = (ids: string[]) => emu.calls.records.filter((c) => c.method === 'crm.lead.update' && ids.includes(String((c.params as { id?: unknown }).id)));
  const junk = (ids: string[]) => ids.filter((id) => emu.store.get('lead', id)?.STATUS_ID === 'JUNK');

  beforeAll(async () => {
    emu = await startEmulator({ port: 0 });
    dir = tempDir('b24-progress-');
    rules = join(dir, 'rules');
    mkdirSync(rules);
    writeRule(rules, 'rules.yaml', RULES);
  });
  afterAll(async () => {
    await emu.close();
  });

  it.skipIf(!hasScript)('rules apply --yes in a pseudo-terminal: the status line redrawn in place, records done of the plan, requests, waits', async () => {
    const ids = await addLeads('tty', 60);
    const state = join(dir, 'tty.db');
    const cmd = `stty cols 200 2>/dev/null; exec '${process.execPath}' '${CLI}' apply junk-bulk --param campaign=tty --yes --rules '${rules}' --state '${state}'`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    const frames = r.out.split(`\r${ESC}[2K`).map((f) => f.split('\n')[0] as string).filter((f) => f.startsWith('rules apply:'));
    expect(frames.some((f) => f.startsWith('rules apply: planning (reads only), '))).toBe(true);
    expect(frames).toContainEqual(expect.stringMatching(/^rules apply: applying, 60\/60 records, 60 calls done, \d+ requests?, \d+ rate-limit waits?.*, \d+ s elapsed$/));
    // Whether a frame with an ETA is drawn before the work ends depends on the machine's speed (an unloaded CI
    // machine finished first): the ETA itself is checked on an injected clock in the display's own test above.
    // The status line is erased before the summary is written.
    expect(r.out).toContain('60 run(s): 60 call(s) done, 0 failed.');
    expect(junk(ids)).toHaveLength(60);
  });

  it('rules apply --yes piped: no escape codes or carriage returns, a plain final status line', async () => {
    const ids = await addLeads('piped', 30);
    const r = await runCli(['apply', 'junk-bulk', '--param', 'campaign=piped', '--yes', '--rules', rules, '--state', join(dir, 'piped.db')], { cwd: dir, env: emulatorEnv(emu, dir) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).toMatch(/^rules apply: applying, 30\/30 records, 30 calls done, \d+ requests?, \d+ rate-limit waits?.*elapsed$/m);
    expect(r.stderr).not.toContain('rules apply: planning');
    expect(r.stderr).toContain('30 run(s): 30 call(s) done, 0 failed.');
    expect(junk(ids)).toHaveLength(30);
  });

  it('Ctrl-C stops an apply after the tick in flight, says what was done and what was not (exit 130); a daemon finishes the rest, each update once', async () => {
    const ids = await addLeads('sigint', 60);
    const state = join(dir, 'sigint.db');
    const hold = emu.hold(({ method, params }) => method === 'batch' && JSON.stringify(params).includes('crm.lead.update'));
    const child = spawn(process.execPath, [CLI, 'apply', 'junk-bulk', '--param', 'campaign=sigint', '--yes', '--runs-per-tick', '20', '--rules', rules, '--state', state], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await hold.held(1);
      child.kill('SIGINT');
      await until(() => stderr.includes('Ctrl-C: stopping after the calls in flight'), 'the apply saying it stops');
    } finally {
      hold.release();
    }
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain(`rules apply: stopped by Ctrl-C after the tick in flight: 20 of 60 record(s) done (20 call(s) done, 0 failed); 40 not done: they stay queued in ${state}`);
    expect(stdout).toContain('junk-bulk');
    expect(junk(ids)).toHaveLength(20);
    expect(updatesOf(ids)).toHaveLength(20);

    // The rest was queued, not lost: a daemon on the state file finishes it, and nothing is sent twice.
    const daemon = startDaemonProcess([rules, '--state', state, '--listen', '127.0.0.1:0', '--no-watch', '--poll-interval-ms', '100'], emulatorEnv(emu, dir), dir);
    try {
      await until(() => junk(ids).length === 60, 'the daemon finishing the apply', 60_000);
      expect(updatesOf(ids)).toHaveLength(60);
      expect(new Set(updatesOf(ids).map((c) => String((c.params as { id?: unknown }).id))).size).toBe(60);
    } finally {
      daemon.kill('SIGTERM');
      await daemon.exited;
    }
  });

  it.each([
    ['record', (out: string) => ['record', '--events', '5', '--out', out], 'rules record: stopped by Ctrl-C after 0 request(s): nothing was written to'],
    ['portal pull', (out: string) => ['portal', 'pull', '--out', out], 'rules portal pull: stopped by Ctrl-C after 0 request(s): nothing was written'],
    ['dry-run', () => ['dry-run', rules, '--at', '2026-11-24T09:00:00Z'], 'rules dry-run: stopped by Ctrl-C after 0 request(s): nothing planned, nothing written.'],
  ])('Ctrl-C stops rules %s at once while a request is held, writing nothing (exit 130)', async (_name, args, said) => {
    const out = join(tempDir('b24-progress-out-'), 'out.yaml');
    // Every request waits: the command is stopped while its first one is at the portal.
    const hold = emu.hold();
    const child = spawn(process.execPath, [CLI, ...args(out)], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await hold.held(1);
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
    } finally {
      hold.release();
    }
    expect(stderr).toContain(said);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, '.rules', 'portal.json'))).toBe(false);
  });
});
