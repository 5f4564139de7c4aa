/**
 * Date helpers shared by the json-logic operators and the template filters.
 * Pure: the current time is always passed in (the engine puts it in
 * `facts.now`), never read from the system clock.
 */

const ISO_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

/** Parse an ISO 8601 string, a date-only string or epoch milliseconds; `undefined` when it is not a date. */
export function parseDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Offset in minutes of an ISO string's explicit zone (`+03:00` → 180), or 0 (UTC) when it has none. */
export function offsetMinutes(value: unknown): number {
  if (typeof value !== 'string') return 0;
  const m = ISO_OFFSET.exec(value.trim());
  if (!m || m[1] === undefined || m[1].toUpperCase() === 'Z') return 0;
  const s = m[1].replace(':', '');
  const sign = s.startsWith('-') ? -1 : 1;
  return sign * (Number(s.slice(1, 3)) * 60 + Number(s.slice(3, 5)));
}

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export type DateUnit = keyof typeof UNIT_MS;
export const DATE_UNITS = Object.keys(UNIT_MS) as DateUnit[];

/** Whole units elapsed from `from` to `now` (negative when `from` is in the future); null when either is not a date. */
export function unitsSince(from: unknown, now: unknown, unit: DateUnit): number | null {
  const a = parseDate(from);
  const b = parseDate(now);
  if (!a || !b) return null;
  return Math.trunc((b.getTime() - a.getTime()) / UNIT_MS[unit]);
}

/** `date` plus `amount` units, as an ISO string (UTC); null when `date` is not a date or `amount` not a number. */
export function addUnits(date: unknown, amount: unknown, unit: DateUnit): string | null {
  const d = parseDate(date);
  const n = typeof amount === 'string' && amount.trim() !== '' ? Number(amount) : amount;
  if (!d || typeof n !== 'number' || !Number.isFinite(n)) return null;
  return new Date(d.getTime() + n * UNIT_MS[unit]).toISOString();
}

/**
 * Format a date with tokens YYYY, MM, DD, HH, mm, ss. The wall clock is the
 * one of the value's own zone offset (Bitrix24 dates carry one), UTC otherwise,
 * so `2024-03-01T00:30:00+03:00 | date: YYYY-MM-DD` is 2024-03-01 everywhere.
 */
export function formatDate(value: unknown, format: string): string | undefined {
  const d = parseDate(value);
  if (!d) return undefined;
  const shifted = new Date(d.getTime() + offsetMinutes(value) * 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const parts: Record<string, string> = {
    YYYY: pad(shifted.getUTCFullYear(), 4),
    MM: pad(shifted.getUTCMonth() + 1),
    DD: pad(shifted.getUTCDate()),
    HH: pad(shifted.getUTCHours()),
    mm: pad(shifted.getUTCMinutes()),
    ss: pad(shifted.getUTCSeconds()),
  };
  return format.replace(/YYYY|MM|DD|HH|mm|ss/g, (t) => parts[t] ?? t);
}

/** Whether `zone` is an IANA time zone this Node.js knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** Weekday (0 = Sunday) and minutes since midnight of `date` in `timeZone`. */
export function wallClock(date: Date, timeZone: string): { weekday: number; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const weekday = WEEKDAYS.indexOf(get('weekday') as (typeof WEEKDAYS)[number]);
  return { weekday, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Parse "Mon-Fri", "Mon,Wed,Fri" or "Sat-Mon" into a set of weekdays (0 = Sunday); throws a message on bad input. */
export function parseDays(spec: string): Set<number> {
  const out = new Set<number>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    const [a, b] = part.split('-').map((s) => s.trim());
    const ia = WEEKDAYS.findIndex((d) => d.toLowerCase() === a?.toLowerCase());
    const ib = b === undefined ? ia : WEEKDAYS.findIndex((d) => d.toLowerCase() === b.toLowerCase());
    if (ia < 0 || ib < 0) throw new Error(`days '${spec}': use weekday names ${WEEKDAYS.join(', ')}, ranges like Mon-Fri, lists like Mon,Wed`);
    for (let i = ia; ; i = (i + 1) % 7) {
      out.add(i);
      if (i === ib) break;
    }
  }
  return out;
}

/** Parse "09:00-18:00" into minutes since midnight; an end before the start spans midnight. */
export function parseHours(spec: string): { start: number; end: number } {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(spec);
  const toMin = (h: string, mi: string) => Number(h) * 60 + Number(mi);
  if (!m || Number(m[1]) > 24 || Number(m[3]) > 24 || Number(m[2]) > 59 || Number(m[4]) > 59) {
    throw new Error(`hours '${spec}': use HH:MM-HH:MM, e.g. 09:00-18:00`);
  }
  return { start: toMin(m[1]!, m[2]!), end: toMin(m[3]!, m[4]!) };
}
