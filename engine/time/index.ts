/** Time in rules: durations and business calendars (docs/rule-format.md, "Time"). */
export { addBusinessTime, businessTimeBetween, CalendarError, compileCalendar, isOpen, localToInstant, zoneOffsetMs, type BusinessCalendar, type CalendarDefinition, type OpenInterval } from './calendar.js';
export { DurationError, formatDuration, MAX_DURATION_MS, parseDuration } from './duration.js';
