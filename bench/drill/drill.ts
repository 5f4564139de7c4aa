/**
 * One drill run, start to end: a work directory, the portal (emulator and
 * token proxy), the daemon under a supervisor, the backlog of leads, the
 * faults, the form posts, the rule fuzzer, the disturbances of the plan, the
 * wait for the work to finish, a clean stop, and then every check, through
 * the portal's record and the CLI (`rules runs`, `rules dlq`). Bounded: every
 * wait has a limit, and everything it started is stopped before it returns.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrillArgs } from './args.js';
import { DRILL_DEFAULTS } from './args.js';
import { checkBugs, checkCrashes, checkRefreshes, checkRunsLogged, checkSigterm, checkStartUp, type RunFacts } from './check-daemon.js';
import { checkDlq, type DlqFacts } from './check-dlq.js';
import { checkEffects } from './check-effects.js';
import { checkFileModes } from './check-file-modes.js';
import { checkForms } from './check-forms.js';
import { checkLostAnswer } from './check-lost-answer.js';
import { checkPayloads, countBadAnswers } from './check-payloads.js';
import { checkQueue } from './check-queue.js';
import { checkRuleFuzz } from './check-rule-fuzz.js';
import { checkSecrets, type LogSource } from './check-secrets.js';
import { runRules, type CliRun } from './cli.js';
import { DaemonSupervisor } from './daemon.js';
import { readEffects } from './effects.js';
import { postForms, type FormPostResult } from './forms.js';
import { fuzzRuleFiles, type ValidateObservation } from './fuzz-rules.js';
import { invariant, type Invariant } from './invariant.js';
import { loseOfflineAnswer } from './lost-answer.js';
import { Monitor } from './monitor.js';
import { nextPayload } from './payloads.js';
import { describePlan, LATE_LEADS, planDrill, type Step } from './plan.js';
import { startDrillPortal, type FaultSchedule } from './portal.js';
import { Random } from './random.js';
import type { SummaryCounts } from './report.js';
import { DRILL_RULE_FILES, FORM_SECRET_ENV, SINK_SECRET_ENV } from './rules.js';
import { runWorkload, waitUntil, type WorkloadResult } from './workload.js';

export interface DrillOutcome {
  invariants: Invariant[];
  counts: SummaryCounts;
  /** Measured figures, one line each. */
  figures: string[];
  workDir: string;
  ok: boolean;
  /** Set when Ctrl-C stopped the drill: what was done; no invariant was checked. */
  interrupted?: { seconds: number; stepsDone: number; stepsPlanned: number; followedUp: number; expected: number };
}

