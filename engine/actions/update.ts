/** `update: { entity, id, fields }`: only fields that differ from the loaded record are sent; nothing when none differ. */
import { ENTITIES } from '../facts/index.js';
import { sameValue } from './compare.js';
import { ActionConfigError } from './errors.js';
import { entityOpt, entityTypeIdOpt, idOpt, objectOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, ctx: PlanContext): ActionOutcome {
  const entity = entityOpt('update', config, ['lead', 'deal', 'contact', 'company', 'task', 'item']);
  const id = idOpt('update', config);
  const fields = objectOpt('update', config, 'fields') as Record<string, unknown>;
  const entityTypeId = entityTypeIdOpt(config);
  if (entity === 'item' && entityTypeId === undefined) throw new ActionConfigError('update', 'entity item needs entityTypeId');
  const def = ENTITIES[entity];
  const record = ctx.record(entity, id, entityTypeId);
  const changed: Record<string, unknown> = {};
  const before: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (record && sameValue(record[def.recordField(field)], value)) continue;
    changed[field] = value;
    before[field] = record ? (record[def.recordField(field)] ?? null) : undefined;
  }
  if (Object.keys(changed).length === 0) return { kind: 'calls', calls: [], note: 'no field differs from the loaded record: nothing sent' };
  const call = def.update!(id, changed, entityTypeId);
  return {
    kind: 'calls',
    calls: [
      {
        method: call.method,
        params: call.params,
        // Setting fixed values twice leaves the same record: safe to send again after a crash.
        recovery: 'resend',
        before,
        after: changed,
        snapshot: { entity, id, fields: Object.fromEntries(Object.entries(changed).map(([k, v]) => [def.recordField(k), v])), ...(entity === 'item' ? { entityTypeId } : {}) },
      },
    ],
    ...(record ? {} : { note: 'record not loaded: all fields sent' }),
  };
}

export const updateAction: ActionKind = { kind: 'update', plan };
