import { describe, expect, it } from 'vitest';
import { addBusinessTime, businessTimeBetween, CalendarError, compileCalendar, isOpen, localToInstant, zoneOffsetMs } from '../../engine/time/index.js';

const office = compileCalendar('office', {
  time_zone: 'Europe/Berlin',
  hours: { 'Mon-Fri': ['09:00-13:00', '14:00-18:00'] },
  holidays: ['2026-12-24', '2026-12-25'],
});
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('business calendars', () => {
  it('counts open time only: Friday 17:30 + 2h is Monday 10:30 local', () => {
    // 2026-12-04 is a Friday; Berlin is UTC+1 in December.
    expect(iso(addBusinessTime(office, at('2026-12-04T16:30:00Z'), '2h'))).toBe('2026-12-07T09:30:00.000Z');
  });

  it('skips the lunch break and starts counting at the next opening', () => {
    expect(iso(addBusinessTime(office, at('2026-12-07T11:00:00Z'), '2h'))).toBe('2026-12-07T14:00:00.000Z'); // 12:00 → 13:00, lunch, 14:00 → 15:00 local
    expect(iso(addBusinessTime(office, at('2026-12-06T10:00:00Z'), '30m'))).toBe('2026-12-07T08:30:00.000Z'); // Sunday → Monday 09:30 local
    expect(iso(addBusinessTime(office, at('2026-12-07T07:00:00Z'), 0))).toBe('2026-12-07T08:00:00.000Z');
  });

  it('skips holidays', () => {
    // Wednesday 23 Dec 17:00 local + 2h: one hour on the 23rd, the 24th and 25th are holidays, the weekend, Monday 28th 10:00 local.
    expect(iso(addBusinessTime(office, at('2026-12-23T16:00:00Z'), '2h'))).toBe('2026-12-28T09:00:00.000Z');
  });

  it('counts real hours across a daylight-saving change', () => {
    const always = compileCalendar('always', { time_zone: 'Europe/Berlin', hours: { 'Sun-Sat': '00:00-24:00' } });
    // Berlin springs forward on 2026-03-29 at 02:00: 24 open hours from Saturday noon end at Sunday 13:00 local (11:00 UTC).
    expect(iso(addBusinessTime(always, at('2026-03-28T11:00:00Z'), '24h'))).toBe('2026-03-29T11:00:00.000Z');
    // The office opens at 09:00 local on both sides of the change: 08:00 UTC before, 07:00 UTC after.
    expect(iso(addBusinessTime(office, at('2026-03-27T16:59:00Z'), '2m'))).toBe('2026-03-30T07:01:00.000Z');
  });

  it('handles night shifts that pass midnight', () => {
    const night = compileCalendar('night', { time_zone: 'UTC', hours: { 'Mon-Fri': '22:00-06:00' } });
    expect(isOpen(night, at('2026-12-08T02:00:00Z'))).toBe(true); // Tuesday 02:00, Monday's shift
    expect(isOpen(night, at('2026-12-08T12:00:00Z'))).toBe(false);
    expect(iso(addBusinessTime(night, at('2026-12-07T23:00:00Z'), '8h'))).toBe('2026-12-08T23:00:00.000Z');
  });

  it('answers whether it is open and how much open time lies between two instants', () => {
    expect(isOpen(office, at('2026-12-07T08:00:00Z'))).toBe(true); // Monday 09:00 local
    expect(isOpen(office, at('2026-12-07T12:30:00Z'))).toBe(false); // lunch
    expect(isOpen(office, at('2026-12-05T10:00:00Z'))).toBe(false); // Saturday
    expect(isOpen(office, at('2026-12-24T10:00:00Z'))).toBe(false); // holiday
    expect(businessTimeBetween(office, at('2026-12-04T16:30:00Z'), at('2026-12-07T09:30:00Z'))).toBe(2 * 3_600_000);
    expect(businessTimeBetween(office, at('2026-12-07T09:30:00Z'), at('2026-12-04T16:30:00Z'))).toBe(0);
  });

  it('converts wall times to instants in the zone, gaps resolved forward', () => {
    expect(zoneOffsetMs('Europe/Berlin', at('2026-07-01T00:00:00Z'))).toBe(7_200_000);
    expect(iso(localToInstant('Europe/Moscow', 2026, 12, 4, 9 * 60))).toBe('2026-12-04T06:00:00.000Z');
    // 02:30 does not exist in Berlin on 2026-03-29.
    expect(iso(localToInstant('Europe/Berlin', 2026, 3, 29, 150))).toBe('2026-03-29T01:30:00.000Z');
  });

  it('refuses bad definitions saying where and what to write', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ time_zone: 'Mars/Olympus', hours: { Mon: '09:00-18:00' } }, /time_zone: "Mars\/Olympus" is not an IANA time zone/],
      [{ time_zone: 'UTC', hours: { Funday: '09:00-18:00' } }, /hours\.Funday: 'Funday': name weekdays/],
      [{ time_zone: 'UTC', hours: { Mon: '9-18' } }, /hours\.Mon: "9-18": write HH:MM-HH:MM/],
      [{ time_zone: 'UTC', hours: {} }, /no opening hours at all/],
      [{ time_zone: 'UTC', hours: { Mon: '09:00-18:00' }, holidays: ['2026-13-01'] }, /holidays\[0\]: "2026-13-01" is not a date/],
    ];
    for (const [def, message] of bad) {
      let err: unknown;
      try {
        compileCalendar('c', def);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CalendarError);
      expect((err as Error).message).toMatch(message);
    }
  });
});
