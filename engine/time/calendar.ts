/**
 * Business calendars: a time zone, weekly opening hours and holidays, defined
 * once in the rules repository and named by rules (`within: business_hours`).
 * "2 business hours after Friday 17:30" in a 09:00-18:00 Mon-Fri calendar is
 * Monday 10:30 in the calendar's own zone, across daylight-saving changes.
 *
 * Pure: instants in and out are epoch milliseconds; the zone arithmetic uses
 * Intl (the IANA data Node ships), no library.
 */
import { parseDuration } from './duration.js';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const DAY_MS = 86_400_000;
/** How far ahead a search for open hours looks before it calls the calendar closed for good. */
const SEARCH_DAYS = 3_700;

/** An opening interval of one weekday, in minutes since local midnight; `end` may pass midnight (a night shift: 22:00-06:00). */
export interface OpenInterval {
  start: number;
  end: number;
}

export interface BusinessCalendar {
  name: string;
  timeZone: string;
  /** Opening intervals per weekday, 0 = Sunday. */
  week: OpenInterval[][];
  /** Closed local dates, `YYYY-MM-DD`. */
  holidays: Set<string>;
}

/** A calendar definition that cannot be used; `path` points into the definition (`hours.Mon-Fri`). */
export class CalendarError extends Error {
  override name = 'CalendarError';
  constructor(
    readonly calendar: string,
    readonly path: string,
    message: string,
  ) {
    super(`calendar '${calendar}'${path ? ` ${path}` : ''}: ${message}`);
  }
}

/** The definition as written in YAML. */
export interface CalendarDefinition {
  time_zone?: unknown;
  hours?: unknown;
  holidays?: unknown;
}

/** Check and compile one calendar definition; throws CalendarError saying where and what to write. */
export function compileCalendar(name: string, def: CalendarDefinition): BusinessCalendar {
  const zone = typeof def.time_zone === 'string' ? def.time_zone : '';
  if (!isTimeZone(zone)) throw new CalendarError(name, 'time_zone', `${JSON.stringify(def.time_zone ?? null)} is not an IANA time zone; write one like Europe/Berlin`);
  const week: OpenInterval[][] = Array.from({ length: 7 }, () => []);
  if (def.hours === null || typeof def.hours !== 'object' || Array.isArray(def.hours)) {
    throw new CalendarError(name, 'hours', 'write weekly hours as a map, e.g. { Mon-Fri: "09:00-18:00", Sat: "10:00-14:00" }');
  }
  for (const [days, spec] of Object.entries(def.hours as Record<string, unknown>)) {
    const where = `hours.${days}`;
    const ranges = Array.isArray(spec) ? spec : [spec];
    let parsedDays: number[];
    try {
      parsedDays = parseWeekdays(days);
    } catch (err) {
      throw new CalendarError(name, where, (err as Error).message);
    }
    for (const r of ranges) {
      const interval = parseInterval(String(r));
      if (!interval) throw new CalendarError(name, where, `${JSON.stringify(r)}: write HH:MM-HH:MM, e.g. "09:00-18:00", or a list of them`);
      for (const d of parsedDays) week[d]!.push(interval);
    }
  }
  for (const day of week) day.sort((a, b) => a.start - b.start);
  if (week.every((d) => d.length === 0)) throw new CalendarError(name, 'hours', 'no opening hours at all: a business duration would never end');
  const holidays = new Set<string>();
  const list = def.holidays ?? [];
  if (!Array.isArray(list)) throw new CalendarError(name, 'holidays', 'write a list of dates, e.g. [2026-01-01, 2026-05-01]');
  list.forEach((h, i) => {
    const text = h instanceof Date ? h.toISOString().slice(0, 10) : String(h);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
      throw new CalendarError(name, `holidays[${i}]`, `${JSON.stringify(h)} is not a date; write YYYY-MM-DD`);
    }
    holidays.add(text);
  });
  return { name, timeZone: zone, week, holidays };
}

