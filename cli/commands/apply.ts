/** `rules apply RULE`: run a manual or bulk rule now (plan first; write only with --yes). */
import { resolve } from 'node:path';
import { loadConfig, readEnvironment } from '../../engine/config.js';
import { DEFAULT_STATE_PATH, executeApply, findApplicableRule, formatRuns, planApply } from '../../engine/daemon/index.js';
import { UsageError } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';
import { applyPlanCommand, isRatePlan, PLAN_FORMATS, renderPlan, type PlanFormat } from '../../engine/plan/index.js';
import { formatDiagnostics, loadRules } from '../../engine/rules/index.js';
import { isPostgresUrl } from '../../engine/store/index.js';
import { FORMAT_OPTIONS, intOption, logLevel, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { DEFAULTS as PROGRESS_DEFAULTS, onInterrupt, Progress } from '../progress.js';

const usage = `Usage: rules apply RULE [--param KEY=VALUE]... [--max-records N] [--yes]
                   [--rules PATH]... [--state PATH] [--format text|json|markdown|github]
                   [--runs-per-tick N]
       rules apply --plan PLAN.json

Run one manual rule (trigger: manual), or a schedule rule now, against the
portal configured in the environment or .env (as for 'rules call').

Without --yes nothing is written: the rule is planned through the dry-run path
(reads only) and the plan is printed. With --yes the plan is checked again and
the rule is run: its work is stored in the state file and carried out with the
effect ledger, so an interrupted apply resumes without repeating calls.

Options:
  --param KEY=VALUE  a value for params.KEY (repeatable); numbers and true/false
                     are typed, everything else is a string
  --max-records N    refuse a run that would touch more than N rows (also
                     enforced while running, on top of the rule's max_records)
  --yes              carry the plan out (otherwise only print it)
  --rules PATH       rule files or directories (repeatable; default ./rules)
  --state PATH       state file (default ${DEFAULT_STATE_PATH}); better not the
                     state of a daemon running at the same time
  --format FORMAT    plan output: text (default), json, markdown, github;
                     --json is the same as --format json
  --plan FILE        carry out exactly a plan saved by 'rules dry-run --out FILE';
                     refused, with nothing sent, if any record it read has
                     changed on the portal since the plan was made
  --runs-per-tick N  rows started per engine tick (default 1000); Ctrl-C stops
                     after the tick in flight, so smaller ticks stop sooner

Progress goes to stderr: on a terminal one updating line (records done of the
plan's, calls, requests, rate-limit waits, the ETA at the portal's rate);
piped, a plain line every 10 s and a last one. Ctrl-C stops after the tick in
flight (its calls answered and recorded, none sent twice) and says what was
done and what was not; the rest stays queued in the state file and a daemon
on it ('rules run --state PATH') finishes it. Exit 130 after Ctrl-C.
`;

/** `k=v` → typed value. */
export function parseParams(values: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of values ?? []) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param must be KEY=VALUE; got '${raw}'`);
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1);
    if (!/^[A-Za-z_][\w.-]*$/.test(key)) throw new UsageError(`--param key '${key}' must be letters, digits, '_', '.', '-'`);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) && value.length < 16 ? Number(value) : value === 'true' ? true : value === 'false' ? false : value;
  }
  return out;
}

const command: Command = {
  summary: 'run a manual or bulk rule, or carry out a saved plan',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      param: { type: 'string', multiple: true },
      'max-records': { type: 'string' },
      yes: { type: 'boolean' },
      rules: { type: 'string', multiple: true },
      state: { type: 'string' },
      ...FORMAT_OPTIONS,
      plan: { type: 'string' },
      'runs-per-tick': { type: 'string' },
    });
    // Not a file path: resolve() would make a folder named 'postgres:'. A portal of a worker deployment is written only by the worker holding its lease.
    if (values.state !== undefined && isPostgresUrl(values.state)) {
      throw new UsageError("rules apply runs on a state file; a worker deployment's portal (--state postgres://...) is written only by the worker holding its lease. Plan with: rules dry-run --state postgres://... --portal ID");
    }
    if (values.plan !== undefined) {
      if (positionals.length > 0) throw new UsageError('--plan carries out a saved plan; give no RULE with it');
      return applyPlanCommand(values.plan);
    }
    const [ruleId, ...extra] = positionals;
    if (!ruleId) throw new UsageError('apply needs a RULE id (see rules validate --format json for the ids)');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'; rule paths go in --rules PATH`);
    const maxRecords = intOption('max-records', values['max-records'], 1);
    const runsPerTick = intOption('runs-per-tick', values['runs-per-tick'], 1);
    const format: PlanFormat = outputFormat(values, PLAN_FORMATS, 'text');
    const params = parseParams(values.param);
    const logger = createLogger({ level: logLevel(values['log-level'] ?? 'warn'), toStderr: true });

    const paths = (values.rules?.length ? values.rules : ['rules']).map((p) => resolve(p));
    const loaded = await loadRules(paths);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      process.stderr.write(formatDiagnostics(errors, 'text'));
      process.stderr.write(`rules apply: ${errors.length} error(s) in the rules; fix them first (rules validate shows the same).\n`);
      return EXIT.ERROR;
    }
    const rule = findApplicableRule(loaded.rules, ruleId);
    const env = readEnvironment();
    const config = loadConfig();
    const ratePlan = isRatePlan(config.plan) ? config.plan : 'standard';
    const target = { rule, params, ...(maxRecords !== undefined ? { maxRecords } : {}) };

    // Planning reads only: Ctrl-C while it runs quits at once, nothing written.
    const planning = new Progress({ label: 'rules apply' });
    planning.phase('planning (reads only)');
    let offInterrupt = onInterrupt(() => {
      planning.finish();
      process.stderr.write('rules apply: stopped by Ctrl-C while planning: nothing was written.\n');
      process.exit(PROGRESS_DEFAULTS.interruptedExit);
    });
    let planned;
    try {
      planned = await planApply({ target, ruleFiles: loaded.files.map((f) => f.file), config, ratePlan, env, onClientEvent: planning.clientEvent });
    } finally {
      planning.finish();
      offInterrupt();
    }
    process.stdout.write(renderPlan(planned.plan, format));
    if (planned.refused) {
      process.stderr.write(`rules apply: refused: ${planned.refused}\n`);
      return EXIT.ERROR;
    }
    if (planned.plan.summary.errors > 0) {
      process.stderr.write('rules apply: the plan has errors (see above); nothing was written.\n');
      return EXIT.ERROR;
    }
    if (!values.yes) {
      process.stderr.write(`\nNothing was written. ${planned.rows} row(s), ${planned.plan.summary.writes} write(s) planned. Run again with --yes to carry it out.\n`);
      return EXIT.OK;
    }

    const statePath = resolve(values.state ?? DEFAULT_STATE_PATH);
    const progress = new Progress({ label: 'rules apply', finalLine: 'always' });
    progress.phase('applying');
    progress.total(planned.rows, 'records');
    progress.expect(planned.plan.estimate.http_requests, planned.plan.estimate.rate_per_second);
    let calls = { done: 0, failed: 0 };
    progress.extra(() => `${calls.done} call${calls.done === 1 ? '' : 's'} done${calls.failed ? `, ${calls.failed} failed` : ''}`);
    const stop = new AbortController();
    offInterrupt = onInterrupt(() => {
      stop.abort();
      progress.log('rules apply: Ctrl-C: stopping after the calls in flight (each is answered and recorded, none is sent twice); Ctrl-C again to quit at once.');
    }, `rules apply: quit at once; calls in flight are settled by the next run on ${statePath} (never sent twice).`);
    let result;
    try {
      result = await executeApply({
        target,
        config,
        statePath,
        logger,
        env,
        ...(env.B24_AUTH_CONNECTOR ? { authConnector: env.B24_AUTH_CONNECTOR } : {}),
        onEvent: progress.clientEvent,
        onProgress: (p) => {
          calls = p.calls;
          if (p.runs > planned.rows) progress.total(p.runs);
          progress.done(p.finished);
        },
        signal: stop.signal,
        ...(runsPerTick !== undefined ? { runsPerTick } : {}),
      });
    } finally {
      progress.finish();
      offInterrupt();
    }
    process.stderr.write('\n');
    process.stdout.write(formatRuns(result.runs));
    if (result.interrupted) {
      const finished = result.runs.filter((r) => ['done', 'skipped', 'failed', 'dead'].includes(r.status)).length;
      const total = Math.max(planned.rows, result.runs.length);
      process.stderr.write(
        `rules apply: stopped by Ctrl-C after the tick in flight: ${finished} of ${total} record(s) done (${result.calls.done} call(s) done, ${result.calls.failed} failed); ` +
          `${total - finished} not done: they stay queued in ${statePath}, and a daemon on it ('rules run --state ${statePath}') finishes them.\n`,
      );
      return PROGRESS_DEFAULTS.interruptedExit;
    }
    process.stderr.write(
      `${result.timedOut ? 'Still running when the wait ended (the work stays queued in the state file; a daemon on it finishes it). ' : ''}` +
        `${result.runs.length} run(s): ${result.calls.done} call(s) done, ${result.calls.failed} failed.` +
        `${result.ok ? '' : ' See rules trace RUN_ID for a failed run.'}\n`,
    );
    return result.ok ? EXIT.OK : EXIT.ERROR;
  },
};

export default command;
