/**
 * `create: { entity, fields }`: crm.{entity}.add / crm.item.add / tasks.task.add.
 * CRM records carry ORIGINATOR_ID 'b24-rules' and ORIGIN_ID `b24rules:<effect key>`
 * (a smart process's item or an invoice: xmlId `b24rules:<effect key>`), so after
 * a crash the engine looks for the record before sending the add again.
 */
import { ENTITIES, taskBinding } from '../facts/index.js';
import { ActionConfigError } from './errors.js';
import { entityOpt, entityTypeIdOpt, objectOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export const ORIGINATOR_ID = 'b24-rules';

export function originIdOf(effectKey: string): string {
  return `b24rules:${effectKey}`;
}

export function plan(config: Record<string, unknown>, ctx: PlanContext): ActionOutcome {
  const entity = entityOpt('create', config, ['lead', 'deal', 'contact', 'company', 'task', 'item']);
  const fields = { ...(objectOpt('create', config, 'fields') as Record<string, unknown>) };
  const entityTypeId = entityTypeIdOpt(config);
  const originId = originIdOf(ctx.effectKey);
  if (entity === 'task') {
    if (!fields.TITLE || !fields.RESPONSIBLE_ID) throw new ActionConfigError('create', 'a task needs fields.TITLE and fields.RESPONSIBLE_ID');
    return { kind: 'calls', calls: [taskAddCall(fields)] };
  }
  if (entity === 'item') {
    if (entityTypeId === undefined) throw new ActionConfigError('create', 'entity item needs entityTypeId');
    // Smart processes and invoices have no originatorId/originId, only xmlId, "the external code" (object-fields.md).
    const marker = entityTypeId <= 4 ? { originatorId: ORIGINATOR_ID, originId } : { xmlId: originId };
    const call = ENTITIES.item.add!({ ...fields, ...marker }, entityTypeId);
    return {
      kind: 'calls',
      calls: [
        {
          ...call,
          recovery: 'lookup',
          lookup: { method: 'crm.item.list', params: { entityTypeId, filter: marker, select: ['id'] }, rows: ['items'], result: 'item' },
          resultPath: ['item', 'id'],
        },
      ],
    };
  }
  const call = ENTITIES[entity].add!({ ...fields, ORIGINATOR_ID, ORIGIN_ID: originId });
  return {
    kind: 'calls',
    calls: [
      {
        ...call,
        recovery: 'lookup',
        lookup: { method: `crm.${entity}.list`, params: { filter: { ORIGINATOR_ID, ORIGIN_ID: originId }, select: ['ID'] }, rows: [], result: 'id-number' },
      },
    ],
  };
}

/**
 * tasks.task.add. Tasks have no ORIGIN_ID: the in-doubt lookup is a task with the
 * same title and responsible created since the first send (tasks.task.list).
 */
export function taskAddCall(fields: Record<string, unknown>): import('./types.js').PlannedCall {
  return {
    method: 'tasks.task.add',
    params: { fields },
    recovery: 'lookup',
    lookup: {
      method: 'tasks.task.list',
      params: { filter: { TITLE: fields.TITLE, RESPONSIBLE_ID: fields.RESPONSIBLE_ID }, select: ['ID', 'TITLE', 'RESPONSIBLE_ID', 'CREATED_DATE'] },
      rows: ['tasks'],
      match: { title: fields.TITLE },
      createdField: 'createdDate',
      result: 'task',
    },
    resultPath: ['task'],
  };
}

export { taskBinding };
export const createAction: ActionKind = { kind: 'create', plan };
