/** Action kinds: one pure `plan(config, ctx)` each; a registry by kind name. */
import { callAction } from './call.js';
import { commentAction } from './comment.js';
import { createAction, ORIGINATOR_ID, originIdOf } from './create.js';
import { ActionConfigError } from './errors.js';
import { httpAction } from './http.js';
import { notifyAction } from './notify.js';
import { roundRobinAction } from './round-robin.js';
import { stopAction } from './stop.js';
import { taskAction } from './task.js';
import { todoAction } from './todo.js';
import type { ActionKind } from './types.js';
import { updateAction } from './update.js';
import { workflowAction } from './workflow.js';
import { namedRefusal, type NamedRefusal } from './workflow-limit.js';
import { sameValue } from './compare.js';

/** Every action kind by its YAML key. */
const ACTIONS: Readonly<Record<string, ActionKind>> = {
  update: updateAction,
  create: createAction,
  comment: commentAction,
  task: taskAction,
  todo: todoAction,
  notify: notifyAction,
  workflow: workflowAction,
  call: callAction,
  http: httpAction,
  round_robin: roundRobinAction,
  stop: stopAction,
};

/** The action kind named `kind`; an unknown kind is a rule error. */
function actionKind(kind: string): ActionKind {
  const a = ACTIONS[kind];
  if (!a) throw new ActionConfigError(kind, `unknown action kind; known: ${Object.keys(ACTIONS).join(', ')}`);
  return a;
}

export { ACTIONS, actionKind, ActionConfigError, namedRefusal, ORIGINATOR_ID, originIdOf, sameValue };
export type { NamedRefusal };
export type { ActionKind, ActionOutcome, PlanContext, PlannedCall, HttpRequestPlan, LookupSpec } from './types.js';
