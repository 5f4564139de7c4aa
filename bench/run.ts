/**
 * `npm run bench [-- --only NAME[,NAME]] [--quick] [--json FILE]`: run the
 * benchmarks, print a table per benchmark with the ratios between variants
 * measured side by side, and the command that reproduces the run.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHES, BENCH_NAMES } from './benches.js';
import { formatEnvironment, formatResult, runEnvironment } from './report.js';
import type { BenchResult } from './types.js';

const USAGE = `usage: npm run bench -- [--only NAME[,NAME...]] [--quick] [--json FILE] [--repetitions N]
  --only NAME      run only these benchmarks (${BENCH_NAMES.join(', ')}); may repeat
  --quick          small workloads and fewer repetitions: a smoke run (seconds)
  --json FILE      also write the results (environment, samples, medians, ratios) as JSON
  --repetitions N  repetitions per variant (overrides each benchmark's default)`;

class UsageError extends Error {}

interface RunArgs {
  only: string[];
  quick: boolean;
  json?: string;
  repetitions?: number;
}

/** Parse the command line; throws UsageError with what is wrong. */
export function parseRunArgs(argv: string[]): RunArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        repetitions: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const only = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const name of only) {
    if (!BENCH_NAMES.includes(name)) throw new UsageError(`--only: unknown benchmark '${name}'; choose from ${BENCH_NAMES.join(', ')}`);
  }
  let repetitions: number | undefined;
  if (values.repetitions !== undefined) {
    repetitions = Number(values.repetitions);
    if (!Number.isInteger(repetitions) || repetitions < 1) throw new UsageError(`--repetitions must be an integer >= 1; got '${values.repetitions}'`);
  }
  return { only, quick: values.quick ?? false, ...(values.json ? { json: values.json } : {}), ...(repetitions ? { repetitions } : {}) };
}

/** The command that reproduces a run with these arguments. */
export function reproduceCommand(args: RunArgs): string {
  const parts = ['npm', 'run', 'bench'];
  const extra: string[] = [];
  if (args.only.length > 0) extra.push('--only', args.only.join(','));
  if (args.quick) extra.push('--quick');
  if (args.repetitions) extra.push('--repetitions', String(args.repetitions));
  if (args.json) extra.push('--json', args.json);
  return [...parts, ...(extra.length > 0 ? ['--', ...extra] : [])].join(' ');
}

async function main(argv: string[]): Promise<number> {
  let args: RunArgs | 'help';
  try {
    args = parseRunArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const names = args.only.length > 0 ? args.only : BENCH_NAMES;
  const env = runEnvironment();
  const started = performance.now();
  process.stdout.write(`b24-rules benchmarks${args.quick ? ' (--quick)' : ''}: ${formatEnvironment(env)}\n`);
  process.stdout.write('One run on a shared machine: read the ratios (variants measured side by side), not the absolute times.\n\n');
  const results: BenchResult[] = [];
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench) continue;
    process.stderr.write(`running ${name}...\n`);
    const t = performance.now();
    const result = await bench({ quick: args.quick, ...(args.repetitions ? { repetitions: args.repetitions } : {}), progress: (line) => process.stderr.write(`${line}\n`) });
    results.push(result);
    process.stdout.write(`${formatResult(result).join('\n')}\n  (${((performance.now() - t) / 1000).toFixed(1)} s)\n\n`);
  }
  const totalSec = (performance.now() - started) / 1000;
  if (args.json) {
    const file = resolve(args.json);
    writeFileSync(file, `${JSON.stringify({ environment: env, command: reproduceCommand(args), quick: args.quick, totalSeconds: totalSec, results }, null, 2)}\n`);
    process.stdout.write(`results written to ${file}\n`);
  }
  process.stdout.write(`total ${totalSec.toFixed(1)} s\nreproduce: ${reproduceCommand(args)}\n`);
  return 0;
}

const code = await main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
});
process.exitCode = code;
