/**
 * What a dry-run runs the rules on, turned into inbox items exactly as the
 * daemon's sources would make them (engine/sources/offline.ts,
 * outgoing-webhook.ts, schedule.ts), so planning takes the daemon's path:
 * - an events file (JSON lines): records as `event.offline.get` returns them
 *   (EVENT_NAME, EVENT_DATA, MESSAGE_ID, TIMESTAMP_X...), or outgoing-webhook
 *   payloads (event, data, ts); a line may also be a whole `event.offline.get`
 *   or `event.offline.list` response;
 * - a time: a tick for every schedule rule whose cron fires at that minute.
 */
import { readFileSync } from 'node:fs';
import { Cron } from 'croner';
import type { CompiledRule } from '../rules/index.js';
import type { InboxItemInput } from '../store/index.js';
import { InputFileError } from './errors.js';

/** An event given by name and data (tests, and the normalized form of both file shapes). */
export interface EventInput {
  name: string;
  data: Record<string, unknown>;
  /** Unix seconds or ISO time. */
  ts?: string | number | null;
  /** Offline records: the queue record's ID and MESSAGE_ID. */
  id?: string;
  messageId?: string;
  additional?: Record<string, unknown>;
}

const EXPECTED_SHAPE =
  'each line must be one JSON object: an offline event record {"EVENT_NAME":"ONCRMDEALUPDATE","EVENT_DATA":{"FIELDS":{"ID":"5"}},"MESSAGE_ID":"...","TIMESTAMP_X":"..."} or an outgoing-webhook payload {"event":"ONCRMDEALUPDATE","data":{"FIELDS":{"ID":"5"}},"ts":"1766047124"}';

function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function fromJson(value: unknown): EventInput[] | string {
  const o = asObject(value);
  if (Array.isArray(value)) return 'a JSON array; write one event per line';
  const result = asObject(o.result);
  if (Array.isArray(result.events)) return result.events.flatMap((e) => fromJson(e) as EventInput[]);
  if (Array.isArray(o.result)) return o.result.flatMap((e) => fromJson(e) as EventInput[]);
  if (typeof o.EVENT_NAME === 'string' && o.EVENT_NAME !== '') {
    const e: EventInput = { name: o.EVENT_NAME.toUpperCase(), data: asObject(o.EVENT_DATA), ts: (o.TIMESTAMP_X as string | undefined) ?? null };
    if (o.ID !== undefined) e.id = String(o.ID);
    if (o.MESSAGE_ID !== undefined) e.messageId = String(o.MESSAGE_ID);
    const add = asObject(o.EVENT_ADDITIONAL);
    if (Object.keys(add).length > 0) e.additional = add;
    return [e];
  }
  if (typeof o.event === 'string' && o.event !== '') {
    return [{ name: o.event.toUpperCase(), data: asObject(o.data), ts: (o.ts as string | number | undefined) ?? null }];
  }
  return 'no EVENT_NAME (offline record) or event (webhook payload)';
}

/** Parse an events file's text. Throws InputFileError (EVENTS_INVALID) naming the line. */
export function parseEvents(text: string, file: string): Array<EventInput & { line: number }> {
  const out: Array<EventInput & { line: number }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new InputFileError('EVENTS_INVALID', file, i + 1, `not JSON (${(err as Error).message}); ${EXPECTED_SHAPE}`);
    }
    const events = fromJson(value);
    if (typeof events === 'string') throw new InputFileError('EVENTS_INVALID', file, i + 1, `${events}; ${EXPECTED_SHAPE}`);
    for (const e of events) out.push({ ...e, line: i + 1 });
  });
  return out;
}

/** Read and parse an events file (`-` reads standard input). */
export function readEventsFile(file: string): Array<EventInput & { line: number }> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new InputFileError('EVENTS_INVALID', file, undefined, `cannot read the events file: ${(err as Error).message}`, { cause: err });
  }
  return parseEvents(text, file === '-' ? '(stdin)' : file);
}

