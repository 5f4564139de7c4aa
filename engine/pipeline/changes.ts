/**
 * Change detection against the engine's last snapshot of a record (Bitrix24
 * events carry only IDs). Fields the portal changes on every write (modify
 * date, last activity) are ignored, so the engine's own update, merged into the
 * snapshot when it is done, does not look like a change.
 */
import { sameValue } from '../actions/index.js';
import type { FieldChange } from '../rules/index.js';

/** Fields that change on every write without meaning a business change. */
export const VOLATILE_FIELDS: ReadonlySet<string> = new Set([
  'DATE_MODIFY',
  'MODIFY_BY_ID',
  'LAST_ACTIVITY_TIME',
  'LAST_ACTIVITY_BY',
  'MOVED_TIME',
  'MOVED_BY_ID',
  'changedDate',
  'changedBy',
  'activityDate',
  'updatedTime',
  'updatedBy',
  'movedTime',
  'movedBy',
  'lastActivityTime',
  'lastActivityBy',
  'TIMESTAMP_X',
]);

/**
 * Fields the portal derives from others (a stage's semantics, flags). They take
 * part in `changed:` triggers, but a change of only these is not a change of the
 * record: the engine's own update moves them too.
 */
export const DERIVED_FIELDS: ReadonlySet<string> = new Set([
  'IS_NEW',
  'STAGE_SEMANTIC_ID',
  'STATUS_SEMANTIC_ID',
  'HAS_PHONE',
  'HAS_EMAIL',
  'HAS_IMOL',
  'IS_RETURN_CUSTOMER',
  'DATE_CLOSED',
  'stageSemanticId',
  'isNew',
]);

/** Whether the changes include a field that is neither volatile nor derived. */
export function isRealChange(changes: Changes): boolean {
  return Object.keys(changes).some((k) => !DERIVED_FIELDS.has(k));
}

export type Changes = Record<string, { from: unknown; to: unknown }>;

/** Fields whose value differs between the snapshot and the record. Without a snapshot every field counts as changed from undefined. */
export function diffRecord(previous: Record<string, unknown> | undefined, record: Record<string, unknown>): Changes {
  const out: Changes = {};
  for (const [k, v] of Object.entries(record)) {
    if (VOLATILE_FIELDS.has(k)) continue;
    const before = previous?.[k];
    if (previous === undefined || !sameValue(before, v)) out[k] = { from: before, to: v };
  }
  return out;
}

function anyOf(value: unknown, list: unknown[] | undefined): boolean {
  return list === undefined || list.some((x) => sameValue(value, x));
}

/** Whether the changes satisfy a trigger's `changed:` (every named field changed, with its from/to). Returns the first unmet field. */
export function changedMatches(spec: Record<string, FieldChange>, changes: Changes): { ok: true } | { ok: false; reason: string } {
  for (const [field, want] of Object.entries(spec)) {
    const ch = changes[field];
    if (!ch) return { ok: false, reason: `${field} did not change` };
    if (!anyOf(ch.to, want.to)) return { ok: false, reason: `${field} changed to ${JSON.stringify(ch.to)}, not to ${JSON.stringify(want.to)}` };
    if (!anyOf(ch.from, want.from)) return { ok: false, reason: `${field} changed from ${JSON.stringify(ch.from)}, not from ${JSON.stringify(want.from)}` };
  }
  return { ok: true };
}
