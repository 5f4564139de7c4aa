/**
 * Matching inbox items to rules, and the names a trigger provides to a run
 * (docs/rule-format.md, Triggers): `event`, `schedule`, `request`, `params`.
 */
import { entityOfEvent, eventRecordRef } from '../facts/index.js';
import type { CompiledRule, EntityName, Facts } from '../rules/index.js';
import type { InboxItemInput } from '../store/index.js';

/** The record a run is about (its concurrency default and the auto-loaded record of event rules). */
export interface RecordRef {
  entity: EntityName;
  id: string;
  entityTypeId?: number;
}

/**
 * Rules an item starts: by `ruleId` for schedules, forms and manual runs; by event name (case-insensitive) otherwise.
 * In ascending `priority:` (0 when not written), then in the order given (the load order: file path, then place in the
 * file): the order their runs are evaluated and planned in, so a later rule's update of a field wins.
 */
export function matchRules(item: InboxItemInput, rules: readonly CompiledRule[]): CompiledRule[] {
  if (item.ruleId !== null) return rules.filter((r) => r.enabled && r.id === item.ruleId);
  if (item.event === null) return [];
  const ev = item.event.toUpperCase();
  const out = rules.filter((r) => r.enabled && r.trigger.kind === 'event' && r.trigger.event.toUpperCase() === ev);
  // Array.prototype.sort is stable: equal priorities keep the given order.
  return out.some((r) => r.priority) ? out.sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0)) : out;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The record named by an event item, for an event rule (entity from the trigger, else from the event name; an item's type from the event). */
export function eventRecord(item: InboxItemInput, rule: CompiledRule): RecordRef | undefined {
  if (rule.trigger.kind !== 'event' || item.event === null) return undefined;
  return eventRecordRef(item.event, item.payload, rule.trigger.entity ?? entityOfEvent(item.event));
}

/** The trigger's names for templates and conditions. */
export function triggerFacts(item: InboxItemInput, rule: CompiledRule): Facts {
  const p = item.payload;
  switch (rule.trigger.kind) {
    case 'event': {
      const ref = eventRecord(item, rule);
      const data = p.data !== undefined ? obj(p.data) : p.EVENT_DATA !== undefined ? obj(p.EVENT_DATA) : p;
      return {
        event: {
          name: item.event,
          id: ref?.id ?? null,
          entity: ref?.entity ?? null,
          data,
          ts: p.ts ?? new Date(item.receivedAt).toISOString(),
        },
      };
    }
    case 'schedule': {
      const sch = obj(p.schedule);
      const at = sch.at ?? (item.key.includes('@') ? item.key.slice(item.key.lastIndexOf('@') + 1) : new Date(item.receivedAt).toISOString());
      return { schedule: { ...sch, at } };
    }
    case 'webhook': {
      const req = obj(p.request);
      return { request: { body: req.body ?? p.body ?? {}, query: req.query ?? p.query ?? {}, headers: req.headers ?? p.headers ?? {}, path: req.path ?? null } };
    }
    case 'manual':
      return { params: obj(p.params) };
  }
}

/** Identity of the trigger for effect keys and traces. */
export function triggerKeyOf(item: InboxItemInput): string {
  return `${item.source}:${item.key}`;
}
