/** `workflow: { template_id, entity, id, parameters }` → bizproc.workflow.start with DOCUMENT_ID ['crm','CCrmDocumentDeal','DEAL_12']. */
import { workflowDocumentId } from '../facts/index.js';
import { ActionConfigError } from './errors.js';
import { entityOpt, entityTypeIdOpt, idOpt, objectOpt } from './options.js';
import type { ActionKind, ActionOutcome, PlanContext } from './types.js';

export function plan(config: Record<string, unknown>, _ctx: PlanContext): ActionOutcome {
  const templateId = Number(config.template_id ?? config.templateId);
  if (!Number.isInteger(templateId) || templateId <= 0) throw new ActionConfigError('workflow', `template_id must be a workflow template ID, got ${JSON.stringify(config.template_id)}`);
  const entity = entityOpt('workflow', config, ['lead', 'deal', 'contact', 'company', 'item']);
  const DOCUMENT_ID = workflowDocumentId(entity, idOpt('workflow', config), entityTypeIdOpt(config));
  const parameters = objectOpt('workflow', config, 'parameters', false);
  return {
    kind: 'calls',
    calls: [
      {
        method: 'bizproc.workflow.start',
        params: { TEMPLATE_ID: templateId, DOCUMENT_ID, ...(parameters ? { PARAMETERS: parameters } : {}) },
        // A running workflow of this template on this document, started since the first send, is taken as ours.
        recovery: 'lookup',
        lookup: {
          method: 'bizproc.workflow.instances',
          params: { select: ['ID', 'TEMPLATE_ID', 'DOCUMENT_ID', 'STARTED'], filter: { TEMPLATE_ID: templateId, DOCUMENT_ID: DOCUMENT_ID[2] } },
          rows: [],
          createdField: 'STARTED',
          result: 'id-string',
        },
      },
    ],
  };
}

export const workflowAction: ActionKind = { kind: 'workflow', plan };
