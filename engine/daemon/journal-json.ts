/**
 * The journal's JSON form: what `rules runs`, `rules trace`, `rules dlq`
 * print with `--format json`, and what the web console's `/api/...` endpoints
 * answer. One builder per document, so the CLI and the console cannot drift
 * apart. Everything passes through `redactValue`.
 */
import { redactValue } from '../redact.js';
import type { DlqEntry, EffectRecord, RunRecord, RunSummary, TimerRecord } from '../store/index.js';

/** `rules runs --format json`: the runs' small columns, newest first. */
export function runsJson(runs: RunSummary[]): unknown {
  return redactValue(runs);
}

/** `rules runs --waiting --format json`: each run with the pending timer of a delayed one. */
export function waitingJson(runs: RunSummary[], timerOf: (runId: number) => TimerRecord | undefined): unknown {
  return redactValue(runs.map((r) => ({ ...r, timer: r.status === 'delayed' ? (timerOf(r.id) ?? null) : null })));
}

/** `rules trace ID --format json`: the run (its whole trace, without its facts) and its calls (the ledger rows). */
export function traceJson(run: RunRecord, calls: EffectRecord[]): unknown {
  const { facts: _facts, ...rest } = run;
  return redactValue({ run: rest, calls });
}

/** `rules dlq list --format json`. */
export function dlqListJson(entries: DlqEntry[]): unknown {
  return redactValue(entries);
}

/** `rules dlq show ID --format json`: the entry and its run (without facts), or null. */
export function dlqEntryJson(entry: DlqEntry, run: RunRecord | undefined): unknown {
  return redactValue({ entry, run: run ? { ...run, facts: undefined } : null });
}

/** `rules dlq retry --format json`: the entries requeued. */
export function dlqRetriedJson(ids: number[]): { retried: number[] } {
  return { retried: ids };
}

/** `rules dlq drop --format json`: the entries dropped. */
export function dlqDroppedJson(ids: number[]): { dropped: number[] } {
  return { dropped: ids };
}

/** One JSON document as the CLI prints it: indented by 2, one trailing newline. */
export function printJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
