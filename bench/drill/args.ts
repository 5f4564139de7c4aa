/** Command-line arguments of `npm run drill`, their defaults, and the command that replays a run. */
import { parseArgs } from 'node:util';

/** Sizes of the long form (`npm run drill`) and the short one (`--quick`, what CI runs). */
export const DRILL_DEFAULTS = {
  long: { events: 1000, kills: 10, forms: 50, ruleFiles: 2000, payloads: 1000, stormSeconds: 30, maxMinutes: 40 },
  quick: { events: 300, kills: 4, forms: 20, ruleFiles: 200, payloads: 200, stormSeconds: 10, maxMinutes: 10 },
  /** Access-token lifetime the emulator gives (s): the outside drill's 30 s. */
  tokenTtlSeconds: 30,
  /** The work is stalled when no effect appears for this long while some are missing (ms). */
  stallMs: 90_000,
} as const;

/** Usage text. */
export const USAGE = `usage: npm run drill -- [--quick] [--seed N] [--events N] [--kills N] [--forms N]
                       [--rule-files N] [--payloads N] [--storm-seconds S] [--token-ttl S]
                       [--max-minutes M] [--keep]
  --quick            the short form CI runs (${DRILL_DEFAULTS.quick.events} events, ${DRILL_DEFAULTS.quick.kills} kills, a few minutes)
  --seed N           replay a run: the same events, kill points, faults, mutations and payloads
  --events N         lead events in the backlog (default ${DRILL_DEFAULTS.long.events}; --quick ${DRILL_DEFAULTS.quick.events})
  --kills N          kill -9s of the daemon during the backlog (default ${DRILL_DEFAULTS.long.kills}; --quick ${DRILL_DEFAULTS.quick.kills})
  --forms N          form posts to /hooks/... during the backlog (default ${DRILL_DEFAULTS.long.forms}; --quick ${DRILL_DEFAULTS.quick.forms})
  --rule-files N     mutated rule files through 'rules validate' (default ${DRILL_DEFAULTS.long.ruleFiles}; --quick ${DRILL_DEFAULTS.quick.ruleFiles})
  --payloads N       hostile HTTP payloads to /b24/events and /hooks/... (default ${DRILL_DEFAULTS.long.payloads}; --quick ${DRILL_DEFAULTS.quick.payloads})
  --storm-seconds S  how long a second client floods the portal's rate limit (default ${DRILL_DEFAULTS.long.stormSeconds}; --quick ${DRILL_DEFAULTS.quick.stormSeconds})
  --token-ttl S      access-token lifetime on the emulated portal (default ${DRILL_DEFAULTS.tokenTtlSeconds})
  --max-minutes M    give up the workload after M minutes (default ${DRILL_DEFAULTS.long.maxMinutes}; --quick ${DRILL_DEFAULTS.quick.maxMinutes})
  --keep             keep the work directory (logs, state file, fuzz files) even when every invariant holds`;

/** A bad command line: the runner prints the message and the usage, exit code 2. */
export class DrillUsageError extends Error {}

export interface DrillArgs {
  seed: number | undefined;
  quick: boolean;
  events: number;
  kills: number;
  forms: number;
  ruleFiles: number;
  payloads: number;
  stormSeconds: number;
  tokenTtlSeconds: number;
  maxMinutes: number;
  keep: boolean;
}

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new DrillUsageError(`--${name} must be an integer from ${min} to ${max}; got '${value}'`);
  return n;
}

/** Parse the command line; throws DrillUsageError with what is wrong. */
export function parseDrillArgs(argv: string[]): DrillArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        seed: { type: 'string' },
        events: { type: 'string' },
        kills: { type: 'string' },
        forms: { type: 'string' },
        'rule-files': { type: 'string' },
        payloads: { type: 'string' },
        'storm-seconds': { type: 'string' },
        'token-ttl': { type: 'string' },
        'max-minutes': { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DrillUsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const d = quick ? DRILL_DEFAULTS.quick : DRILL_DEFAULTS.long;
  return {
    seed: values.seed === undefined ? undefined : count('seed', values.seed, 0, 0, 2 ** 32 - 1),
    quick,
    events: count('events', values.events, d.events, 1, 100_000),
    kills: count('kills', values.kills, d.kills, 0, 1000),
    forms: count('forms', values.forms, d.forms, 0, 10_000),
    ruleFiles: count('rule-files', values['rule-files'], d.ruleFiles, 0, 100_000),
    payloads: count('payloads', values.payloads, d.payloads, 0, 100_000),
    stormSeconds: count('storm-seconds', values['storm-seconds'], d.stormSeconds, 0, 3600),
    tokenTtlSeconds: count('token-ttl', values['token-ttl'], DRILL_DEFAULTS.tokenTtlSeconds, 5, 86_400),
    maxMinutes: count('max-minutes', values['max-minutes'], d.maxMinutes, 1, 24 * 60),
    keep: values.keep ?? false,
  };
}

/** The command that replays a run: its seed and every size that differs from the form's default. */
export function replayCommand(args: DrillArgs, seed: number): string {
  const d = args.quick ? DRILL_DEFAULTS.quick : DRILL_DEFAULTS.long;
  const extra: string[] = [];
  if (args.quick) extra.push('--quick');
  extra.push('--seed', String(seed));
  const sizes: Array<[string, number, number]> = [
    ['events', args.events, d.events],
    ['kills', args.kills, d.kills],
    ['forms', args.forms, d.forms],
    ['rule-files', args.ruleFiles, d.ruleFiles],
    ['payloads', args.payloads, d.payloads],
    ['storm-seconds', args.stormSeconds, d.stormSeconds],
    ['token-ttl', args.tokenTtlSeconds, DRILL_DEFAULTS.tokenTtlSeconds],
    ['max-minutes', args.maxMinutes, d.maxMinutes],
  ];
  for (const [name, value, fallback] of sizes) if (value !== fallback) extra.push(`--${name}`, String(value));
  return ['npm', 'run', 'drill', '--', ...extra].join(' ');
}
