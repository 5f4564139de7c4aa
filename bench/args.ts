/** Command-line arguments of `npm run bench` and the command that reproduces a run. */
import { parseArgs } from 'node:util';
import { BENCH_NAMES } from './benches.js';

/** Usage text. */
export const USAGE = `usage: npm run bench -- [--only NAME[,NAME...]] [--quick] [--json FILE] [--results FILE] [--repetitions N]
  --only NAME      run only these benchmarks (${BENCH_NAMES.join(', ')}); may repeat
  --quick          small workloads and fewer repetitions: a smoke run (seconds)
  --json FILE      also write the results (environment, samples, medians, ratios) as JSON
  --results FILE   write the results as Markdown (targets, tables, notes) to FILE; a full run
                   (no --only, no --quick) writes bench/RESULTS.md unless told otherwise
  --repetitions N  repetitions per variant (overrides each benchmark's default)`;

/** A bad command line: the runner prints the message and the usage, exit code 2. */
export class BenchUsageError extends Error {}

export interface RunArgs {
  only: string[];
  quick: boolean;
  json?: string;
  /** Markdown results file. */
  results?: string;
  repetitions?: number;
}

/** Where a full run writes its Markdown results. */
export const DEFAULT_RESULTS_FILE = 'bench/RESULTS.md';

/** The Markdown file this run writes, if any: --results, or bench/RESULTS.md for a full run. */
export function resultsFile(args: RunArgs): string | undefined {
  if (args.results) return args.results;
  return args.only.length === 0 && !args.quick && !args.repetitions ? DEFAULT_RESULTS_FILE : undefined;
}

/** Parse the command line; throws BenchUsageError with what is wrong. */
export function parseRunArgs(argv: string[]): RunArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        results: { type: 'string' },
        repetitions: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const only = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const name of only) {
    if (!BENCH_NAMES.includes(name)) throw new BenchUsageError(`--only: unknown benchmark '${name}'; choose from ${BENCH_NAMES.join(', ')}`);
  }
  let repetitions: number | undefined;
  if (values.repetitions !== undefined) {
    repetitions = Number(values.repetitions);
    if (!Number.isInteger(repetitions) || repetitions < 1) throw new BenchUsageError(`--repetitions must be an integer >= 1; got '${values.repetitions}'`);
  }
  return { only, quick: values.quick ?? false, ...(values.json ? { json: values.json } : {}), ...(values.results ? { results: values.results } : {}), ...(repetitions ? { repetitions } : {}) };
}

/** The command that reproduces a run with these arguments. */
export function reproduceCommand(args: RunArgs): string {
  const parts = ['npm', 'run', 'bench'];
  const extra: string[] = [];
  if (args.only.length > 0) extra.push('--only', args.only.join(','));
  if (args.quick) extra.push('--quick');
  if (args.repetitions) extra.push('--repetitions', String(args.repetitions));
  if (args.json) extra.push('--json', args.json);
  if (args.results) extra.push('--results', args.results);
  return [...parts, ...(extra.length > 0 ? ['--', ...extra] : [])].join(' ');
}
