/**
 * How the engine names a record: runs, waits and timers by `deal:12` /
 * `item:5`; snapshots of a smart process's item (or an invoice) by its type
 * too, under the entity `item:147`, because item IDs are unique only within
 * their type (api-reference/crm/universal/object-fields.md) and `changed:`
 * must compare an item with its own last state.
 */
import type { EntityName } from '../rules/index.js';
import { entityOfEvent, eventEntityTypeId, eventRecordId } from './entities.js';

/** A record of the portal: its entity, ID and, for an item, its smart-process type. */
export interface RecordIdentity {
  entity: EntityName;
  id: string;
  entityTypeId?: number;
}

/** The type a per-type item event names: ONCRMDYNAMICITEMUPDATE_147 → 147 (api-reference/crm/universal/events/index.md). */
export function itemEventType(event: string): number | undefined {
  const m = /^ONCRMDYNAMICITEM(?:ADD|UPDATE|DELETE)_(\d+)$/i.exec(event);
  return m ? Number(m[1]) : undefined;
}

/**
 * The record an event names: the entity (given, else the event's), the ID from
 * `data.FIELDS.ID`, and for an item its type, from the per-type event name or
 * `data.FIELDS.ENTITY_TYPE_ID`. Undefined when the event names no ID, or an
 * item without its type (the item cannot be read without it).
 */
export function eventRecordRef(event: string, payload: Record<string, unknown>, entity: EntityName | undefined = entityOfEvent(event)): RecordIdentity | undefined {
  const id = eventRecordId(payload);
  if (!entity || id === undefined) return undefined;
  if (entity !== 'item') return { entity, id };
  const entityTypeId = itemEventType(event) ?? eventEntityTypeId(payload);
  return entityTypeId === undefined ? undefined : { entity, id, entityTypeId };
}

/** The entity a record's snapshot is kept under: `deal`, `item:147`. */
export function snapshotEntity(entity: string, entityTypeId?: number): string {
  return entity === 'item' && entityTypeId !== undefined ? `item:${entityTypeId}` : entity;
}

/** The entity and type of a snapshot entity (`item:147` → item, 147). */
export function parseSnapshotEntity(entity: string): { entity: string; entityTypeId?: number } {
  const m = /^item:(\d+)$/.exec(entity);
  return m ? { entity: 'item', entityTypeId: Number(m[1]) } : { entity };
}

/**
 * A run's record key: `deal:12`, `item:5` (the concurrency default, `for:` timers, `wait_for`; what a
 * dry-run's firing names). Without the item's type: items of two types with one ID share it, so a rule
 * on the common item events serializes them, and its `for:` or `wait_for` takes them as one record.
 */
export function runRecordKey(ref: { entity: string; id: string; entityTypeId?: number }): string {
  return `${ref.entity}:${ref.id}`;
}
