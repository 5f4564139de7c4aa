/**
 * The rule-fuzz invariant: `rules validate` never crashes on a mutated file
 * and always says why it refuses one. A crash is a signal, an exit code other
 * than 0 or 1, output that is not the JSON document, a stack trace, a run past
 * its time limit, or an INTERNAL diagnostic (the loader caught its own bug).
 * A refused file must carry at least one error diagnostic with a code, a
 * message and a position; exit 1 exactly when some file has an error.
 */
import type { CliRun } from './cli.js';
import { invariant, type Invariant } from './invariant.js';

interface ValidateDoc {
  diagnostics: Array<{ severity?: unknown; code?: unknown; message?: unknown; file?: unknown; line?: unknown; col?: unknown }>;
  files: Array<{ file?: unknown; ok?: unknown }>;
}

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** Whether a validate run crashed as a whole (then the fuzzer repeats its files one by one). */
export function validateCrashed(run: CliRun): string | null {
  if (run.timedOut) return `still running after ${Math.round(run.ms / 1000)} s (killed)`;
  if (run.signal) return `killed by ${run.signal}`;
  if (run.code !== 0 && run.code !== 1) return `exit code ${String(run.code)}: ${firstLine(run.stderr)}`;
  if (STACK.test(run.stderr) || STACK.test(run.stdout)) return `a stack trace in its output: ${firstLine(run.stderr || run.stdout)}`;
  if (parseDoc(run.stdout) === null) return `its output is not the JSON document: ${firstLine(run.stdout || run.stderr)}`;
  return null;
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '(nothing)').slice(0, 200);
}

function parseDoc(stdout: string): ValidateDoc | null {
  try {
    const doc = JSON.parse(stdout) as Partial<ValidateDoc>;
    if (!Array.isArray(doc.diagnostics) || !Array.isArray(doc.files)) return null;
    return doc as ValidateDoc;
  } catch {
    return null;
  }
}

/** Check every validate run of the fuzzer. */
export function checkRuleFuzz(observations: ReadonlyArray<{ files: string[]; run: CliRun }>): Invariant & { crashes: number } {
  const problems: string[] = [];
  let files = 0;
  let refused = 0;
  let crashed = 0;
  for (const { files: given, run } of observations) {
    files += given.length;
    const crash = validateCrashed(run);
    if (crash) {
      crashed += given.length;
      problems.push(`${given.length === 1 ? given[0] : `${given.length} files`}: validate crashed: ${crash}`);
      continue;
    }
    const doc = parseDoc(run.stdout) as ValidateDoc;
    const errors = doc.diagnostics.filter((d) => d.severity === 'error');
    if ((run.code === 1) !== errors.length > 0) problems.push(`${given.join(', ')}: exit code ${String(run.code)} but ${errors.length} error diagnostics`);
    for (const d of doc.diagnostics) {
      if (d.code === 'INTERNAL') {
        crashed++;
        problems.push(`${String(d.file)}: the loader failed on its own (INTERNAL): ${String(d.message).slice(0, 200)}`);
      } else if (typeof d.code !== 'string' || d.code === '' || typeof d.message !== 'string' || d.message === '' || !(Number(d.line) >= 1) || !(Number(d.col) >= 1)) {
        problems.push(`${String(d.file)}: a diagnostic without a code, a message or a position: ${JSON.stringify(d).slice(0, 200)}`);
      }
    }
    const reported = new Map(doc.files.map((f) => [String(f.file), f.ok === true]));
    for (const file of given) {
      const ok = reported.get(file);
      if (ok === undefined) {
        problems.push(`${file}: not in validate's list of files`);
        continue;
      }
      if (ok) continue;
      refused++;
      if (!errors.some((d) => d.file === file)) problems.push(`${file}: refused without an error diagnostic`);
    }
  }
  return { ...invariant('rule-fuzz', `${files} mutated rule files through 'rules validate': ${refused} refused with a diagnostic, ${files - refused - crashed} valid, ${crashed} crashes`, problems), crashes: crashed };
}
