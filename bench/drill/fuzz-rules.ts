/**
 * The rule-file fuzzer: mutated copies of valid rule files, written to disk
 * and put through `rules validate --format json`, a hundred files a process.
 * What each run printed is kept for the checks (checkRuleFuzz). A run that
 * crashed is repeated file by file, so the report names the file that did it.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES_DIR } from '../../engine/paths.js';
import { validateCrashed } from './check-rule-fuzz.js';
import { runRules, type CliRun } from './cli.js';
import { mutateRuleFile } from './mutate-rules.js';
import { Random } from './random.js';
import { DRILL_RULE_FILES } from './rules.js';

/** One `rules validate` process and the files it was given. */
export interface ValidateObservation {
  files: string[];
  run: CliRun;
}

const CHUNK = 100;
const TIMEOUT_MS = 120_000;

/** The valid files mutations start from: the scenario library and the drill's rules. */
export function seedRuleFiles(): Array<{ name: string; text: string }> {
  const scenarios = readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(RULES_DIR, f), 'utf8') }));
  return [...scenarios, ...Object.entries(DRILL_RULE_FILES).map(([name, text]) => ({ name, text }))];
}

/** Write `count` mutated files under `dir` and validate them; resolves with every validate run. */
export async function fuzzRuleFiles(options: { dir: string; count: number; seed: number; env: Record<string, string>; progress?: (line: string) => void; stopped?: () => boolean }): Promise<ValidateObservation[]> {
  const rng = new Random(options.seed);
  const seeds = seedRuleFiles();
  const observations: ValidateObservation[] = [];
  for (let start = 0; start < options.count; start += CHUNK) {
    if (options.stopped?.()) break;
    const chunkDir = join(options.dir, `chunk-${String(start / CHUNK).padStart(3, '0')}`);
    mkdirSync(chunkDir, { recursive: true });
    const files: string[] = [];
    for (let i = start; i < Math.min(options.count, start + CHUNK); i++) {
      const seed = rng.pick(seeds);
      const file = join(chunkDir, `${String(i).padStart(5, '0')}-${seed.name.replace(/\.yaml$/, '')}.yaml`);
      writeFileSync(file, mutateRuleFile(seed.text, String(i), rng));
      files.push(file);
    }
    const run = await runRules(['validate', '--format', 'json', chunkDir], { env: options.env, cwd: options.dir, timeoutMs: TIMEOUT_MS });
    if (!validateCrashed(run)) {
      observations.push({ files, run });
    } else {
      // Name the culprit: the same files one by one.
      for (const file of files) observations.push({ files: [file], run: await runRules(['validate', '--format', 'json', file], { env: options.env, cwd: options.dir, timeoutMs: TIMEOUT_MS }) });
    }
    options.progress?.(`rule fuzz: ${Math.min(options.count, start + CHUNK)}/${options.count} files validated`);
  }
  return observations;
}
