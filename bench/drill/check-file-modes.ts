/**
 * The file-modes invariant: the state file, its -wal and -shm (the WAL holds
 * stored payloads: people's e-mails and phones) and the token file are
 * readable by their owner only, from the first open, under umask 022.
 */
import { invariant, type Invariant } from './invariant.js';

/** One look at a file: its mode (permission bits), or null when it did not exist then. */
export interface ModeSample {
  file: string;
  /** When the drill looked (e.g. "daemon #0 started"). */
  when: string;
  mode: number | null;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Check every sample; a file group or others may read or write is a problem. */
export function checkFileModes(samples: readonly ModeSample[]): Invariant {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const s of samples) {
    const mode = s.mode;
    if (mode === null) continue;
    // The detail shows the loosest mode each file had.
    if ((mode & 0o077) >= ((seen.get(s.file) ?? 0) & 0o077)) seen.set(s.file, mode);
    if ((mode & 0o077) !== 0) {
      const head = `${s.file} is ${octal(mode)}`;
      if (!problems.some((p) => p.startsWith(head))) problems.push(`${head} (${s.when}); owner-only is 0600`);
    }
  }
  const detail = [...seen].map(([f, m]) => `${f} ${octal(m)}`).join(', ') || 'no file seen';
  return invariant('file-modes', `${detail} (umask 022)`, problems);
}
