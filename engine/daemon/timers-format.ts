/** Text for `rules timers list` and `rules runs --waiting` (everything printed passes through redactValue). */
import { redactValue } from '../redact.js';
import type { RunSummary, TimerRecord } from '../store/index.js';
import { table } from './journal-format.js';

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function oneLine(text: string, max = 60): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** What a timer waits for, in a few words: `delay 2h of office hours`, `for: STAGE_ID ...`. */
export function timerWhat(t: TimerRecord): string {
  const p = t.payload;
  if (t.kind === 'delay') return `delay ${typeof p.what === 'string' ? p.what : ''}${p.recheck === true ? ', then recheck' : ''}`.trim();
  if (t.kind === 'for') {
    const changes = (p.changes ?? {}) as Record<string, { to?: unknown }>;
    const state = Object.entries(changes).map(([f, c]) => `${f}=${JSON.stringify(c.to ?? null)}`).join(', ');
    return `for: ${state || 'state'} held`;
  }
  if (t.kind === 'wait_for') return `wait_for ${typeof p.what === 'string' ? p.what : (t.event ?? '')}`;
  return t.kind;
}

/** `rules timers list` output. */
export function formatTimers(timers: TimerRecord[]): string {
  if (timers.length === 0) return 'No timers.\n';
  return table(
    ['TIMER', 'KIND', 'RULE', 'RECORD', 'RUN', 'DUE', 'STATE', 'WAITS FOR / NOTE'],
    timers.map((t) => [String(t.id), t.kind, t.ruleId, t.recordKey || '-', t.runId === null ? '-' : String(t.runId), iso(t.dueAt), t.state, oneLine(String(redactValue(t.state === 'pending' ? timerWhat(t) : (t.note ?? timerWhat(t)))))]),
  );
}

/** `rules runs --waiting` output: each run not final and not working, with what it waits for and until when. */
export function formatWaiting(runs: RunSummary[], timerOf: (runId: number) => TimerRecord | undefined): string {
  if (runs.length === 0) return 'No run is waiting.\n';
  return table(
    ['RUN', 'RULE', 'STATUS', 'RECORD', 'UNTIL', 'WAITS FOR'],
    runs.map((r) => {
      const t = r.status === 'delayed' ? timerOf(r.id) : undefined;
      const what = t ? `timer ${t.id}: ${timerWhat(t)}` : r.status === 'waiting' ? `a retry${r.error ? ` (${oneLine(String(redactValue(r.error)), 50)})` : ''}` : r.status === 'delayed' ? 'a timer' : 'its start (held by its concurrency key, or a read to retry)';
      return [String(r.id), r.ruleId, r.status, r.recordKey || '-', iso(t ? t.dueAt : r.nextAttemptAt || null), what];
    }),
  );
}