/** How the drill talks while it runs (stderr) and what it prints as its result (stdout). */
export interface DrillOutput {
  progress(line: string): void;
  /** The running status, every second (a terminal's status line); without it a progress line every 10 s. */
  status?(text: string): void;
  /** Aborted (Ctrl-C): the workload stops, everything started is stopped, no check is run. */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeStep(s: Step): string {
  if (s.kind === 'kill') return s.duringStartUp ? `kill -9 ${s.duringStartUp.afterSpawnMs} ms into a start` : `kill -9 at ${Math.round(s.at * 100)}%`;
  if (s.kind === 'term') return `SIGTERM at ${Math.round(s.at * 100)}%`;
  if (s.kind === 'storm') return `storm at ${Math.round(s.at * 100)}%`;
  if (s.kind === 'lose-answer') return `lost get answer at ${Math.round(s.at * 100)}%`;
  return `payloads at ${Math.round(s.at * 100)}%`;
}

/** Run the drill with `seed`; resolves with the invariants (the caller prints them). */
export async function runDrill(args: DrillArgs, seed: number, out: DrillOutput): Promise<DrillOutcome> {
  const started = Date.now();
  const deadline = started + args.maxMinutes * 60_000;
  const plan = planDrill(seed, args);
  const stopReason = (): string | null => (out.signal?.aborted ? 'stopped by Ctrl-C' : null);
  out.progress(`plan: ${describePlan(plan, args)}`);

  const workDir = mkdtempSync(join(tmpdir(), 'b24-drill-'));
  const rulesDir = join(workDir, 'rules');
  mkdirSync(rulesDir);
  for (const [name, text] of Object.entries(DRILL_RULE_FILES)) writeFileSync(join(rulesDir, name), text);
  const statePath = join(workDir, 'state.db');
  const tokenFile = join(workDir, 'tokens.json');
  // The outside drill's umask: files must be owner-only because the code says so, not because of the umask.
  const umask = process.umask(0o022);

  const secretRng = new Random(plan.seed).fork('secrets');
  const formSecret = `form-${secretRng.string(24)}`;
  const sinkSecret = `sink-${secretRng.string(24)}`;
  const portal = await startDrillPortal({ tokenTtlSeconds: args.tokenTtlSeconds });
  portal.addSecret(FORM_SECRET_ENV, formSecret);
  portal.addSecret(SINK_SECRET_ENV, sinkSecret);
  const { emu } = portal;
  const daemonEnv: Record<string, string> = {
    B24_DOMAIN: emu.url,
    B24_AUTH_MODE: 'oauth',
    B24_ACCESS_TOKEN: emu.app.access_token,
    B24_REFRESH_TOKEN: emu.app.refresh_token,
    B24_CLIENT_ID: emu.app.client_id,
    B24_CLIENT_SECRET: emu.app.client_secret,
    B24_OAUTH_URL: portal.oauthUrl,
    B24_TOKEN_FILE: tokenFile,
    B24_APPLICATION_TOKEN: emu.app.application_token,
    B24_PLAN: 'standard',
    [FORM_SECRET_ENV]: formSecret,
    [SINK_SECRET_ENV]: sinkSecret,
  };
  const supervisor = new DaemonSupervisor({
    rulesDir,
    statePath,
    cwd: workDir,
    env: daemonEnv,
    onExit: (l) => {
      if (l.endedBy === null) out.progress(`daemon #${l.index} exited by itself (code ${String(l.code)}${l.signal ? `, ${l.signal}` : ''})`);
    },
  });
  const cliRuns: CliRun[] = [];
  let ruleFuzz: Promise<ValidateObservation[]> = Promise.resolve([]);
  let forms: Promise<FormPostResult[]> = Promise.resolve([]);
  let workload: WorkloadResult = { done: [], skipped: plan.steps, stopped: 'the backlog was never created', storms: [], answers: null, healthAfterPayloads: null, lostAnswer: null };
  let converged: string | null = 'not reached';
  let convergedAt: number | null = null;
  let monitor: Monitor | undefined;
  let backlogIds: string[] = [];
  let stopWork = false;
  let faults: FaultSchedule | undefined;
  const setupProblems: string[] = [];

  try {
    supervisor.spawn();
    if (!(await supervisor.waitReady(120_000))) setupProblems.push('no daemon started within 120 s');
    else {
      backlogIds = await portal.createLeads(plan.leads);
      out.progress(`backlog: ${backlogIds.length} leads created (ONCRMLEADADD queued for the daemon)`);
      monitor = new Monitor(portal, backlogIds, plan.forms.length, [statePath, `${statePath}-wal`, `${statePath}-shm`, tokenFile], supervisor);
      monitor.start();
      const m = monitor;
      const schedule = portal.startFaults(plan.faultSegments, plan.faultSeed);
      faults = schedule;
      ruleFuzz = fuzzRuleFiles({ dir: join(workDir, 'rule-fuzz'), count: args.ruleFiles, seed: plan.ruleFuzzSeed, env: {}, progress: out.progress, stopped: () => stopWork || stopReason() !== null });
      forms = postForms(plan.forms, { secret: formSecret, daemonUrl: () => (supervisor.ready ? (supervisor.current?.url ?? null) : null), reached: (at) => m.progress >= at || m.finished, stopped: () => stopWork || stopReason() !== null });
      const payloadRng = new Random(plan.payloadSeed);
      const status = (): string => `${Math.round(m.progress * 100)}% (${m.done}/${m.expected} leads followed up), ${m.queued} events queued, daemon #${supervisor.current?.index ?? '?'} ${supervisor.ready ? 'up' : 'starting'}`;
      const ticker = out.status
        ? setInterval(() => out.status?.(status()), 1000)
        : setInterval(() => out.progress(`[${Math.round((Date.now() - started) / 1000)} s] ${status()}`), 10_000);
      try {
        workload = await runWorkload({
          steps: plan.steps,
          supervisor,
          monitor: m,
          payloads: { count: args.payloads, next: () => nextPayload(payloadRng, { applicationToken: emu.app.application_token, sinkSecret }) },
          stormUrl: `${emu.webhookUrl}user.current`,
          loseAnswer: () =>
            loseOfflineAnswer({
              faults: schedule,
              queue: () => emu.events.hub.queue.snapshot(),
              addLeads: async (attempt) => {
                const ids = await portal.createLeads(plan.lateLeads.slice(attempt * LATE_LEADS, (attempt + 1) * LATE_LEADS));
                m.addLeads(ids);
                return { ids, seq: emu.calls.records.findLast((r) => r.method === 'batch' && r.auth === 'webhook')?.seq ?? 0 };
              },
            }),
          deadline,
          stallMs: DRILL_DEFAULTS.stallMs,
          log: out.progress,
          stop: stopReason,
        });
        if (workload.stopped) out.progress(`steps stopped early: ${workload.stopped}`);
        const formsDone = forms.then(() => true);
        let allPosted = false;
        void formsDone.then(() => (allPosted = true));
        converged = await waitUntil(() => m.finished && allPosted, m, deadline, DRILL_DEFAULTS.stallMs, stopReason);
        if (converged === null) convergedAt = Date.now();
      } finally {
        clearInterval(ticker);
      }
      out.progress(converged === null ? `work finished after ${Math.round((Date.now() - started) / 1000)} s` : `work did not finish: ${converged}`);
      faults.stop();
      if (!stopReason()) {
        // Late duplicates would show now: give the daemon a moment with nothing to do.
        await sleep(3000);
        m.poll();
      }
    }
  } catch (err) {
    setupProblems.push(`the drill itself failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    stopWork = true;
    faults?.stop();
    monitor?.stop();
    if (supervisor.ready) await supervisor.end('SIGTERM');
    await supervisor.close();
    monitor?.sampleModes('after the last daemon stopped');
  }
  const storms = await Promise.all(workload.storms);
  const formResults = await forms;
  const fuzzObservations = await ruleFuzz;
  if (stopReason()) {
    // Everything it started is stopped (above); the checks need a finished run, so none is made.
    process.umask(umask);
    await portal.close();
    const interrupted = { seconds: Math.round((Date.now() - started) / 1000), stepsDone: workload.done.length, stepsPlanned: plan.steps.length, followedUp: monitor?.done ?? 0, expected: monitor?.expected ?? backlogIds.length };
    return { invariants: [], counts: { lost: 0, duplicated: 0, deadLetters: 0, crashes: 0, secretsLeaked: 0, badAnswers: 0, ruleFileCrashes: 0 }, figures: [], workDir, ok: false, interrupted };
  }

  const runsRun = await runRules(['runs', '--json', '--limit', '1000000', '--state', statePath], { env: {}, cwd: workDir, timeoutMs: 120_000 });
  const dlqRun = await runRules(['dlq', 'list', '--json', '--limit', '100000', '--state', statePath], { env: {}, cwd: workDir, timeoutMs: 120_000 });
  cliRuns.push(runsRun, dlqRun);
  const parse = <T>(run: CliRun, what: string): T[] => {
    try {
      return JSON.parse(run.stdout) as T[];
    } catch {
      setupProblems.push(`'rules ${run.args.slice(0, 2).join(' ')}' printed no JSON (exit ${String(run.code)}): ${(run.stderr || run.stdout).slice(0, 200)} (${what})`);
      return [];
    }
  };
  const runs = parse<RunFacts>(runsRun, 'runs');
  const dlq = parse<DlqFacts>(dlqRun, 'dead letters');

  // The checks.
  const record = readEffects(emu, backlogIds, plan.forms.length);
  const effects = checkEffects(record, { backlog: backlogIds.length, forms: plan.forms.length });
  if (backlogIds.length < args.events) effects.lost.problems.unshift(`only ${backlogIds.length} of ${args.events} backlog leads were created`);
  const lives = supervisor.lives;
  const logSources: LogSource[] = [
    ...lives.map((l) => ({ source: `daemon #${l.index}`, lines: l.lines.map((x) => x.text) })),
    ...fuzzObservations.map((o, i) => ({ source: `rules validate #${i}`, lines: `${o.run.stdout}\n${o.run.stderr}`.split('\n') })),
    ...cliRuns.map((r) => ({ source: `rules ${r.args.slice(0, 2).join(' ')}`, lines: `${r.stdout}\n${r.stderr}`.split('\n') })),
    { source: 'answers to payloads', lines: (workload.answers ?? []).map((a) => a.body) },
    { source: 'answers to form posts', lines: formResults.flatMap((r) => r.bodies) },
  ];
  const secrets = checkSecrets(logSources, portal.secrets());
  const crashes = checkCrashes(lives);
  const sigterm = checkSigterm(lives);
  const startUp = checkStartUp(lives);
  const refreshes = checkRefreshes(portal.grants, lives, args.tokenTtlSeconds, Date.now());
  const dlqCheck = checkDlq(dlq, runs);
  const ruleFuzzCheck = checkRuleFuzz(fuzzObservations);
  if (fuzzObservations.reduce((n, o) => n + o.files.length, 0) < args.ruleFiles && args.ruleFiles > 0) ruleFuzzCheck.problems.push('not every planned rule file was validated');
  const payloadCheck = checkPayloads(workload.answers ?? []);
  if (args.payloads > 0 && workload.answers === null) payloadCheck.problems.push('the payloads were never sent (the workload ended first)');
  if (workload.healthAfterPayloads !== null && workload.healthAfterPayloads !== 200) payloadCheck.problems.push(`/healthz answered ${workload.healthAfterPayloads} right after the payloads`);

  const stepProblems = [...setupProblems, ...(workload.stopped ? [`steps not done: ${workload.skipped.map(describeStep).join(', ')} (${workload.stopped})`] : []), ...(converged ? [`the work did not finish: ${converged}`] : [])];
  const kills = lives.filter((l) => l.endedBy === 'SIGKILL').length;
  const workloadCheck = invariant(
    'workload',
    `${workload.done.length} of ${plan.steps.length} planned disturbances done (${kills} kill -9), work finished ${convergedAt ? `${Math.round((convergedAt - started) / 1000)} s after the start` : 'never'}`,
    stepProblems,
  );
  const invariants: Invariant[] = [
    workloadCheck,
    effects.lost,
    effects.duplicated,
    checkQueue(emu.events.hub.queue.snapshot()),
    checkLostAnswer(workload.lostAnswer),
    dlqCheck,
    checkForms(formResults, plan.forms.length),
    crashes,
    checkBugs(lives),
    sigterm,
    checkRunsLogged(lives, runs),
    startUp,
    refreshes,
    checkFileModes(monitor?.modeSamples ?? []),
    secrets,
    payloadCheck,
    ruleFuzzCheck,
  ];
  // Some checks got problems added above, after they were built.
  for (const i of invariants) i.ok = i.problems.length === 0;
  const figures = [
    `wall time ${Math.round((Date.now() - started) / 1000)} s; ${lives.length} daemon processes; ${emu.calls.httpRequests} HTTP requests to the portal (storm included)`,
    `slowest start ${(startUp.slowestMs / 1000).toFixed(1)} s; slowest SIGTERM ${(sigterm.slowestMs / 1000).toFixed(1)} s; ${refreshes.refreshes} token refreshes`,
    ...storms.map((s) => `storm: ${s.requests} requests in ${(s.ms / 1000).toFixed(0)} s, ${s.refused} refused with 503`),
    `${secrets.lines} lines scanned for ${portal.secrets().length} secret values (${lives.reduce((n, l) => n + l.lines.length, 0)} from the daemons, the rest from 'rules validate', 'rules runs', 'rules dlq' and the answers); ${runs.length} runs in the journal`,
  ];
  process.umask(umask);
  await portal.close();
  const counts: SummaryCounts = {
    lost: effects.lostCount,
    duplicated: effects.duplicatedCount,
    deadLetters: dlqCheck.deadLetters,
    crashes: crashes.crashes,
    secretsLeaked: secrets.leaks,
    badAnswers: countBadAnswers(workload.answers ?? []),
    ruleFileCrashes: ruleFuzzCheck.crashes,
  };
  const ok = invariants.every((i) => i.ok);
  if (ok && !args.keep) rmSync(workDir, { recursive: true, force: true });
  else {
    for (const l of lives) writeFileSync(join(workDir, `daemon-${l.index}.log`), `${l.lines.map((x) => x.text).join('\n')}\n`, { mode: 0o600 });
    figures.push(`work directory kept: ${workDir} (daemon-N.log: each daemon's output; rule-fuzz/: the mutated files; state.db)`);
  }
  return { invariants, counts, figures, workDir, ok };
}
