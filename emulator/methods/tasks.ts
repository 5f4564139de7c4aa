/**
 * tasks.task.add/get/list/update/delete (API-FACTS §7; api-reference/tasks/tasks-task-*.md):
 * UPPER_CASE fields in, camelCase `{task}` / `{tasks}` out with string values,
 * UF_CRM_TASK bindings, and the ONTASK* events with FIELDS_BEFORE/FIELDS_AFTER.
 */
import { formatIso, parseDate } from '../clock.js';
import { tableSchema } from '../crm/filter.js';
import { listQuery } from '../crm/list-query.js';
import { selectList } from '../crm/views.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type CallContext, type MethodRegistry, type Params } from '../types.js';
import { asId, objectParam, param } from './params.js';

const KINDS = {
  id: 'number', title: 'string', description: 'string', status: 'number', priority: 'number', responsibleId: 'number', createdBy: 'number',
  createdDate: 'date', changedDate: 'date', closedDate: 'date', deadline: 'date', startDatePlan: 'date', endDatePlan: 'date', groupId: 'number',
  parentId: 'number', ufCrmTask: 'string', accomplices: 'number', auditors: 'number', mark: 'string', timeEstimate: 'number',
} as const;

const DATE_FIELDS = new Set(['deadline', 'startDatePlan', 'endDatePlan', 'closedDate', 'createdDate', 'changedDate']);
const LIST_FIELDS = new Set(['accomplices', 'auditors', 'ufCrmTask', 'tags']);
/** Returned only when selected (tasks-task-get.md). */
const ONLY_WHEN_SELECTED = ['ufCrmTask', 'ufTaskWebdavFiles', 'ufMailMessage'];

