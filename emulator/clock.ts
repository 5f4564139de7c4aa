/** Portal time: ISO datetimes with the portal's UTC offset, date parsing for filters, and the `time` envelope object. */
import type { B24Time } from '../engine/wire/index.js';

/** Format `ms` as `2026-11-24T09:00:00+03:00` in a portal at `offsetMinutes` from UTC. */
export function formatIso(ms: number, offsetMinutes: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${d.toISOString().slice(0, 19)}${off}`;
}

/** Parse `+03:00` / `-0530` / `Z` into minutes. */
export function parseOffset(text: string): number {
  if (text === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m) throw new Error(`bad UTC offset '${text}': use +HH:MM`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * Parse a datetime the way a portal accepts one in fields and filters: ISO with or without offset
 * (no offset = portal local time), a bare date, or the site format `dd.mm.yyyy [hh:mm[:ss]]`.
 * Returns NaN when it is not a date.
 */
export function parseDate(value: unknown, offsetMinutes: number): number {
  if (typeof value === 'number') return value > 1e11 ? value : value * 1000;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  const s = value.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
    const off = m[7] === undefined ? offsetMinutes : parseOffset(m[7]);
    return utc - off * 60_000;
  }
  m = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (m) {
    const utc = Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
    return utc - offsetMinutes * 60_000;
  }
  return NaN;
}

/** The `time` object of a response envelope (all times in seconds), as API-FACTS §1.4 documents it (engine/wire/). */
export type TimeInfo = B24Time;

/** Build a `time` object for a call that started at `startMs` and took `processingSec` of simulated work. */
export function timeInfo(startMs: number, processingSec: number, offsetMinutes: number, operating?: { operating: number; resetAt: number }): TimeInfo {
  const start = startMs / 1000;
  const finish = start + processingSec;
  const t: TimeInfo = {
    start,
    finish,
    duration: processingSec,
    processing: processingSec,
    date_start: formatIso(startMs, offsetMinutes),
    date_finish: formatIso(finish * 1000, offsetMinutes),
  };
  if (operating) {
    t.operating = round(operating.operating);
    t.operating_reset_at = operating.resetAt;
  }
  return t;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
