/**
 * `npm run bench [-- --only NAME[,NAME]] [--quick] [--json FILE]`: run the
 * benchmarks, print a table per benchmark with the ratios between variants
 * measured side by side, and the command that reproduces the run.
 */
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../engine/paths.js';
import { BenchUsageError, parseRunArgs, reproduceCommand, resultsFile, USAGE, type RunArgs } from './args.js';
import { BENCHES, BENCH_NAMES } from './benches.js';
import { formatEnvironment, formatResult, runEnvironment } from './report.js';
import { commitInfo, formatResultsMarkdown } from './results-md.js';
import type { BenchResult } from './types.js';

async function main(argv: string[]): Promise<number> {
  let args: RunArgs | 'help';
  try {
    args = parseRunArgs(argv);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const names = args.only.length > 0 ? args.only : BENCH_NAMES;
  const env = runEnvironment();
  const commit = commitInfo();
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
  const markdown = resultsFile(args);
  if (markdown) {
    const file = resolve(args.results ? process.cwd() : PACKAGE_ROOT, markdown);
    const loadAverageEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    writeFileSync(file, formatResultsMarkdown({ command: reproduceCommand(args), environment: env, commit, loadAverageEnd, totalSeconds: totalSec, results }));
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
