/**
 * Stage 6, execute: sends the pending effects of the tick. REST calls go as
 * `batch` requests (≤50 commands, halt=0) through the client (and its
 * limiter), in each run's order, updates of the same record by several runs
 * merged into one command (merge-updates.ts); the planner only puts calls
 * whose inputs are known into one round, so no command depends on another of
 * its batch and one failing command never stops the others. External `http`
 * requests go one by one through the fetch-like function, and so do the calls
 * the client sends through REST 3.0 (execute-v3.ts). Each effect is
 * marked `sent` in a committed transaction before its request leaves, and
 * `done`/`failed` when the answer is back (every member of a merged command
 * with that command's answer).
 */
import { chunk, PORTAL_LIMIT_CODES, provedNotRun, type B24ClientApi, type BatchCommand, type BatchItemResult } from '../client/index.js';
import { namedRefusal } from '../actions/index.js';
import { B24RulesError } from '../errors.js';
import { snapshotEntity, type RecordCache } from '../facts/index.js';
import type { Logger } from '../logger.js';
import type { EffectRecord, StateStore } from '../store/index.js';
import { executeV3, goesV3 } from './execute-v3.js';
import { commandsOf, mergeNote, type OutgoingCommand, type SendableEffect } from './merge-updates.js';
import type { EngineStats, FetchLike } from './types.js';

/** Longest http answer body kept (characters). */
export const MAX_BODY_CHARS = 262_144;

export interface ExecutorDeps {
  store: StateStore;
  client: B24ClientApi;
  http?: FetchLike;
  logger: Logger;
  stats: EngineStats;
  httpConcurrency: number;
  /** Called inside the transaction that marks an effect done (snapshot merge, record cache). */
  onDone(effect: EffectRecord, result: unknown): void;
}

export interface ExecuteReport {
  calls: number;
  batches: number;
  httpRequests: number;
  /** A batch request failed as a whole; its effects stay `sent` (in doubt) unless the request surely never left. */
  transportError?: string;
}

/** The `onDone` of the daemon: a done update's fields merge into the record's snapshot and the tick's cache, so the engine's own change is not a change when the record comes back. */
export function mergeSnapshot(store: StateStore, records: RecordCache): (effect: EffectRecord) => void {
  return (e) => {
    const snap = e.meta?.snapshot as { entity: string; id: string; fields: Record<string, unknown>; entityTypeId?: number } | undefined;
    if (!snap) return;
    store.snapshots.merge(snapshotEntity(snap.entity, snap.entityTypeId), snap.id, snap.fields);
    records.merge(snap.entity, snap.id, snap.fields, snap.entityTypeId);
  };
}

export async function executeEffects(effects: SendableEffect[], deps: ExecutorDeps): Promise<ExecuteReport> {
  const report: ExecuteReport = { calls: 0, batches: 0, httpRequests: 0 };
  const rest = effects.filter((e) => e.method !== 'http');
  const http = effects.filter((e) => e.method === 'http');
  const v3 = rest.filter((e) => goesV3(deps.client, e));
  for (const batch of chunk(commandsOf(v3.length > 0 ? rest.filter((e) => !v3.includes(e)) : rest))) {
    const members = batch.flatMap((c) => c.effects);
    // Sent through REST 1 now (B24_REST_V3 turned off since): in doubt, it is looked up, not re-sent with a key.
    for (const e of members) if (e.meta?.v3) deps.store.effects.note(e.id, e.meta, 'v3', undefined);
    // The batch is named by its first call, for the trace.
    deps.store.effects.markSent(members.map((e) => e.id), { id: members[0]!.id, commands: batch.length });
    const cmds: Record<string, BatchCommand> = {};
    for (const c of batch) cmds[c.key] = { method: c.method, params: c.params };
    report.batches += 1;
    report.calls += batch.length;
    deps.stats.batches += 1;
    deps.stats.restCalls += batch.length;
    let res: Awaited<ReturnType<B24ClientApi['batch']>>;
    try {
      res = await deps.client.batch(cmds, { halt: false });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      report.transportError = msg;
      // A batch the client proves never ran (refused for load, never left, refused read-only) is sent again, not looked up.
      if (provedNotRun(err)) {
        deps.store.transaction(() => {
          for (const e of members) deps.store.effects.markPending(e.id);
        });
        deps.logger.warn({ err, effects: members.length }, 'batch not sent; will retry');
      } else {
        deps.logger.warn({ err, effects: members.length }, 'batch outcome unknown; its calls are in doubt until checked');
      }
      break;
    }
    deps.store.transaction(() => {
      for (const c of batch) answer(c, res[c.key], deps);
    });
  }
  if (v3.length > 0 && report.transportError === undefined) await executeV3(v3, deps, report, answer);
  if (http.length) {
    if (!deps.http) throw new B24RulesError('UNEXPECTED', 'an http action needs a fetch function (createEngine({ http }))', { kind: 'bug' });
    const queue = [...http];
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) await sendHttp(e, deps, report);
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.httpConcurrency) }, worker));
  }
  return report;
}

