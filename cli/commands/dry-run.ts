/** `rules dry-run [PATHS...]`: plan what the rules would do on events, a time and portal data, without writing. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import { isRatePlan, parseAt, PLAN_FORMATS, renderJson, renderPlan, stepSummary, type PlanFormat, type RatePlan } from '../../engine/plan/index.js';
import { formatDiagnostics, loadRules } from '../../engine/rules/index.js';
import { isPostgresUrl } from '../../engine/store/index.js';
import { FORMAT_OPTIONS, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { annotatingInputErrors, planDryRun } from '../dry-run-inputs.js';
import { DEFAULTS as PROGRESS_DEFAULTS, onInterrupt, Progress } from '../progress.js';

const usage = `Usage: rules dry-run [PATHS...] [--events FILE] [--at TIME] [--fixtures FILE]
                      [--state PATH | --state postgres://... --portal ID]
                      [--format text|json|github|markdown] [--out plan.json]
                      [--plan standard|enterprise] [--detailed-exitcode]

Plan what the rules would do, without writing anything: for each rule run, the
trigger, the record, the condition's value and reason, the exact REST calls
(updates with each field's value before and after), the batches they would be
packed into, and the HTTP requests and seconds at the portal's rate limit.

PATHS are rule files or directories (default: ./rules).

What to run them on:
  --events FILE     JSON lines: records as event.offline.get returns them
                    (EVENT_NAME, EVENT_DATA, MESSAGE_ID, TIMESTAMP_X...) or
                    outgoing-webhook payloads (event, data, ts); '-' reads
                    stdin. Default: the events: of the fixtures file, if any.
  --at TIME         ISO 8601 with offset, e.g. 2026-11-24T09:00:00+03:00: the
                    schedule rules whose cron fires at that minute run, and it is
                    the clock for conditions. Default: now (and no schedules).
Portal data:
  --fixtures FILE   a snapshot of records (users, leads, deals, ...), served by
                    an in-process emulator. Without it the portal in the
                    environment is read (as for 'rules call'); never written:
                    the client refuses every write method.
  --state PATH      the daemon's state file (.rules/state.db): plan with its
                    dedupe keys, record snapshots (for changed:) and round-robin
                    positions. Read through a private copy; never changed.
                    Default: an empty state (every run is new).
                    A worker deployment's database (postgres://USER@HOST/DB)
                    holds every portal's state: name one with --portal.
  --portal ID       with --state postgres://...: the portal (its member_id
                    or domain, see 'rules portals list') whose state the plan
                    starts from; copied from one read-only snapshot, nothing
                    written to the database. Its data is still read from
                    --fixtures or the portal in the environment
Output:
  --format FORMAT   text (default), json (has format_version), github
                    (::notice/::warning annotations; appends a summary to
                    $GITHUB_STEP_SUMMARY), markdown (for a PR comment);
                    --json is the same as --format json
  --out FILE        save the plan as JSON, for 'rules apply --plan FILE'
  --plan PLAN       rate-limit profile for the estimate: standard (burst 50,
                    2/s) or enterprise (250, 5/s). Default: B24_PLAN or standard
  --detailed-exitcode  exit 2 when changes are planned

Progress (requests, rate-limit waits: a large foreach reads many pages) goes to
stderr: one updating line on a terminal, quiet when piped. Ctrl-C stops at
once: nothing planned, nothing written (exit 130).

Exit codes: 0 no changes (or changes without --detailed-exitcode), 2 changes
planned (with --detailed-exitcode) or bad usage (e.g. neither events nor
--at TIME: nothing to plan), 1 errors (invalid rules, fixtures or events; a
run whose planning failed).
`;

const command: Command = {
  summary: 'plan what rules would do, without writing',
  usage,
  run: (argv) => annotatingInputErrors(argv, () => run(argv)),
};

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    events: { type: 'string' },
    at: { type: 'string' },
    fixtures: { type: 'string' },
    ...FORMAT_OPTIONS,
    out: { type: 'string' },
    plan: { type: 'string' },
    state: { type: 'string' },
    portal: { type: 'string' },
    'detailed-exitcode': { type: 'boolean' },
  });
  if (values.portal !== undefined && !(values.state && isPostgresUrl(values.state))) {
    throw new UsageError('--portal picks a portal\'s state in a worker deployment: it goes with --state postgres://USER@HOST/DB');
  }
  if (values.state && isPostgresUrl(values.state) && !values.portal) {
    throw new UsageError("--state postgres://... holds many portals' state: name the portal with --portal MEMBER_ID (or its domain; see rules portals list)");
  }
  const format: PlanFormat = outputFormat(values, PLAN_FORMATS, 'text');
  const planRaw = values.plan ?? (process.env.B24_PLAN?.trim() || 'standard');
  if (!isRatePlan(planRaw)) throw new UsageError(`--plan must be standard or enterprise; got '${planRaw}'`);
  const ratePlan: RatePlan = planRaw;
  const at = values.at === undefined ? undefined : parseAt(values.at);
  if (at === null) throw new UsageError(`--at must be an ISO 8601 time with an offset, e.g. 2026-11-24T09:00:00+03:00; got '${values.at}'`);

  const paths = positionals.length > 0 ? positionals : [resolve('rules')];
  const loaded = await loadRules(paths);
  const diagFormat = format === 'github' ? 'github' : 'text';
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  // GitHub reads workflow commands (::error) from stdout; plain diagnostics go to stderr.
  if (loaded.diagnostics.length > 0) (format === 'github' ? process.stdout : process.stderr).write(formatDiagnostics(loaded.diagnostics, diagFormat));
  if (errors.length > 0) {
    process.stderr.write(`rules dry-run: ${errors.length} error${errors.length === 1 ? '' : 's'} in the rules; fix them first (rules validate shows the same).\n`);
    return EXIT.ERROR;
  }
  if (loaded.files.length === 0) {
    process.stderr.write(`rules dry-run: no rule files found in ${paths.join(', ')}\n`);
    return EXIT.ERROR;
  }

  const progress = new Progress({ label: 'rules dry-run' });
  progress.phase('planning (reads only)');
  const offInterrupt = onInterrupt(() => {
    progress.finish();
    process.stderr.write(`rules dry-run: stopped by Ctrl-C after ${progress.counts.requests} request(s): nothing planned, nothing written.\n`);
    process.exit(PROGRESS_DEFAULTS.interruptedExit);
  });
  let planned;
  try {
    planned = await planDryRun({
      loaded,
      ...(values.events ? { eventsFile: values.events } : {}),
      ...(values.fixtures ? { fixturesFile: values.fixtures } : {}),
      ...(at !== undefined && values.at !== undefined ? { at, atText: values.at } : {}),
      ratePlan,
      ...(values.state ? { statePath: values.state } : {}),
      ...(values.portal ? { statePortal: values.portal } : {}),
      onClientEvent: progress.clientEvent,
    });
  } finally {
    progress.finish();
    offInterrupt();
  }
  const { plan, note } = planned;
  if (note) process.stderr.write(`rules dry-run: ${note}\n`);

  process.stdout.write(renderPlan(plan, format));
  if (format === 'github' && process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, stepSummary(plan));
  if (values.out) writeFileSync(values.out, renderJson(plan));
  if (plan.summary.errors > 0) return EXIT.ERROR;
  return plan.summary.writes > 0 && values['detailed-exitcode'] ? EXIT.USAGE : EXIT.OK;
}

export default command;