/**
 * Inbox items for events. Offline records become `offline` items (as the
 * offline source stores them, under the pseudo reservation `dry-run`); webhook
 * payloads become `outgoing` items. `n` keeps keys unique and the order stable.
 */
export function eventItems(events: EventInput[], receivedAt: number): InboxItemInput[] {
  return events.map((e, n) => {
    if (e.messageId !== undefined || e.id !== undefined) {
      const messageId = e.messageId ?? e.id ?? String(n + 1);
      return {
        source: 'offline',
        key: `dry-run:${n + 1}:${messageId}`,
        event: e.name,
        ruleId: null,
        payload: { event: e.name, data: e.data, additional: e.additional ?? {}, ts: e.ts ?? null, id: e.id ?? String(n + 1), message_id: messageId },
        processId: 'dry-run',
        messageId,
        receivedAt,
      };
    }
    return {
      source: 'outgoing',
      key: `dry-run:${n + 1}:event`,
      event: e.name,
      ruleId: null,
      payload: { event: e.name, event_handler_id: null, data: e.data, ts: e.ts ?? Math.floor(receivedAt / 1000), auth: { domain: null, member_id: null } },
      receivedAt,
    };
  });
}

/**
 * The schedule tick of `rule` in the minute of `at`, or null when its cron does
 * not fire in that minute. (Six-field crons may fire at a second inside it.)
 */
export function scheduleTickAt(rule: CompiledRule, at: number): number | null {
  if (rule.trigger.kind !== 'schedule') return null;
  const minute = Math.floor(at / 60_000) * 60_000;
  const cron = new Cron(rule.trigger.cron, { timezone: rule.trigger.timezone || 'UTC', paused: true });
  const next = cron.nextRun(new Date(minute - 1));
  return next && next.getTime() < minute + 60_000 ? next.getTime() : null;
}

/** A schedule item for a rule's tick at `tickMs`, as the schedule source makes it. */
export function scheduleItem(rule: CompiledRule, tickMs: number, receivedAt: number): InboxItemInput {
  const iso = new Date(tickMs).toISOString();
  const trigger = rule.trigger.kind === 'schedule' ? rule.trigger : { cron: '', timezone: 'UTC' };
  return {
    source: 'schedule',
    key: `${rule.id}@${iso}`,
    event: null,
    ruleId: rule.id,
    payload: { schedule: { at: iso, cron: trigger.cron, timezone: trigger.timezone, caughtUp: false } },
    receivedAt,
  };
}

/** Schedule items for every enabled schedule rule whose cron fires in the minute of `at`, by rule id. */
export function scheduleItemsAt(rules: CompiledRule[], at: number): InboxItemInput[] {
  const out: InboxItemInput[] = [];
  for (const rule of [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (!rule.enabled) continue;
    const tick = scheduleTickAt(rule, at);
    if (tick !== null) out.push(scheduleItem(rule, tick, at));
  }
  return out;
}

/** Parse `--at` / a test's `at:`: ISO 8601 with an offset (or Z). */
export function parseAt(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** A form-webhook item for the rule whose `webhook.path` is `path`, as the form receiver stores it. */
export function formItem(ruleId: string, request: { path: string; body?: unknown; query?: Record<string, unknown>; headers?: Record<string, unknown> }, receivedAt: number, n = 1): InboxItemInput {
  return {
    source: 'form',
    key: `${ruleId}:dry-run:${n}`,
    event: null,
    ruleId,
    payload: { request: { path: request.path, body: request.body ?? {}, query: request.query ?? {}, headers: request.headers ?? {} } },
    receivedAt,
  };
}

/** A manual-run item (`rules apply RULE --param k=v`), as the manual source stores it. */
export function manualItem(ruleId: string, params: Record<string, unknown>, receivedAt: number, n = 1): InboxItemInput {
  return { source: 'manual', key: `${ruleId}:dry-run:${n}`, event: null, ruleId, payload: { params }, receivedAt };
}
