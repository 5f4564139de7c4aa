/**
 * Watches rule files and directories (fs.watch) and calls back once per burst
 * of changes (debounced): editors write a file in several steps, and a
 * `git pull` touches many files at once.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { isCalendarFile } from '../rules/index.js';

export interface RuleWatcherOptions {
  paths: string[];
  onChange: (files: string[]) => void;
  logger: Logger;
  /** Quiet time before calling back (ms). @default 300 */
  debounceMs?: number;
}

export const DEFAULTS = {
  /** @default 300 ms */
  debounceMs: 300,
};

const RULE_FILE = /\.ya?ml$/i;

/** Start watching; returns a function that stops. Paths that do not exist are skipped with a warning. */
export function watchRules(options: RuleWatcherOptions): () => void {
  const debounce = options.debounceMs ?? DEFAULTS.debounceMs;
  const watchers: FSWatcher[] = [];
  const changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const fire = (file: string) => {
    changed.add(file);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      const files = [...changed];
      changed.clear();
      options.onChange(files);
    }, debounce);
  };

  for (const p of options.paths) {
    const full = resolve(p);
    let isDir: boolean;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      options.logger.warn({ path: full }, 'rule path does not exist; not watched');
      continue;
    }
    const dir = isDir ? full : dirname(full);
    const only = isDir ? null : basename(full);
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        const file = name ? String(name) : '';
        // A single rule file also sees its folder's calendars.yaml.
        if (only !== null ? file === only || isCalendarFile(file) : RULE_FILE.test(file) || file === '') fire(resolve(dir, file));
      });
      w.on('error', (err) => options.logger.warn({ err, path: dir }, 'watching rule files failed; reload with SIGHUP'));
      watchers.push(w);
    } catch (err) {
      options.logger.warn({ err, path: dir }, 'cannot watch rule files; reload with SIGHUP');
    }
  }

  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
