/**
 * Time in a rule: the `for:` of an event trigger and the `delay:` action.
 * Durations are parsed (engine/time) and `within:` resolved to a calendar of
 * the folder's calendars.yaml when the rule compiles, so a typo is a
 * diagnostic at its line, not a timer that never fires.
 */
import { closest } from '../suggest.js';
import { DurationError, parseDuration, type BusinessCalendar } from '../time/index.js';
import { joinPointer } from './json-pointer.js';
import type { RawDelay, RawDuration } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import type { Scope } from './scope.js';
import type { DelaySpec, FieldChange, WaitSpec } from './types.js';

/** A duration, or undefined after reporting DURATION_INVALID at `pointer`. */
export function compileDuration(value: RawDuration, pointer: string, check: RuleChecker): number | undefined {
  try {
    return parseDuration(value);
  } catch (err) {
    if (!(err instanceof DurationError)) throw err;
    check.report('DURATION_INVALID', pointer, err.message, 'e.g. 90s, 30m, 2h, 1h30m, 14d, PT2H, or a number of seconds');
    return undefined;
  }
}

/** The calendar `within:` names, or undefined after reporting CALENDAR_UNKNOWN at `pointer`. */
export function compileWithin(name: string, pointer: string, check: RuleChecker): BusinessCalendar | undefined {
  const set = check.ctx.calendars;
  const cal = set?.calendars.get(name);
  if (cal) return cal;
  if (set?.broken.has(name)) {
    check.report('CALENDAR_UNKNOWN', pointer, `calendar '${name}' is defined in ${set.file ?? 'calendars.yaml'} but has errors (reported there)`, 'fix the calendar first');
    return undefined;
  }
  const names = [...(set?.calendars.keys() ?? [])];
  const guess = closest(name, names);
  const where = set?.file ?? 'calendars.yaml beside the rule files';
  check.report(
    'CALENDAR_UNKNOWN',
    pointer,
    `unknown calendar '${name}'${guess ? `; did you mean '${guess}'?` : ''}`,
    names.length ? `calendars in ${where}: ${names.join(', ')}` : `define it in ${where}: calendars: { ${name}: { time_zone: Europe/Moscow, hours: { Mon-Fri: "09:00-18:00" } } }`,
  );
  return undefined;
}

function waitOf(value: RawDuration, within: string | undefined, pointer: string, withinPointer: string, check: RuleChecker): WaitSpec | undefined {
  const ms = compileDuration(value, pointer, check);
  const cal = within === undefined ? undefined : compileWithin(within, withinPointer, check);
  if (ms === undefined || (within !== undefined && !cal)) return undefined;
  const spec: WaitSpec = { ms, source: String(value) };
  if (cal) spec.within = cal;
  return spec;
}

/** The `for:` of an event trigger; every field of its `changed:` must name the state (`to:`). */
export function compileFor(raw: RawDuration | { duration: RawDuration; within?: string }, changed: Record<string, FieldChange> | undefined, check: RuleChecker): WaitSpec | undefined {
  const fields = Object.entries(changed ?? {});
  const open = fields.filter(([, fc]) => fc.to === undefined).map(([f]) => f);
  if (fields.length === 0 || open.length) {
    check.report(
      'FOR_NEEDS_STATE',
      '/trigger',
      `for: waits while the record stays in a state, named by changed: { FIELD: { to: VALUE } }; ${fields.length === 0 ? 'changed: names no field' : `${open.join(', ')} has no to:`}`,
      'e.g. changed: { STAGE_ID: { to: C1:NEGOTIATION } } with for: 14d',
      { key: 'for' },
    );
  }
  if (typeof raw === 'object') return waitOf(raw.duration, raw.within, '/trigger/for/duration', '/trigger/for/within', check);
  return waitOf(raw, undefined, '/trigger/for', '', check);
}

/** The `delay:` action at `pointer` (`/actions/N/delay`). */
export function compileDelay(raw: RawDelay, pointer: string, scope: Scope, where: string, check: RuleChecker): DelaySpec | undefined {
  if (typeof raw !== 'object') {
    const wait = waitOf(raw, undefined, pointer, '', check);
    return wait ? { wait, recheck: false } : undefined;
  }
  const recheck = raw.recheck === true;
  if (raw.until !== undefined) {
    const until = check.template(raw.until, joinPointer(pointer, 'until'), scope, `${where} until:`);
    const cal = raw.within === undefined ? undefined : compileWithin(raw.within, joinPointer(pointer, 'within'), check);
    if (raw.within !== undefined && !cal) return undefined;
    return cal ? { until, within: cal, recheck } : { until, recheck };
  }
  const wait = waitOf(raw.for!, raw.within, joinPointer(pointer, 'for'), joinPointer(pointer, 'within'), check);
  return wait ? { wait, recheck } : undefined;
}
