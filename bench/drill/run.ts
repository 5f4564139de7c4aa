/**
 * `npm run drill [-- --quick] [--seed N] [--events N] [--kills N] ...`: the
 * reliability and security drill (docs/drill.md). Prints its seed and the
 * command that replays it, one line per invariant, the figures and a summary
 * line; exits 0 when every invariant held, 1 when one broke, 2 on bad usage.
 * Progress goes to stderr: a status line on a terminal, plain lines when
 * piped (cli/progress.ts). Ctrl-C stops the workload and everything the drill
 * started, says what was done, checks nothing and exits 130.
 */
import { onInterrupt, Progress, PROGRESS_DEFAULTS } from '../../cli/index.js';
import { DrillUsageError, parseDrillArgs, replayCommand, USAGE, type DrillArgs } from './args.js';
import { runDrill } from './drill.js';
import { newSeed } from './random.js';
import { formatInvariants, formatSummary } from './report.js';

async function main(argv: string[]): Promise<number> {
  let args: DrillArgs | 'help';
  try {
    args = parseDrillArgs(argv);
  } catch (err) {
    if (!(err instanceof DrillUsageError)) throw err;
    process.stderr.write(`drill: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = args.seed ?? newSeed();
  process.stdout.write(`b24-rules drill${args.quick ? ' (--quick)' : ''}: seed ${seed}; replay: ${replayCommand(args, seed)}\n`);
  const display = new Progress({ label: 'drill', showRequests: false });
  display.phase('starting the portal and the daemon');
  const stop = new AbortController();
  const offInterrupt = onInterrupt(() => {
    stop.abort();
    display.log('drill: Ctrl-C: stopping the workload, the daemon and the portal it started (Ctrl-C again to quit at once)');
  }, 'drill: quit at once; its daemon and portal processes may still be running.');
  let outcome;
  try {
    outcome = await runDrill(args, seed, { progress: (line) => display.log(`drill: ${line}`), status: (text) => display.phase(text), signal: stop.signal });
  } finally {
    display.finish();
    offInterrupt();
  }
  if (outcome.interrupted) {
    const i = outcome.interrupted;
    process.stdout.write(
      `drill: stopped by Ctrl-C after ${i.seconds} s: ${i.stepsDone} of ${i.stepsPlanned} disturbances done, ${i.followedUp} of ${i.expected} leads followed up; ` +
        `not done: the rest of the workload and every invariant check (nothing was checked). Its processes are stopped; work directory: ${outcome.workDir}\n`,
    );
    return PROGRESS_DEFAULTS.interruptedExit;
  }
  process.stdout.write(`${formatInvariants(outcome.invariants).join('\n')}\n`);
  for (const f of outcome.figures) process.stdout.write(`  ${f}\n`);
  process.stdout.write(`${formatSummary(outcome.counts, outcome.invariants)}\n`);
  if (!outcome.ok) process.stdout.write(`seed ${seed}; replay: ${replayCommand(args, seed)}\n`);
  return outcome.ok ? 0 : 1;
}

const code = await main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`drill failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
});
process.exitCode = code;
