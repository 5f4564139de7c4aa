/**
 * Schedule source: one croner pattern (with its IANA time zone) per rule with
 * a `schedule` trigger. A due tick becomes the inbox item
 * `${ruleId}@${tickIso}`; the pipeline runs the rule (and its `foreach`).
 *
 * Time comes from the injected clock, and croner is used only to compute run
 * times (`nextRun`, `previousRuns`), never to own timers, so tests drive time
 * without sleeping. After downtime a missed schedule fires once, for its most
 * recent missed tick, not once per missed tick. The last fire of each rule is
 * kept in the state store; a crash between storing the tick and recording the
 * fire repeats the same key, which the inbox ignores.
 *
 * Catch-up is decided from the source's own bookkeeping, never from how late
 * a timer fired: a tick that fell due while this source was watching the rule
 * (since its previous check in this run) is the running loop's to fire, however
 * late its timer was, so a stalled event loop fires each such tick once, not as
 * caught up. Ticks that fell due while nobody watched (before the run's first
 * check of the rule: downtime, a rule switched back on; or across a gap between
 * checks longer than the loop ever waits: the process was suspended or the clock
 * jumped) are caught up: one fire, for the latest of them, `caughtUp: true`.
 */
import { Cron } from 'croner';
import { B24RulesError } from '../errors.js';
import type { CompiledRule } from '../rules/index.js';
import { realTimers } from '../clock.js';
import { startSource, type SourcePlugin } from './plugin.js';
import { recordAdded, retireFinished, type ScheduleBook, type Source, type SourceContext } from './types.js';

export interface ScheduleConfig {
  rules: CompiledRule[];
  book: ScheduleBook;
  /** Longest single wait before re-checking (guards against clock jumps). @default 30000 */
  maxWaitMs?: number;
}

export const DEFAULTS = {
  /** @default 30 s, as croner itself never waits longer at a time */
  maxWaitMs: 30_000,
};

export class ScheduleError extends B24RulesError {
  constructor(
    message: string,
    readonly ruleId: string,
    options: { cause?: unknown } = {},
  ) {
    super('SCHEDULE_INVALID', message, { kind: 'user', ...options });
  }
}

interface Job {
  rule: CompiledRule;
  cron: Cron;
}

/** One fire decided by `check()`. */
export interface ScheduleFire {
  ruleId: string;
  at: number;
  /** True when the tick fell due while the source was not watching (downtime) and is being caught up. */
  caughtUp: boolean;
}

export interface ScheduleSource extends Source {
  /** Store every due tick as of the clock's now; returns what fired. The timer loop calls this; tests call it directly. */
  check(): ScheduleFire[];
  /** Next tick time over all rules (ms), or null when no rule has one. */
  nextDue(): number | null;
  /** Compile a rule set's schedules (throws ScheduleError on a bad cron) and return what swaps them in. */
  prepareRules(rules: CompiledRule[]): () => void;
  setRules(rules: CompiledRule[]): void;
  acknowledge(): Promise<void>;
}

function compile(rules: CompiledRule[]): Job[] {
  const jobs: Job[] = [];
  for (const rule of rules) {
    if (!rule.enabled || rule.trigger.kind !== 'schedule') continue;
    try {
      jobs.push({ rule, cron: new Cron(rule.trigger.cron, { timezone: rule.trigger.timezone || 'UTC', paused: true }) });
    } catch (err) {
      throw new ScheduleError(`rule ${rule.id}: schedule '${rule.trigger.cron}' (${rule.trigger.timezone}) is invalid: ${(err as Error).message}`, rule.id, { cause: err });
    }
  }
  return jobs;
}

