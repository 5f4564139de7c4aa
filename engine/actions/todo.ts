/** `todo: { entity, id, title, deadline, responsible, description }` → crm.activity.todo.add (top-level params, not `fields`). */
import { ENTITIES } from '../facts/index.js';
import { ActionConfigError } from './errors.js';
import { entityOpt, entityTypeIdOpt, idOpt, stringOpt, userIdOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const entity = entityOpt('todo', config, ['lead', 'deal', 'contact', 'company', 'item']);
  const ownerTypeId = entity === 'item' ? entityTypeIdOpt(config) : ENTITIES[entity].ownerTypeId;
  if (ownerTypeId === undefined) throw new ActionConfigError('todo', 'entity item needs entityTypeId');
  const ownerId = Number(idOpt('todo', config));
  const params: Record<string, unknown> = { ownerTypeId, ownerId, deadline: stringOpt('todo', config, 'deadline') };
  const title = stringOpt('todo', config, 'title', false);
  if (title !== undefined) params.title = title;
  const description = stringOpt('todo', config, 'description', false);
  if (description !== undefined) params.description = description;
  if (config.responsible !== undefined && config.responsible !== null && config.responsible !== '') params.responsibleId = userIdOpt('todo', config.responsible, 'responsible');
  return {
    kind: 'calls',
    calls: [
      {
        method: 'crm.activity.todo.add',
        params,
        // A to-do is an activity of its owner: after a crash, one with this subject on this record created since the first send is taken as ours.
        recovery: 'lookup',
        lookup: {
          method: 'crm.activity.list',
          params: { filter: { OWNER_TYPE_ID: ownerTypeId, OWNER_ID: ownerId }, select: ['ID', 'SUBJECT', 'CREATED'] },
          rows: [],
          ...(title !== undefined ? { match: { SUBJECT: title } } : {}),
          createdField: 'CREATED',
          result: 'id-object',
        },
      },
    ],
  };
}

export const todoAction: ActionKind = { kind: 'todo', plan };