/** `RESPONSIBLE_ID` → `responsibleId`; `REAL_STATUS` is the status; camelCase passes through. */
export function taskKey(k: string): string {
  if (k === 'REAL_STATUS') return 'status';
  if (!/^[A-Z0-9_]+$/.test(k)) return k;
  return k.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function taskIdParam(params: Params): string {
  const id = asId(param(params, 'taskId') ?? param(params, 'id'));
  if (id === undefined) throw new PortalError(400, 'ERROR_CORE', 'Task not found');
  return id;
}

export function registerTasks(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  const offset = (): number => state.portal.offsetMinutes;

  const person = (id: unknown): Row => {
    const u = store.get('user', String(id));
    const name = u ? `${String(u.NAME ?? '')} ${String(u.LAST_NAME ?? '')}`.trim() : '';
    return { id: String(id), name, link: `/company/personal/user/${String(id)}/`, icon: '/bitrix/images/tasks/default_avatar.png', workPosition: u?.WORK_POSITION ?? '' };
  };

  const view = (row: Row, select?: unknown): Row => {
    const list = selectList(select)?.map(taskKey);
    const all = !list || list.length === 0 || list.includes('*');
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) {
      if (ONLY_WHEN_SELECTED.includes(k) && !list?.includes(k)) continue;
      if (!all && k !== 'id' && !list.includes(k)) continue;
      out[k] = v;
    }
    if (all || list.includes('responsibleId')) out.responsible = person(row.responsibleId);
    if (all || list.includes('createdBy')) out.creator = person(row.createdBy);
    if (all) out.action = { accept: false, decline: false, complete: true, approve: false, disapprove: false, start: true, pause: false, delegate: true, remove: true, edit: true, defer: true, renew: false, create: true, changeDeadline: true, checklistAddItems: true, addFavorite: true, deleteFavorite: false, rate: true, 'edit.originator': false, 'checklist.reorder': true, 'elapsedtime.add': true, 'dayplan.timer.toggle': false, 'edit.plan': true, 'checklist.add': true, 'favorite.add': true, 'favorite.delete': false };
    return out;
  };

  const apply = (row: Row, fields: Row): void => {
    for (const [k, v] of Object.entries(fields)) {
      const key = taskKey(k);
      if (key === 'id' || key === 'createdDate' || key === 'changedDate') continue;
      if (LIST_FIELDS.has(key)) {
        const arr = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : v === '' || v === null || v === undefined ? [] : [v];
        row[key] = arr.map(String);
      } else if (DATE_FIELDS.has(key)) {
        const ms = parseDate(v, offset());
        row[key] = v === '' || v === null || Number.isNaN(ms) ? null : formatIso(ms, offset());
      } else {
        row[key] = v === null ? null : typeof v === 'object' ? v : String(v);
      }
    }
  };

  const check = (row: Row): void => {
    if (!row.title || String(row.title).trim() === '') throw new PortalError(400, 'ERROR_CORE', 'Task title is not specified<br>');
    if (!row.responsibleId || row.responsibleId === '0') throw new PortalError(400, 'ERROR_CORE', 'Task assignee is not specified<br>');
    if (!store.get('user', String(row.responsibleId))) throw new PortalError(400, 'ERROR_CORE', `User with ID ${String(row.responsibleId)} not found<br>`);
    if (!['1', '2', '3', '4', '5', '6', '7'].includes(String(row.status))) throw new PortalError(400, 'ERROR_CORE', `Unknown task status ${String(row.status)}<br>`);
  };

  const emitTask = (ctx: CallContext, event: string, id: string): void => {
    const before = event === 'ONTASKADD' ? 'undefined' : { ID: id };
    const after = event === 'ONTASKDELETE' ? 'undefined' : { ID: id };
    ctx.emit(event, { FIELDS_BEFORE: before, FIELDS_AFTER: after, IS_ACCESSIBLE_BEFORE: event === 'ONTASKADD' ? 'N' : 'undefined', IS_ACCESSIBLE_AFTER: 'undefined' });
  };

  registry.register('tasks.task.add', {
    scope: 'task',
    cost: 0.1,
    handler: (params, ctx) => {
      const fields = objectParam(params, 'fields');
      if (!fields) throw new PortalError(400, '100', 'Could not find value for parameter {fields}');
      const id = String(store.nextId('task'));
      const now = formatIso(ctx.now(), offset());
      const row: Row = {
        id, parentId: '0', title: '', description: '', mark: null, priority: '1', status: '2', multitask: 'N', notViewed: 'N', replicate: 'N', groupId: '0',
        stageId: '0', createdBy: String(ctx.auth.userId), createdDate: now, responsibleId: '', changedBy: String(ctx.auth.userId), changedDate: now,
        statusChangedBy: String(ctx.auth.userId), statusChangedDate: now, closedBy: null, closedDate: null, activityDate: now, dateStart: null, deadline: null,
        startDatePlan: null, endDatePlan: null, commentsCount: null, allowChangeDeadline: 'N', timeEstimate: '0', accomplices: [], auditors: [], tags: [],
        descriptionInBbcode: 'Y', ufCrmTask: [],
      };
      apply(row, fields);
      check(row);
      if (row.status === '5') row.closedDate = now;
      store.put('task', id, row);
      emitTask(ctx, 'ONTASKADD', id);
      return { result: { task: view(row) } };
    },
  });

  registry.register('tasks.task.get', {
    scope: 'task',
    handler: (params) => {
      const id = taskIdParam(params);
      const row = store.get('task', id);
      if (!row) throw new PortalError(400, 'ERROR_CORE', 'Task not found');
      return { result: { task: view(row, param(params, 'select')) } };
    },
  });

  registry.register('tasks.task.list', {
    scope: 'task',
    cost: 0.1,
    handler: (params) => {
      const schema = tableSchema(KINDS, offset(), taskKey);
      const { page, total, next } = listQuery(store, 'task', { filter: param(params, 'filter'), order: param(params, 'order'), fallback: [['id', 'DESC']], start: param(params, 'start'), schema, memoKey: 'tasks.task.list' });
      return { result: { tasks: page.map((r) => view(r, param(params, 'select'))) }, total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('tasks.task.update', {
    scope: 'task',
    cost: 0.1,
    handler: (params, ctx) => {
      const id = taskIdParam(params);
      const fields = objectParam(params, 'fields');
      if (!fields || Object.keys(fields).length === 0) throw new PortalError(400, '100', 'Could not find value for parameter {fields}');
      const row = store.get('task', id);
      if (!row) throw new PortalError(400, 'ERROR_CORE', 'Task not found');
      const before = String(row.status);
      apply(row, fields);
      check(row);
      const now = formatIso(ctx.now(), offset());
      row.changedDate = now;
      row.changedBy = String(ctx.auth.userId);
      if (String(row.status) !== before) {
        row.statusChangedDate = now;
        row.statusChangedBy = String(ctx.auth.userId);
        row.closedDate = row.status === '5' ? now : null;
        row.closedBy = row.status === '5' ? String(ctx.auth.userId) : null;
      }
      store.put('task', id, row);
      emitTask(ctx, 'ONTASKUPDATE', id);
      return { result: { task: view(row) } };
    },
  });

  registry.register('tasks.task.delete', {
    scope: 'task',
    cost: 0.1,
    handler: (params, ctx) => {
      const id = taskIdParam(params);
      if (!store.delete('task', id)) throw new PortalError(400, 'ERROR_CORE', 'Task not found');
      emitTask(ctx, 'ONTASKDELETE', id);
      return { result: { task: true } };
    },
  });
}
