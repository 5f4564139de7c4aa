/** `comment: { entity, id, text }` → crm.timeline.comment.add. */
import { timelineEntityType } from '../facts/index.js';
import { ActionConfigError } from './errors.js';
import { entityOpt, entityTypeIdOpt, idOpt, stringOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const entity = entityOpt('comment', config, ['lead', 'deal', 'contact', 'company', 'item']);
  const id = idOpt('comment', config);
  const text = stringOpt('comment', config, 'text') as string;
  if (text.trim() === '') throw new ActionConfigError('comment', 'text is empty');
  const entityTypeId = entityTypeIdOpt(config);
  const ENTITY_TYPE = timelineEntityType(entity, entityTypeId);
  const ENTITY_ID = Number(id);
  return {
    kind: 'calls',
    calls: [
      {
        method: 'crm.timeline.comment.add',
        params: { fields: { ENTITY_ID, ENTITY_TYPE, COMMENT: text } },
        // Comments have no external id: after a crash, a comment with this exact text on this record, written since the first send, is taken as ours.
        recovery: 'lookup',
        lookup: {
          method: 'crm.timeline.comment.list',
          params: { filter: { ENTITY_ID, ENTITY_TYPE }, select: ['ID', 'COMMENT', 'CREATED'] },
          rows: [],
          match: { COMMENT: text },
          createdField: 'CREATED',
          result: 'id-number',
        },
      },
    ],
  };
}

export const commentAction: ActionKind = { kind: 'comment', plan };