/**
 * Every member of a command gets its answer (members of a merged command, in order, so the last value of a field is merged into the snapshot last).
 * A merged command the portal refused (for anything but its limits) is no member's failure yet: each member goes back to pending, its
 * attempt counted, so it goes alone in the next round (merge-updates.ts never joins a call sent before) and only its own refusal
 * counts against its run.
 */
function answer(c: OutgoingCommand, item: BatchItemResult | undefined, deps: ExecutorDeps): void {
  if (c.effects.length > 1 && item && !item.ok && item.error && !PORTAL_LIMIT_CODES.has(item.error.error)) {
    for (const e of c.effects) {
      deps.store.effects.note(e.id, e.meta, 'merge', mergeNote(c, e));
      deps.store.effects.markPending(e.id);
    }
    deps.logger.info({ command: c.key, effects: c.effects.length, error: item.error.error }, 'merged update refused; each member goes alone');
    return;
  }
  for (const e of c.effects) {
    // The row describes its last send: a call that went alone after a merged attempt loses the old note.
    const note = mergeNote(c, e);
    if (note || e.meta?.merge) deps.store.effects.note(e.id, e.meta, 'merge', note);
    if (item?.ok) {
      deps.store.effects.markDone(e.id, item.result ?? null);
      deps.stats.effectsDone += 1;
      deps.onDone(e, item.result);
    } else {
      // The portal's own code when it gives one (legacy CRM methods often answer a 400 with an empty one);
      // a refusal the engine recognizes without one gets the engine's code (a workflow limit).
      const named = item?.error ? namedRefusal(c.method, c.params, item.error) : undefined;
      const code = named?.code ?? (item?.error ? item.error.error || 'EFFECT_FAILED' : 'BATCH_NO_RESULT');
      const message = named?.message ?? (item?.error ? `${code}: ${item.error.error_description}` : 'no answer for this command in the batch response');
      deps.store.effects.markFailed(e.id, { code, message });
      deps.stats.effectsFailed += 1;
    }
  }
}

async function sendHttp(e: EffectRecord, deps: ExecutorDeps, report: ExecuteReport): Promise<void> {
  const p = e.params as { url: string; method: string; headers: Record<string, string>; body?: unknown; timeoutMs: number };
  deps.store.effects.markSent([e.id]);
  report.httpRequests += 1;
  deps.stats.httpRequests += 1;
  const headers = { ...p.headers };
  let body: string | undefined;
  if (p.body !== undefined) {
    body = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
    if (typeof p.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  try {
    const res = await deps.http!(p.url, { method: p.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(p.timeoutMs) });
    const full = await res.text();
    // The answer is kept in the ledger and the run's facts: a runaway body must not bloat the state file.
    const text = full.length > MAX_BODY_CHARS ? full.slice(0, MAX_BODY_CHARS) : full;
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') || /^\s*[[{]/.test(text)) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const result = { status: res.status, body: parsed };
    if (res.status >= 200 && res.status < 300) {
      deps.store.transaction(() => {
        deps.store.effects.markDone(e.id, result);
        deps.onDone(e, result);
      });
      deps.stats.effectsDone += 1;
    } else {
      deps.store.effects.markFailed(e.id, { code: 'HTTP_STATUS', message: `HTTP ${res.status} from ${new URL(p.url).host}: ${text.slice(0, 200)}` });
      deps.stats.effectsFailed += 1;
      deps.stats.httpFailures += 1;
    }
  } catch (err) {
    // The request carries an Idempotency-Key: a receiver can drop the repeat, so a failed or timed-out request is retried.
    deps.store.effects.markFailed(e.id, { code: 'HTTP_FAILED', message: `${p.method} ${new URL(p.url).host}: ${err instanceof Error ? err.message : String(err)}` });
    deps.stats.effectsFailed += 1;
    deps.stats.httpFailures += 1;
  }
}