/** The instant `durationMs` of open time after `from` (a duration text or milliseconds). Starting outside hours counts from the next opening. */
export function addBusinessTime(cal: BusinessCalendar, from: number, duration: number | string): number {
  let remaining = typeof duration === 'number' ? duration : parseDuration(duration);
  for (const [open, close] of openSpans(cal, from)) {
    const start = Math.max(open, from);
    if (remaining <= close - start) return start + remaining;
    remaining -= close - start;
  }
  throw new CalendarError(cal.name, '', `no opening hours within ${SEARCH_DAYS} days of ${new Date(from).toISOString()}`);
}

/** Whether the calendar is open at `at`. */
export function isOpen(cal: BusinessCalendar, at: number): boolean {
  for (const [open, close] of openSpans(cal, at)) {
    if (open > at) return false;
    if (at < close) return true;
  }
  return false;
}

/** Open time between two instants, in milliseconds (0 when `to` is not after `from`). */
export function businessTimeBetween(cal: BusinessCalendar, from: number, to: number): number {
  let total = 0;
  for (const [open, close] of openSpans(cal, from)) {
    if (open >= to) break;
    total += Math.min(close, to) - Math.max(open, from);
  }
  return Math.max(0, total);
}

/** Open spans [open, close) ending after `from`, in time order, merged where they touch or overlap. */
function* openSpans(cal: BusinessCalendar, from: number): Generator<[number, number]> {
  // Start a day early: yesterday's night shift may still be open.
  let { y, m, d } = localDate(cal.timeZone, from - DAY_MS);
  let pending: [number, number] | undefined;
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const date = isoDate(y, m, d);
    if (!cal.holidays.has(date)) {
      const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
      for (const iv of cal.week[weekday]!) {
        const open = localToInstant(cal.timeZone, y, m, d, iv.start);
        const close = iv.end > iv.start ? localToInstant(cal.timeZone, y, m, d, iv.end) : localToInstant(cal.timeZone, y, m, d + 1, iv.end);
        if (close <= from || close <= open) continue;
        if (pending && open <= pending[1]) pending[1] = Math.max(pending[1], close);
        else {
          if (pending) yield pending;
          pending = [open, close];
        }
      }
    }
    ({ y, m, d } = nextDay(y, m, d));
  }
  if (pending) yield pending;
}

function parseWeekdays(spec: string): number[] {
  const out = new Set<number>();
  for (const raw of spec.split(',')) {
    const [a, b] = raw.split('-').map((s) => s.trim().toLowerCase());
    const ia = WEEKDAYS.findIndex((w) => w.toLowerCase() === a);
    const ib = b === undefined ? ia : WEEKDAYS.findIndex((w) => w.toLowerCase() === b);
    if (ia < 0 || ib < 0) throw new Error(`'${spec}': name weekdays ${WEEKDAYS.join(', ')}, ranges like Mon-Fri, lists like Mon,Wed`);
    for (let i = ia; ; i = (i + 1) % 7) {
      out.add(i);
      if (i === ib) break;
    }
  }
  return [...out];
}

function parseInterval(spec: string): OpenInterval | undefined {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(spec);
  if (!m) return undefined;
  const [h1, m1, h2, m2] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || (h1 === 24 && m1 > 0) || (h2 === 24 && m2 > 0)) return undefined;
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  return start === end ? undefined : { start, end };
}

function isTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

function wallParts(zone: string, at: number): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(at))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, mi: p.minute!, s: p.second! };
}

/** The zone's offset from UTC at `at`, in ms (Berlin in summer: +7,200,000). */
export function zoneOffsetMs(zone: string, at: number): number {
  const w = wallParts(zone, at);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - (at - (((at % 1000) + 1000) % 1000));
}

function localDate(zone: string, at: number): { y: number; m: number; d: number } {
  const w = wallParts(zone, at);
  return { y: w.y, m: w.m, d: w.d };
}

/** The instant of a local wall time; a time skipped by a spring-forward change resolves to the instant after the gap. */
export function localToInstant(zone: string, y: number, m: number, d: number, minutes: number): number {
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  const first = wall - zoneOffsetMs(zone, wall);
  const second = wall - zoneOffsetMs(zone, first);
  return second === first ? first : Math.max(first, second);
}

function nextDay(y: number, m: number, d: number): { y: number; m: number; d: number } {
  const t = new Date(Date.UTC(y, m - 1, d + 1));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