export function createScheduleSource(config: ScheduleConfig, ctx: SourceContext): ScheduleSource {
  const timers = ctx.timers ?? realTimers;
  const maxWait = config.maxWaitMs ?? DEFAULTS.maxWaitMs;
  let jobs = compile(config.rules);
  let timer: unknown = null;
  let running = false;
  // When this run last checked each rule: ticks due since then were watched. Kept in memory only, so a new run
  // (a restart) starts unwatched and catches up what fell due while it was down.
  const watchedAt = new Map<string, number>();

  function fire(rule: CompiledRule, at: number, now: number, caughtUp: boolean): ScheduleFire {
    const iso = new Date(at).toISOString();
    const result = ctx.inbox.add([
      {
        source: 'schedule',
        key: `${rule.id}@${iso}`,
        event: null,
        ruleId: rule.id,
        payload: { schedule: { at: iso, cron: rule.trigger.kind === 'schedule' ? rule.trigger.cron : '', timezone: rule.trigger.kind === 'schedule' ? rule.trigger.timezone : 'UTC', caughtUp } },
        receivedAt: now,
      },
    ]);
    config.book.setLastFire(rule.id, at);
    recordAdded(ctx, 'schedule', result);
    return { ruleId: rule.id, at, caughtUp };
  }

  function check(): ScheduleFire[] {
    const now = ctx.clock.now();
    const fires: ScheduleFire[] = [];
    for (const { rule, cron } of jobs) {
      const seen = watchedAt.get(rule.id);
      watchedAt.set(rule.id, now);
      const last = config.book.getLastFire(rule.id);
      if (last === null) {
        // First sight of this rule: start counting from now, never fire for the past.
        config.book.setLastFire(rule.id, now);
        continue;
      }
      const next = cron.nextRun(new Date(last));
      if (!next || next.getTime() > now) continue;
      // The loop never waits longer than maxWait between checks; a longer gap means nobody was watching.
      const watched = seen !== undefined && now - seen <= maxWait * 2;
      if (watched) {
        // Each tick that fell due since the last check, in order; a late timer makes them late, not missed.
        for (let due: Date | null = next; due && due.getTime() <= now; due = cron.nextRun(due)) {
          fires.push(fire(rule, due.getTime(), now, false));
          ctx.logger.debug({ rule: rule.id, at: due.toISOString() }, 'schedule tick');
        }
        continue;
      }
      const latest = cron.previousRuns(1, new Date(now + 1))[0] ?? next;
      const at = Math.max(latest.getTime(), next.getTime());
      fires.push(fire(rule, at, now, true));
      ctx.logger.info({ rule: rule.id, at: new Date(at).toISOString(), missedSince: next.toISOString() }, `schedule ${rule.id}: missed tick(s) since ${next.toISOString()}, catching up once`);
    }
    return fires;
  }

  function nextDue(): number | null {
    const now = ctx.clock.now();
    let min: number | null = null;
    for (const { rule, cron } of jobs) {
      const last = config.book.getLastFire(rule.id) ?? now;
      const next = cron.nextRun(new Date(Math.max(last, now - 1)));
      if (next && (min === null || next.getTime() < min)) min = next.getTime();
    }
    return min;
  }

  function arm(): void {
    if (!running) return;
    if (timer !== null) timers.clearTimeout(timer);
    const due = nextDue();
    const wait = due === null ? maxWait : Math.min(maxWait, Math.max(0, due - ctx.clock.now()));
    timer = timers.setTimeout(() => {
      timer = null;
      try {
        check();
      } catch (err) {
        ctx.logger.error({ err }, 'schedule check failed; retrying at the next wake-up');
      }
      arm();
    }, wait);
  }

  function prepareRules(rules: CompiledRule[]): () => void {
    const next = compile(rules);
    return () => {
      jobs = next;
      // A rule that left the set is not watched meanwhile: if it comes back, it catches up.
      const ids = new Set(jobs.map((j) => j.rule.id));
      for (const id of [...watchedAt.keys()]) if (!ids.has(id)) watchedAt.delete(id);
      arm();
    };
  }

  return {
    kind: 'schedule',
    check,
    nextDue,
    prepareRules,
    setRules(rules) {
      prepareRules(rules)();
    },
    async start() {
      running = true;
      watchedAt.clear();
      check();
      arm();
    },
    async stop() {
      running = false;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
    async acknowledge() {
      retireFinished(ctx, 'schedule');
    },
  };
}

/** The schedule plug-in: always attached; a reloaded rule set with a bad cron is refused as a whole. */
export const schedulePlugin: SourcePlugin = {
  kind: 'schedule',
  triggers: ['schedule'],
  applies: () => true,
  async attach(ctx) {
    const source = await startSource(createScheduleSource({ rules: ctx.rules, book: ctx.schedules }, ctx));
    return {
      kind: source.kind,
      detach: () => source.stop(),
      acknowledge: () => source.acknowledge(),
      rulesChanged: (rules) => source.prepareRules(rules),
    };
  },
};
