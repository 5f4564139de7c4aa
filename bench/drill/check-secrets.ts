/**
 * The secrets invariant: no value of any credential the drill used (the app's
 * client secret and application token, every access and refresh token the
 * portal issued, the webhook code, the rules' webhook secrets) appears in any
 * line any process printed. A leak is reported by the secret's name and where
 * it was, with every secret in the quoted line masked: the report itself must
 * not leak.
 */
import { invariant, type Invariant } from './invariant.js';

/** Lines one process printed (or one answer it sent), by where they came from. */
export interface LogSource {
  source: string;
  lines: readonly string[];
}

/** Replace every secret value in `text` by its name. */
export function maskSecrets(text: string, secrets: ReadonlyArray<{ name: string; value: string }>): string {
  let out = text;
  for (const s of secrets) if (out.includes(s.value)) out = out.split(s.value).join(`[${s.name}]`);
  return out;
}

/** Scan every line for every secret. */
export function checkSecrets(sources: readonly LogSource[], secrets: ReadonlyArray<{ name: string; value: string }>): Invariant & { leaks: number; lines: number } {
  const problems: string[] = [];
  let lines = 0;
  let leaks = 0;
  for (const src of sources) {
    src.lines.forEach((line, i) => {
      lines++;
      for (const s of secrets) {
        if (!line.includes(s.value)) continue;
        leaks++;
        problems.push(`${src.source} line ${i + 1}: ${s.name} in: ${maskSecrets(line, secrets).slice(0, 300)}`);
      }
    });
  }
  return { ...invariant('secrets', `${leaks} leaks of ${secrets.length} secret values in ${lines} lines of output`, problems), leaks, lines };
}
