/** `task: { title, responsible, deadline, description, bind: { entity, id }, ... }` → tasks.task.add (bind sets UF_CRM_TASK). */
import { taskBinding } from '../facts/index.js';
import { taskAddCall } from './create.js';
import { entityOpt, entityTypeIdOpt, idOpt, objectOpt, stringOpt, userIdOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

const EXTRA: Record<string, string> = {
  created_by: 'CREATED_BY',
  priority: 'PRIORITY',
  group_id: 'GROUP_ID',
  accomplices: 'ACCOMPLICES',
  auditors: 'AUDITORS',
  start_date_plan: 'START_DATE_PLAN',
  end_date_plan: 'END_DATE_PLAN',
  parent_id: 'PARENT_ID',
};

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const fields: Record<string, unknown> = {
    TITLE: stringOpt('task', config, 'title'),
    RESPONSIBLE_ID: userIdOpt('task', config.responsible, 'responsible'),
  };
  const description = stringOpt('task', config, 'description', false);
  if (description !== undefined) fields.DESCRIPTION = description;
  const deadline = stringOpt('task', config, 'deadline', false);
  if (deadline !== undefined) fields.DEADLINE = deadline;
  for (const [k, f] of Object.entries(EXTRA)) if (config[k] !== undefined && config[k] !== null && config[k] !== '') fields[f] = config[k];
  const bind = objectOpt('task', config, 'bind', false);
  if (bind) {
    const entity = entityOpt('task.bind', bind, ['lead', 'deal', 'contact', 'company', 'item']);
    fields.UF_CRM_TASK = [taskBinding(entity, idOpt('task.bind', bind), entityTypeIdOpt(bind))];
  }
  const extra = objectOpt('task', config, 'fields', false);
  if (extra) Object.assign(fields, extra);
  return { kind: 'calls', calls: [taskAddCall(fields)] };
}

export const taskAction: ActionKind = { kind: 'task', plan };
