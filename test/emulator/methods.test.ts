/**
 * The other methods. Doc pages: api-reference/crm/status/crm-status-list.md, api-reference/crm/universal/category/crm-category-list.md,
 * api-reference/crm/outdated/category-old/crm-deal-category-stage-list.md, api-reference/crm/timeline/comments/crm-timeline-comment-add.md,
 * api-reference/crm/timeline/comments/events/on-Crm-Timeline-Comment-Add.md, crm-timeline-comment-update.md (result: the id), crm-timeline-comment-delete.md (result: null), api-reference/crm/timeline/activities/todo/crm-activity-todo-add.md,
 * api-reference/tasks/tasks-task-add.md, tasks-task-list.md, api-reference/tasks/events-tasks/on-task-add.md,
 * api-reference/chats/notifications/im-notify-system-add.md, api-reference/user/user-current.md, user-get.md,
 * api-reference/bizproc/bizproc-workflow-start.md, api-reference/common/system/feature-get.md, app-info.md, scope.md, methods.md,
 * api-reference/common/users/profile.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { NO_RATE_LIMIT, emulator, hook, oauth, type Row } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  ({ emu } = await emulator({ limits: NO_RATE_LIMIT }));
});
afterAll(() => emu.close());

describe('statuses and pipelines', () => {
  it('crm.status.list filters by ENTITY_ID and gives stage lists EXTRA.SEMANTICS', async () => {
    const a = await hook(emu, 'crm.status.list', { filter: { ENTITY_ID: 'DEAL_STAGE' }, order: { SORT: 'ASC' } });
    const rows = a.body.result as Row[];
    expect(rows.map((r) => r.STATUS_ID)).toEqual(['NEW', 'PREPARATION', 'PREPAYMENT_INVOICE', 'EXECUTING', 'FINAL_INVOICE', 'WON', 'LOSE', 'APOLOGY']);
    expect(rows.find((r) => r.STATUS_ID === 'WON')).toMatchObject({ ENTITY_ID: 'DEAL_STAGE', SEMANTICS: 'S', EXTRA: { SEMANTICS: 'success' } });
    expect(a.body.total).toBe(8);
    const sources = (await hook(emu, 'crm.status.list', { filter: { ENTITY_ID: 'SOURCE' } })).body.result as Row[];
    expect(sources.map((s) => s.STATUS_ID)).toContain('WEB');
  });

  it('crm.category.list gives the default pipeline id 0 and the demo Renewals and Service pipelines', async () => {
    const a = await hook(emu, 'crm.category.list', { entityTypeId: 2 });
    expect((a.body.result as { categories: Row[] }).categories.map((c) => [c.id, c.name, c.isDefault])).toEqual([
      [0, 'Sales', 'Y'],
      [1, 'Renewals', 'N'],
      [2, 'Service', 'N'],
    ]);
    expect((await hook(emu, 'crm.category.get', { entityTypeId: 2, id: 1 })).body.result).toMatchObject({ category: { id: 1, name: 'Renewals' } });
  });

  it('crm.dealcategory.stage.list id=1 gives C1: stages; a missing pipeline gives nothing', async () => {
    const stages = (await hook(emu, 'crm.dealcategory.stage.list', { id: 1 })).body.result as Row[];
    expect(stages.map((s) => s.STATUS_ID)).toEqual(['C1:NEW', 'C1:NEGOTIATION', 'C1:WON', 'C1:LOSE']);
    expect((await hook(emu, 'crm.dealcategory.stage.list', { id: 42 })).body.result).toEqual([]);
    expect((await hook(emu, 'crm.dealcategory.status', { id: 1 })).body.result).toBe('DEAL_STAGE_1');
  });
});

describe('timeline and activities', () => {
  it('crm.timeline.comment.add returns the id and raises ONCRMTIMELINECOMMENTADD with {ID} (no FIELDS wrapper)', async () => {
    const a = await hook(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 1, ENTITY_TYPE: 'deal', COMMENT: 'Called, no answer' } });
    expect(typeof a.body.result).toBe('number');
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONCRMTIMELINECOMMENTADD', data: { ID: a.body.result } });
    const list = (await hook(emu, 'crm.timeline.comment.list', { filter: { ENTITY_ID: 1, ENTITY_TYPE: 'deal' } })).body.result as Row[];
    expect(list.map((c) => c.COMMENT)).toEqual(['Called, no answer']);
    expect((await hook(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 99999, ENTITY_TYPE: 'deal', COMMENT: 'x' } })).body.error).toBe('OWNER_NOT_FOUND');
    await hook(emu, 'crm.timeline.comment.update', { id: a.body.result, fields: { COMMENT: 'Called twice' } });
    expect(((await hook(emu, 'crm.timeline.comment.get', { id: a.body.result })).body.result as Row).COMMENT).toBe('Called twice');
    await hook(emu, 'crm.timeline.comment.delete', { id: a.body.result });
    expect(emu.events.emitted.slice(-2).map((e) => [e.event, e.data])).toEqual([
      ['ONCRMTIMELINECOMMENTUPDATE', { ID: a.body.result }],
      ['ONCRMTIMELINECOMMENTDELETE', { ID: a.body.result }],
    ]);
    expect((await hook(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 1, ENTITY_TYPE: 'deal', COMMENT: ' ' } })).body.error).toBe('INVALID_ARG_VALUE');
  });

  it('crm.activity.todo.add takes top-level params and returns {id}; crm.activity.list finds it by owner', async () => {
    const a = await hook(emu, 'crm.activity.todo.add', { ownerTypeId: 2, ownerId: 3, deadline: '2026-11-25T15:00:00', title: 'Follow up', responsibleId: 4 });
    const id = (a.body.result as { id: number }).id;
    expect(typeof id).toBe('number');
    const rows = (await hook(emu, 'crm.activity.list', { filter: { OWNER_TYPE_ID: 2, OWNER_ID: 3 } })).body.result as Row[];
    expect(rows.map((r) => [r.ID, r.SUBJECT, r.RESPONSIBLE_ID, r.DEADLINE])).toEqual([[String(id), 'Follow up', '4', '2026-11-25T15:00:00+03:00']]);
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONCRMACTIVITYADD', data: { FIELDS: { ID: String(id) } } });
    expect((await hook(emu, 'crm.activity.todo.add', { ownerTypeId: 2, ownerId: 3, deadline: 'tomorrow' })).body.error).toBe('WRONG_DATETIME_FORMAT');
  });
});

describe('tasks', () => {
  it('tasks.task.add: UPPER fields in, {task} camelCase out with strings; ONTASKADD carries FIELDS_AFTER', async () => {
    const a = await hook(emu, 'tasks.task.add', { fields: { TITLE: 'Call the client', RESPONSIBLE_ID: 3, DEADLINE: '2026-11-30T18:00:00', UF_CRM_TASK: ['D_1', 'C_2'], PRIORITY: 2 } });
    const task = (a.body.result as { task: Row }).task;
    expect(task).toMatchObject({ title: 'Call the client', responsibleId: '3', createdBy: '1', status: '2', priority: '2', deadline: '2026-11-30T18:00:00+03:00' });
    const withUf = (await hook(emu, 'tasks.task.get', { taskId: task.id, select: ['*', 'UF_CRM_TASK'] })).body.result as { task: Row };
    expect(withUf.task.ufCrmTask).toEqual(['D_1', 'C_2']);
    expect((task.responsible as Row).name).toBe('Chloe Nguyen');
    expect(emu.events.emitted.at(-1)).toEqual(expect.objectContaining({ event: 'ONTASKADD', data: { FIELDS_BEFORE: 'undefined', FIELDS_AFTER: { ID: task.id }, IS_ACCESSIBLE_BEFORE: 'N', IS_ACCESSIBLE_AFTER: 'undefined' } }));
  });

  it('tasks.task.add without a title is ERROR_CORE 400', async () => {
    expect(await hook(emu, 'tasks.task.add', { fields: { RESPONSIBLE_ID: 3 } })).toEqual({ status: 400, body: { error: 'ERROR_CORE', error_description: 'Task title is not specified<br>' } });
  });

  it('tasks.task.list filters by UPPER names, orders by ID desc by default, select narrows; get hides UF_CRM_TASK unless selected', async () => {
    const a = await hook(emu, 'tasks.task.list', { filter: { RESPONSIBLE_ID: 3, '!REAL_STATUS': 5 }, select: ['ID', 'TITLE', 'UF_CRM_TASK'] });
    const tasks = (a.body.result as { tasks: Row[] }).tasks;
    expect(tasks.map((t) => t.title)).toEqual(['Call the client', 'Call back Northwind about the contract']);
    expect(Object.keys(tasks[0] as Row).sort()).toEqual(['id', 'title', 'ufCrmTask']);
    const byBinding = (await hook(emu, 'tasks.task.list', { filter: { UF_CRM_TASK: 'D_12' } })).body.result as { tasks: Row[] };
    expect(byBinding.tasks.map((t) => t.id)).toEqual(['2']);
    const got = (await hook(emu, 'tasks.task.get', { taskId: 1 })).body.result as { task: Row };
    expect('ufCrmTask' in got.task).toBe(false);
    const sel = (await hook(emu, 'tasks.task.get', { taskId: 1, select: ['ID', 'UF_CRM_TASK'] })).body.result as { task: Row };
    expect(sel.task.ufCrmTask).toEqual(['D_1', 'CO_1']);
  });

  it('tasks.task.update sets closedDate when completed and raises ONTASKUPDATE', async () => {
    const a = await hook(emu, 'tasks.task.update', { taskId: 1, fields: { STATUS: 5 } });
    expect((a.body.result as { task: Row }).task).toMatchObject({ status: '5', closedDate: '2026-11-24T09:00:00+03:00' });
    expect(emu.events.emitted.at(-1)).toMatchObject({ event: 'ONTASKUPDATE', data: { FIELDS_BEFORE: { ID: '1' }, FIELDS_AFTER: { ID: '1' } } });
  });
});

describe('notifications, users, business processes', () => {
  it('im.notify.system.add returns an id; USER_ID and MESSAGE are required', async () => {
    const a = await hook(emu, 'im.notify.system.add', { USER_ID: 3, MESSAGE: 'Deal [B]#5[/B] is stale' });
    expect(typeof a.body.result).toBe('number');
    expect(emu.store.get('notification', String(a.body.result))).toMatchObject({ USER_ID: '3', MESSAGE: 'Deal [B]#5[/B] is stale' });
    expect(await hook(emu, 'im.notify.system.add', { MESSAGE: 'x' })).toEqual({ status: 400, body: { error: 'USER_ID_EMPTY', error_description: "User ID can't be empty" } });
    expect((await hook(emu, 'im.notify.system.add', { USER_ID: 3, MESSAGE: ' ' })).body.error).toBe('MESSAGE_EMPTY');
  });

  it('user.current and profile answer for the caller; user.get filters and pages', async () => {
    expect((await hook(emu, 'user.current')).body.result).toMatchObject({ ID: '1', NAME: 'Alice', ACTIVE: true, UF_DEPARTMENT: [1] });
    expect((await oauth(emu, 'profile', {}, emu.issueTokens(4).access_token)).body.result).toMatchObject({ ID: '4', ADMIN: false, NAME: 'Diego' });
    const sales = await hook(emu, 'user.get', { FILTER: { UF_DEPARTMENT: 2 } });
    expect((sales.body.result as Row[]).map((u) => u.ID)).toEqual(['2', '3', '4', '9', '12', '15', '21']);
    expect(sales.body.total).toBe(7);
    expect(((await hook(emu, 'user.get', { ID: 5 })).body.result as Row[]).map((u) => u.NAME)).toEqual(['Emma']);
    expect(((await hook(emu, 'user.search', { FIND: 'schulz' })).body.result as Row[]).map((u) => u.ID)).toEqual(['5']);
    expect(((await hook(emu, 'department.get', { PARENT: 1 })).body.result as Row[]).map((d) => d.NAME)).toEqual(['Sales', 'Customer Success']);
  });

  it('bizproc.workflow.start returns a workflow id string and records the start; bad input is 400', async () => {
    const a = await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 12, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'], PARAMETERS: { reason: 'stale' } });
    expect(a.body.result).toMatch(/^[0-9a-f]+\.\d{8}$/);
    // bizproc-workflow-instances.md: the started workflow is listed until terminated.
    const listed = await hook(emu, 'bizproc.workflow.instances', { select: ['ID', 'TEMPLATE_ID', 'DOCUMENT_ID', 'ENTITY', 'STARTED_BY'], filter: { TEMPLATE_ID: 12, DOCUMENT_ID: 'DEAL_3' } });
    expect(listed.body.result).toEqual([{ ID: a.body.result, TEMPLATE_ID: '12', DOCUMENT_ID: 'DEAL_3', ENTITY: 'CCrmDocumentDeal', STARTED_BY: '1' }]);
    expect(Object.keys(((await hook(emu, 'bizproc.workflow.instances')).body.result as Row[])[0] as Row)).toEqual(['ID', 'MODIFIED', 'OWNED_UNTIL']);
    expect((await hook(emu, 'bizproc.workflow.terminate', { ID: a.body.result, STATUS: 'stop' })).body.result).toBe(true);
    expect((await hook(emu, 'bizproc.workflow.instances', { filter: { TEMPLATE_ID: 12 } })).body.result).toEqual([]);
    expect(await hook(emu, 'bizproc.workflow.start', { DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'] })).toEqual({ status: 400, body: { error: 'ERROR_WRONG_WORKFLOW_ID', error_description: 'Empty TEMPLATE_ID' } });
    expect((await hook(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 1, DOCUMENT_ID: ['crm', 'CCrmDocumentLead', 'DEAL_3'] })).body.error_description).toBe('Incorrect document type!');
    const nonAdmin = await oauth(emu, 'bizproc.workflow.start', { TEMPLATE_ID: 1, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_3'] }, emu.issueTokens(3).access_token);
    expect(nonAdmin.status).toBe(403);
  });
});

describe('system helpers', () => {
  it('feature.get, app.info, server.time, scope, methods, method.get', async () => {
    expect((await hook(emu, 'feature.get', { CODE: 'rest_offline_extended' })).body.result).toEqual({ value: 'Y' });
    expect((await hook(emu, 'feature.get', {})).status).toBe(400);
    expect((await oauth(emu, 'app.info')).body.result).toMatchObject({ CODE: emu.app.client_id, STATUS: 'L', INSTALLED: true });
    expect((await hook(emu, 'server.time')).body.result).toBe('2026-11-24T09:00:00+03:00');
    expect((await hook(emu, 'scope')).body.result).toEqual(expect.arrayContaining(['crm', 'task', 'im', 'user', 'bizproc']));
    const methods = (await hook(emu, 'methods')).body.result as string[];
    expect(methods).toEqual(expect.arrayContaining(['batch', 'crm.deal.list', 'tasks.task.add', 'event.bind']));
    expect((await hook(emu, 'method.get', { name: 'crm.deal.list' })).body.result).toEqual({ isExisting: true, isAvailable: true });
  });
});
