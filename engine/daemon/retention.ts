/**
 * `rules run --retention`: how long finished work stays in the state file, by
 * outcome (StateStore.pruneByOutcome), so the traces of failures outlive the
 * routine skips that outnumber them. Off unless asked for: the state file
 * keeps everything, as before.
 */
import type { Logger } from '../logger.js';
import { UsageError } from '../errors.js';
import { DEFAULT_RETENTION, type RetentionPolicy, type StateStore } from '../store/index.js';

export const DEFAULTS = {
  /** @default 1 h between prunes */
  everyMs: 3600_000,
  /** @default 60 s after start, the first */
  firstAfterMs: 60_000,
};

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3600_000, d: 86_400_000 };

/** `default`, or `skipped=1d,done=7d,failed=30d,dead=30d` (any of them; the others keep DEFAULT_RETENTION's). */
export function parseRetention(spec: string): RetentionPolicy {
  const policy: RetentionPolicy = { ...DEFAULT_RETENTION };
  if (spec.trim() === 'default') return policy;
  for (const part of spec.split(',')) {
    const m = /^\s*(done|skipped|failed|dead)\s*=\s*(\d+)\s*([mhd])\s*$/.exec(part);
    if (!m) throw new UsageError(`--retention takes 'default' or outcome=AGE pairs such as skipped=1d,done=7d,failed=30d,dead=30d (AGE in m, h or d); got '${part.trim()}'`);
    policy[m[1] as keyof RetentionPolicy] = Number(m[2]) * (UNIT_MS[m[3] as string] as number);
  }
  return policy;
}

/** Prune by outcome now and then while the daemon runs; returns the stop function. */
export function startRetention(store: () => StateStore, policy: RetentionPolicy, logger: Logger): () => void {
  const run = () => {
    try {
      const items = store().pruneByOutcome(policy);
      if (items > 0) logger.info({ items }, `retention: ${items} finished item(s) pruned with their runs`);
    } catch (err) {
      logger.warn({ err }, 'retention: pruning failed; trying again later');
    }
  };
  let every: ReturnType<typeof setInterval> | undefined;
  const first = setTimeout(() => {
    run();
    every = setInterval(run, DEFAULTS.everyMs);
    every.unref();
  }, DEFAULTS.firstAfterMs);
  first.unref();
  return () => {
    clearTimeout(first);
    if (every) clearInterval(every);
  };
}
