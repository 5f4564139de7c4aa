/**
 * The trigger of one rule: event (name, record it loads, `changed:`), schedule
 * (cron and time zone), webhook (path, secret) or manual, and the names each
 * makes visible to the rest of the rule.
 */
import { isValidTimeZone } from '../logic/index.js';
import { closest } from '../suggest.js';
import { compileFor } from './compile-time.js';
import { checkCron } from './cron.js';
import { catalogEventName, eventEntity } from './event-entity.js';
import { DEFAULTS } from './limits.js';
import type { RawTrigger } from './raw.js';
import type { RuleChecker } from './rule-checker.js';
import { Scope } from './scope.js';
import type { EntityName, FieldChange, TriggerSpec } from './types.js';

/** A compiled trigger, the record the engine loads for it, and the names visible after it. */
export interface CompiledTrigger {
  trigger: TriggerSpec;
  /** The event's record, loaded before the rule's own loads. */
  autoload?: { entity: EntityName };
  /** `now`, `env` and the trigger's own names (`event`, `schedule`, `request`, `params`, the record). */
  scope: Scope;
}

/** Compile the `trigger:` of a rule. */
export function compileTrigger(t: RawTrigger, check: RuleChecker): CompiledTrigger {
  const { catalog } = check.ctx;
  const base = new Scope();
  base.add('now', 'the engine clock');
  base.add('env', 'the env: list');
  let trigger: TriggerSpec;
  let autoload: { entity: EntityName } | undefined;
  if (t.event !== undefined) {
    const event = t.event.toUpperCase();
    if (catalog.events && !catalog.events.has(catalogEventName(event))) {
      const guess = closest(event, catalog.events);
      check.report('EVENT_UNKNOWN', '/trigger/event', `'${t.event}' is not a known Bitrix24 event${guess ? `; did you mean '${guess}'?` : ''}`, 'event names are listed in catalog/events.txt', { severity: 'warning' });
    }
    const { entity, autoload: canLoad } = eventEntity(event);
    trigger = { kind: 'event', event };
    if (entity) trigger.entity = entity;
    if (t.changed && !canLoad) {
      check.report(
        'CHANGED_NOT_SUPPORTED',
        '/trigger',
        `changed: needs an event whose record the engine loads (it compares the record with its last snapshot); ${event} ${entity ? 'loads no record' : 'names no record'}`,
        'use it with ONCRM{LEAD,DEAL,CONTACT,COMPANY}UPDATE, ONCRMDYNAMICITEMUPDATE(_N) or ONTASKUPDATE, or drop changed:',
        { key: 'changed' },
      );
    }
    if (t.changed) {
      const changed: Record<string, FieldChange> = {};
      for (const [field, ch] of Object.entries(t.changed)) {
        const fc: FieldChange = {};
        if (ch.from !== undefined) fc.from = Array.isArray(ch.from) ? ch.from : [ch.from];
        if (ch.to !== undefined) fc.to = Array.isArray(ch.to) ? ch.to : [ch.to];
        Object.defineProperty(changed, field, { value: fc, enumerable: true, writable: true, configurable: true });
      }
      trigger.changed = changed;
    }
    if (t.for !== undefined) {
      const wait = compileFor(t.for, trigger.changed, check);
      if (wait) trigger.for = wait;
    }
    base.add('event', 'the event trigger');
    base.add('changes', 'the event trigger');
    if (entity && canLoad) {
      autoload = { entity };
      base.add(entity, `the record of ${event}, loaded automatically`);
    }
  } else if (t.schedule !== undefined) {
    const timezone = t.schedule.timezone ?? DEFAULTS.timezone;
    if (!isValidTimeZone(timezone)) {
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
      const guess = closest(timezone, zones);
      check.report('TIMEZONE_INVALID', '/trigger/schedule/timezone', `unknown time zone '${timezone}'${guess ? `; did you mean '${guess}'?` : ''}`, 'use an IANA name such as UTC, Europe/Berlin, Europe/Moscow, America/New_York');
    }
    const cronProblem = checkCron(t.schedule.cron, isValidTimeZone(timezone) ? timezone : 'UTC');
    if (cronProblem) check.report('CRON_INVALID', '/trigger/schedule/cron', cronProblem, 'five fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5" (09:00 Mon–Fri); an optional sixth, leading field is seconds');
    trigger = { kind: 'schedule', cron: t.schedule.cron, timezone };
    base.add('schedule', 'the schedule trigger');
  } else if (t.webhook !== undefined) {
    trigger = { kind: 'webhook', path: t.webhook.path };
    if (t.webhook.secret !== undefined) {
      const envOnly = new Scope();
      envOnly.add('env', 'the env: list');
      trigger.secret = check.template(t.webhook.secret, '/trigger/webhook/secret', envOnly, 'the webhook secret');
    }
    base.add('request', 'the webhook trigger');
  } else {
    trigger = { kind: 'manual' };
    base.add('params', 'the manual trigger');
  }
  return autoload ? { trigger, autoload, scope: base } : { trigger, scope: base };
}
