/**
 * Time in a rule: the `for:` of an event trigger, the `delay:` and `wait_for:` actions.
 * Durations are parsed (engine/time) and `within:` resolved to a calendar of
 * the folder's calendars.yaml when the rule compiles, so a typo is a
 * diagnostic at its line, not a timer that never fires.
 */
import { compileCondition } from '../logic/index.js';
import { closest } from '../suggest.js';
import { DurationError, parseDuration, type BusinessCalendar } from '../time/index.js';
import { joinPointer } from './json-pointer.js';
import { catalogEventName, eventEntity } from './event-entity.js';
import type { RawDelay, RawDuration, RawWaitFor } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import { Scope } from './scope.js';
import type { Condition, DelaySpec, FieldChange, WaitForSpec, WaitSpec } from './types.js';

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

/** CRM entities an activity can belong to (crm.activity's OWNER_TYPE_ID 1-4). */
const ACTIVITY_OWNERS: ReadonlySet<string> = new Set(['lead', 'deal', 'contact', 'company']);
const ACTIVITY_EVENTS: ReadonlySet<string> = new Set(['ONCRMACTIVITYADD', 'ONCRMACTIVITYUPDATE']);

/**
 * The `wait_for:` action at `pointer` (`/actions/N/wait_for`), for a rule whose run is
 * about a record of `entity` (the event's record, or a foreach row's). Its on_timeout
 * actions are compiled by the caller (they take action indexes after the main ones).
 */
export function compileWaitFor(raw: RawWaitFor, pointer: string, entity: string | undefined, scope: Scope, where: string, check: RuleChecker): Omit<WaitForSpec, 'timeoutStart' | 'timeoutEnd'> | undefined {
  const event = raw.event.toUpperCase();
  const { catalog } = check.ctx;
  if (catalog.events && !catalog.events.has(catalogEventName(event))) {
    const guess = closest(event, catalog.events);
    check.report('EVENT_UNKNOWN', joinPointer(pointer, 'event'), `'${raw.event}' is not a known Bitrix24 event${guess ? `; did you mean '${guess}'?` : ''}`, 'event names are listed in catalog/events.txt', { severity: 'warning' });
  }
  if (!entity) {
    check.report('WAIT_FOR_NO_RECORD', pointer, `${where} waits for an event about the run's record, and this rule's runs have none`, 'use wait_for in a rule on a record event (ONCRMLEADADD, ONCRMDEALUPDATE...) or with foreach on an entity');
    return undefined;
  }
  const own = eventEntity(event);
  let by: WaitForSpec['by'];
  if (own.entity === entity && own.autoload) by = 'record';
  else if (ACTIVITY_EVENTS.has(event) && ACTIVITY_OWNERS.has(entity)) by = 'owner';
  else {
    check.report(
      'WAIT_FOR_EVENT',
      joinPointer(pointer, 'event'),
      `${event} is not an event about the run's ${entity}: wait for the ${entity}'s own event${ACTIVITY_OWNERS.has(entity) ? ' or an activity of it' : ''}`,
      `e.g. event: ONCRM${entity.toUpperCase()}UPDATE${ACTIVITY_OWNERS.has(entity) ? ' or event: ONCRMACTIVITYADD' : ''}`,
      { key: 'event' },
    );
    return undefined;
  }
  const as = by === 'owner' ? 'activity' : entity;
  const matchScope = new Scope(scope);
  matchScope.add(as, `the record of the event ${where} waits for`);
  matchScope.add('event', `the event ${where} waits for`);
  let match: Condition | undefined;
  if (raw.match !== undefined) {
    const node = check.logic(raw.match, joinPointer(pointer, 'match'), matchScope, `${where} match:`);
    if (node) match = compileCondition(raw.match, node);
  }
  const timeout = waitOf(raw.timeout, raw.within, joinPointer(pointer, 'timeout'), joinPointer(pointer, 'within'), check);
  if (!timeout || (raw.match !== undefined && !match)) return undefined;
  return match ? { event, by, as, match, timeout } : { event, by, as, timeout };
}
