/**
 * The daemon's run log: one log line and one `rule_runs_total` sample per run
 * that reached a final state, however long after its creation it finished
 * (retries, backoff, DLQ retries), following the store's finish order. It reads
 * the runs' small columns only (never facts or traces), and the item of a run
 * that acted (its event's age). Durations go to the histograms in seconds.
 * Skipped runs log at
 * debug: on a busy portal they are most of the runs, and a line each was most
 * of the daemon's output (and, with a slow reader on stdout, its waits).
 */
import type { Logger } from '../logger.js';
import type { DaemonMetrics } from '../status/index.js';
import type { StateStore } from '../store/index.js';
import { eventTime } from './event-time.js';

/** Logs and counts finished runs from a cursor over the store's finish numbers. */
export class RunLog {
  // In memory only: a (re)started daemon starts from the store's latest finish, so runs that
  // finished while it was down (or in a previous process, which logged and counted them itself)
  // are not logged or counted again; `rule_runs_total` is a per-process counter, as Prometheus counters are.
  #cursor = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: DaemonMetrics,
    /** Finished runs read per query. */
    private readonly page: number,
  ) {}

  /** Start after every run already finished in `store`. */
  startAt(store: StateStore): void {
    this.#cursor = store.runs.finishedCursor();
  }

  /** Log and count every run finished since the last call. */
  logFinished(store: StateStore): void {
    for (;;) {
      const page = store.runs.finishedSince(this.#cursor, this.page);
      this.#cursor = page.cursor;
      for (const run of page.runs) {
        this.metrics.ruleRuns.inc({ rule: run.ruleId, outcome: run.status });
        if (run.mode === 'shadow') this.#shadow(store, run);
        this.#observe(store, run);
        const line = { rule: run.ruleId, run: run.id, outcome: run.status, ...(run.mode === 'shadow' ? { mode: run.mode } : {}), trigger: run.triggerKey, record: run.recordKey || undefined, ms: (run.finishedAt ?? run.updatedAt) - run.createdAt, reason: run.reason ?? undefined };
        if (run.status === 'dead' || run.status === 'failed') this.logger.warn({ ...line, error: run.error }, `rule ${run.ruleId} ${run.status}: ${run.error ?? ''}`);
        // Most runs of a busy rule set do not act (several rules on every event): at debug, with their reason; `rules runs` keeps them.
        else if (run.status === 'skipped') this.logger.debug(line, `rule ${run.ruleId} skipped`);
        else this.logger.info(line, `rule ${run.ruleId} ${run.status}`);
      }
      if (page.runs.length < this.page) return;
    }
  }

  /** A shadow run's calls: journaled, never sent (the series starts at 0 with the rule's first shadow run). */
  #shadow(store: StateStore, run: { id: number; ruleId: string }): void {
    this.metrics.shadowCalls.inc({ rule: run.ruleId }, store.effects.shadowOfRun(run.id));
  }

  /** A run that did something: its duration; one that acted: the age of its event at the end. */
  #observe(store: StateStore, run: { itemId: number; ruleId: string; status: string; createdAt: number; finishedAt: number | null; updatedAt: number }): void {
    if (run.status === 'skipped') return;
    const end = run.finishedAt ?? run.updatedAt;
    this.metrics.ruleRunDuration.observe(Math.max(0, end - run.createdAt) / 1000, { rule: run.ruleId });
    if (run.status !== 'done') return;
    const item = store.inbox.get(run.itemId);
    if (item) this.metrics.eventAge.observe(Math.max(0, end - eventTime(item)) / 1000, { source: item.source });
  }
}
