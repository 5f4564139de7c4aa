/**
 * Human-readable text for the journal: the run list (`rules runs`), one run's
 * trace (`rules trace`) and DLQ entries (`rules dlq`). Everything printed
 * passes through `redactValue`, so a secret that reached a trace is masked.
 */
import { stringify } from 'yaml';
import { redactValue } from '../redact.js';
import type { DlqEntry, EffectRecord, RunRecord, RunSummary } from '../store/index.js';

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function duration(run: RunSummary): string {
  if (run.finishedAt === null) return '-';
  const ms = run.finishedAt - run.createdAt;
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function oneLine(text: string | null, max = 60): string {
  if (!text) return '';
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A fixed-width table; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `rules runs` output: the last column is the error of a failed run, else why it ended as it did (a skip's reason); a shadow run's status says so. */
export function formatRuns(runs: RunSummary[]): string {
  if (runs.length === 0) return 'No runs recorded.\n';
  return table(
    ['RUN', 'RULE', 'STATUS', 'TRIGGER', 'RECORD', 'STARTED', 'TOOK', 'ERROR / REASON'],
    runs.map((r) => [String(r.id), r.ruleId, r.mode === 'shadow' ? `${r.status} (shadow)` : r.status, oneLine(r.triggerKey, 40), r.recordKey || '-', iso(r.createdAt), duration(r), oneLine(String(redactValue(r.error ?? r.reason ?? '')))]),
  );
}

function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

export interface TraceFormatOptions {
  /** Print the trace document as stored: null fields, the diff of a record seen for the first time, the trace's copy of the calls. */
  full?: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A loaded record (or a list of them) without its null fields; `hidden` counts what was left out. */
function withoutNulls(value: unknown, hidden: { fields: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v, hidden));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null) hidden.fields++;
    else out[k] = v;
  }
  return out;
}

/** A diff in which no field has a `from` is a record seen for the first time: every field again, as `to`. */
function isFirstSight(changes: unknown): boolean {
  if (!isPlainObject(changes)) return false;
  const entries = Object.values(changes);
  return entries.length > 0 && entries.every((c) => isPlainObject(c) && 'to' in c && !('from' in c));
}

/**
 * The trace as `rules trace` shows it: each loaded record once and without its
 * null fields, no diff that only repeats a record seen for the first time, and
 * no second copy of the calls (the ledger rows under "Calls" are the same).
 */
function compactTrace(trace: Record<string, unknown>): { trace: Record<string, unknown>; left: string[] } {
  const out = { ...trace };
  const left: string[] = [];
  const hidden = { fields: 0 };
  if (isPlainObject(out.loaded)) out.loaded = Object.fromEntries(Object.entries(out.loaded).map(([k, v]) => [k, withoutNulls(v, hidden)]));
  if (hidden.fields > 0) left.push(`${hidden.fields} null field${hidden.fields === 1 ? '' : 's'}`);
  if (isFirstSight(out.changes)) {
    out.changes = { note: 'no snapshot yet: every field counts as changed' };
    left.push('the first-sight diff');
  }
  if ('effects' in out) {
    delete out.effects;
    left.push("the trace's copy of the calls");
  }
  return { trace: out, left };
}

/** The executor's note on a call sent in one command with other runs' updates of the same record (pipeline/merge-updates.ts). */
function mergeLine(note: unknown): string | undefined {
  if (!isPlainObject(note) || !Array.isArray(note.with)) return undefined;
  const who = (w: unknown) => (isPlainObject(w) ? `${String(w.rule ?? 'a rule')} (run ${String(w.run)})` : '?');
  const over = Array.isArray(note.overridden) ? note.overridden.map((o) => (isPlainObject(o) ? `${String(o.field)} by ${who(o)}` : '?')) : [];
  return `merged: one command with ${note.with.map(who).join(', ')}${over.length ? `; overridden: ${over.join(', ')}` : ''}`;
}

/** `rules trace RUN` output: header, the trace document, then the effect ledger rows of the run. */
export function formatTrace(run: RunRecord, effects: EffectRecord[], options: TraceFormatOptions = {}): string {
  const out: string[] = [];
  out.push(`Run ${run.id}: rule ${run.ruleId} (hash ${run.ruleHash.slice(0, 12)})`);
  out.push(`  status:   ${run.status}${run.error ? ` — ${String(redactValue(run.error))}` : ''}`);
  if (run.mode === 'shadow') out.push('  mode:     shadow (its calls were journaled, never sent)');
  out.push(`  trigger:  ${run.triggerKey}`);
  if (run.recordKey) out.push(`  record:   ${run.recordKey}`);
  out.push(`  inbox:    item ${run.itemId}`);
  out.push(`  started:  ${iso(run.createdAt)}   finished: ${iso(run.finishedAt)}   took: ${duration(run)}   attempts: ${run.attempts}`);
  if (run.dedupeKey) out.push(`  dedupe:   ${run.dedupeKey}`);
  if (run.concurrencyKey) out.push(`  concurrency key: ${run.concurrencyKey}`);
  const stored = redactValue(run.trace ?? {});
  const { trace, left } = options.full ? { trace: stored, left: [] } : compactTrace(stored);
  if (Object.keys(trace).length > 0) {
    out.push('', 'Trace:');
    out.push(indent(stringify(trace, { lineWidth: 120 })));
  }
  out.push('', effects.length === 0 ? 'Calls: none' : `Calls (${effects.length}):`);
  for (const e of effects) {
    const mark = e.state === 'done' ? 'ok ' : e.state === 'failed' ? 'ERR' : e.state === 'sent' ? '?? ' : e.state === 'shadow' ? 'sh ' : '.. ';
    out.push(`  ${mark} #${e.seq} action ${e.actionIndex} ${e.kind}: ${e.method}  [${e.state}${e.attempts > 1 ? `, ${e.attempts} attempts` : ''}]`);
    out.push(indent(`params: ${JSON.stringify(redactValue(e.params))}`, '        '));
    if (e.state === 'done' && e.result !== null && e.result !== undefined) out.push(indent(`result: ${oneLine(JSON.stringify(redactValue(e.result)), 200)}`, '        '));
    if (e.state === 'shadow') out.push(indent(`not sent (shadow)${e.asName ? `; ${e.asName} reads ${JSON.stringify(e.result)}` : ''}`, '        '));
    if (e.error) out.push(indent(`error: ${String(redactValue(e.error))}`, '        '));
    const merged = mergeLine(e.meta?.merge);
    if (merged) out.push(indent(merged, '        '));
  }
  if (left.length > 0) out.push('', `Left out: ${left.join(', ')}; rules trace ${run.id} --full shows them.`);
  return out.join('\n') + '\n';
}

/** `rules dlq list` output. */
export function formatDlqList(entries: DlqEntry[]): string {
  if (entries.length === 0) return 'The dead-letter queue is empty.\n';
  return table(
    ['ID', 'RULE', 'RUN', 'ITEM', 'SINCE', 'ERROR'],
    entries.map((e) => [String(e.id), e.ruleId ?? '-', e.runId === null ? '-' : String(e.runId), String(e.itemId), iso(e.createdAt), oneLine(String(redactValue(e.error)), 70)]),
  );
}

/** `rules dlq show ID` output. */
export function formatDlqEntry(entry: DlqEntry, run: RunRecord | undefined): string {
  const out = [
    `DLQ entry ${entry.id}`,
    `  rule:   ${entry.ruleId ?? '-'}`,
    `  run:    ${entry.runId ?? '-'}${run ? ` (${run.status}, trigger ${run.triggerKey})` : ''}`,
    `  item:   ${entry.itemId}`,
    `  since:  ${iso(entry.createdAt)}`,
    `  error:  ${String(redactValue(entry.error))}`,
    '',
    'Payload:',
    indent(stringify(redactValue(entry.payload), { lineWidth: 120 })),
    '',
    `Retry with: rules dlq retry ${entry.id}    Drop with: rules dlq drop ${entry.id}`,
  ];
  if (entry.runId !== null) out.push(`Trace:      rules trace ${entry.runId}`);
  return out.join('\n') + '\n';
}
