/**
 * tasks.task.add, tasks.task.get and tasks.task.list of REST 3.0
 * (api-reference/tasks/tasks-task-{add,get,list}-rest-v3.md, fields-rest-v3.md)
 * on the same tasks as REST 1's (tasks.ts): camelCase fields with typed values
 * in and out (`id` a number, `priority` high/average/low, `status` pending/
 * in_progress/..., `crmItemIds` for UF_CRM_TASK), `{item}` / `{items}` answers,
 * REST 3.0's validation errors, and the same ONTASKADD event.
 */
import { formatIso, parseDate } from '../clock.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type MethodRegistry, type Params, type ValidationEntry } from '../types.js';

const VALIDATION = 'BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION';

function invalid(validation: ValidationEntry[]): PortalError {
  return new PortalError(400, VALIDATION, 'Request object validation failed', validation);
}

const PRIORITY_IN: Record<string, string> = { low: '0', average: '1', high: '2' };
const PRIORITY_OUT: Record<string, string> = { '0': 'low', '1': 'average', '2': 'high' };
const STATUS_OUT: Record<string, string> = { '1': 'pending', '2': 'pending', '3': 'in_progress', '4': 'supposedly_completed', '5': 'completed', '6': 'deferred', '7': 'declined' };

/** Fields tasks.task.add takes, by type (fields-rest-v3.md "Объект задачи"). */
const WRITABLE: Record<string, 'string' | 'int' | 'date' | 'priority' | 'crm' | 'bool'> = {
  title: 'string', description: 'string', creatorId: 'int', responsibleId: 'int', deadline: 'date', startPlan: 'date', endPlan: 'date',
  groupId: 'int', parentId: 'int', priority: 'priority', crmItemIds: 'crm', needsControl: 'bool',
};
/** Fields the page says add and update refuse ("Поле не доступно к изменению"). */
const NOT_WRITABLE = new Set(['id', 'created', 'accomplices', 'auditors', 'tags', 'userFields', 'creator', 'responsible', 'group', 'parent', 'stage', 'flow', 'chat']);

/** REST 3.0 field → the REST 1 row's key (tasks.ts stores camelCase REST 1 names). */
const ROW_KEY: Record<string, string> = { creatorId: 'createdBy', startPlan: 'startDatePlan', endPlan: 'endDatePlan', crmItemIds: 'ufCrmTask', created: 'createdDate', changed: 'changedDate', closed: 'closedDate' };

/** Fields tasks.task.list may select and order by (tasks-task-list-rest-v3.md); only `id` filters. */
const LISTABLE = ['id', 'title', 'description', 'creatorId', 'responsibleId', 'created', 'deadline', 'startPlan', 'endPlan', 'groupId', 'parentId', 'priority', 'status', 'changed', 'closed', 'crmItemIds', 'needsControl'];

function num(v: unknown): number | null {
  const n = Number(v);
  return v === null || v === undefined || v === '' || !Number.isFinite(n) ? null : n;
}

/** A stored task as REST 3.0 shows it. `ids`: with the IDs of linked objects (list), without (add, get). */
function item(row: Row, ids: boolean): Record<string, unknown> {
  const parent = num(row.parentId);
  const out: Record<string, unknown> = {
    id: Number(row.id),
    title: row.title ?? '',
    description: row.description ?? '',
    deadline: row.deadline ?? null,
    needsControl: false,
    startPlan: row.startDatePlan ?? null,
    endPlan: row.endDatePlan ?? null,
    priority: PRIORITY_OUT[String(row.priority)] ?? 'average',
    status: STATUS_OUT[String(row.status)] ?? 'pending',
    parentId: parent === 0 ? null : parent,
    changed: row.changedDate ?? null,
    closed: row.closedDate ?? null,
    crmItemIds: Array.isArray(row.ufCrmTask) ? row.ufCrmTask : [],
    link: `/company/personal/user/${String(row.responsibleId)}/tasks/task/view/${String(row.id)}/`,
  };
  if (ids) Object.assign(out, { creatorId: num(row.createdBy), responsibleId: num(row.responsibleId), groupId: num(row.groupId), created: row.createdDate ?? null });
  return out;
}

function selected(full: Record<string, unknown>, select: unknown): Record<string, unknown> {
  if (!Array.isArray(select) || select.length === 0) return { id: full.id };
  // An unknown own field in select is not an error: it is left out (rest-v3.md, "Связи между объектами").
  return Object.fromEntries(['id', ...select.map(String)].filter((k) => k in full).map((k) => [k, full[k]]));
}

export function registerTasksV3(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  const offset = (): number => state.portal.offsetMinutes;

  const value = (field: string, kind: (typeof WRITABLE)[string], v: unknown, problems: ValidationEntry[]): unknown => {
    const wrongType = (type: string): undefined => void problems.push({ field, message: `The field \`${field}\` requires the type \`${type}\` for this request` });
    switch (kind) {
      case 'string':
        return typeof v === 'string' ? v : wrongType('string');
      case 'int':
        return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v === null && field === 'parentId' ? '0' : wrongType('int');
      case 'bool':
        return typeof v === 'boolean' ? v : wrongType('bool');
      case 'date': {
        if (v === null) return null;
        const ms = typeof v === 'string' ? parseDate(v, offset()) : NaN;
        return Number.isNaN(ms) ? wrongType('DateTime') : formatIso(ms, offset());
      }
      case 'priority':
        return typeof v === 'string' && PRIORITY_IN[v] !== undefined ? PRIORITY_IN[v] : wrongType('high|average|low');
      case 'crm':
        return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : wrongType('array<string>');
    }
  };

  registry.register('tasks.task.add', {
    scope: 'task',
    cost: 0.1,
    handler: (params, ctx) => {
      const fields = params.fields;
      if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw invalid([{ field: 'fields', message: 'The required field `fields` is not set' }]);
      const problems: ValidationEntry[] = [];
      const set: Row = {};
      for (const [k, v] of Object.entries(fields as Params)) {
        if (NOT_WRITABLE.has(k)) problems.push({ field: k, message: `The field \`${k}\` cannot be changed` });
        else if (!WRITABLE[k]) problems.push({ field: k, message: `Unknown field \`${k}\`` });
        else set[ROW_KEY[k] ?? k] = value(k, WRITABLE[k], v, problems);
      }
      for (const k of ['title', 'creatorId', 'responsibleId']) if ((fields as Params)[k] === undefined) problems.push({ field: k, message: `The required field \`${k}\` is not set` });
      if (problems.length === 0) {
        if (!store.get('user', String(set.responsibleId))) problems.push({ field: 'responsibleId', message: 'The user given as the assignee was not found' });
        if (!store.get('user', String(set.createdBy))) problems.push({ field: 'creatorId', message: 'The user given as the creator was not found' });
        if (set.parentId !== undefined && set.parentId !== '0' && !store.get('task', String(set.parentId))) problems.push({ field: 'parentId', message: 'The task given as the parent was not found' });
      }
      if (problems.length > 0) throw invalid(problems);
      const id = String(store.nextId('task'));
      const now = formatIso(ctx.now(), offset());
      const row: Row = {
        id, parentId: '0', title: '', description: '', mark: null, priority: '1', status: '2', multitask: 'N', notViewed: 'N', replicate: 'N', groupId: '0',
        stageId: '0', createdBy: String(ctx.auth.userId), createdDate: now, responsibleId: '', changedBy: String(ctx.auth.userId), changedDate: now,
        statusChangedBy: String(ctx.auth.userId), statusChangedDate: now, closedBy: null, closedDate: null, activityDate: now, dateStart: null, deadline: null,
        startDatePlan: null, endDatePlan: null, commentsCount: null, allowChangeDeadline: 'N', timeEstimate: '0', accomplices: [], auditors: [], tags: [],
        descriptionInBbcode: 'Y', ufCrmTask: [],
        ...Object.fromEntries(Object.entries(set).filter(([k]) => k !== 'needsControl')),
      };
      store.put('task', id, row);
      ctx.emit('ONTASKADD', { FIELDS_BEFORE: 'undefined', FIELDS_AFTER: { ID: id }, IS_ACCESSIBLE_BEFORE: 'N', IS_ACCESSIBLE_AFTER: 'undefined' });
      return { result: { item: item(row, false) } };
    },
  });

  registry.register('tasks.task.get', {
    scope: 'task',
    handler: (params) => {
      if (params.id === undefined) throw invalid([{ field: 'id', message: 'The required field `id` is not set' }]);
      const row = store.get('task', String(params.id));
      if (!row) throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION', `Task ${String(params.id)} not found`);
      const full = item(row, false);
      return { result: { item: Array.isArray(params.select) && params.select.length > 0 ? selected(full, params.select) : full } };
    },
  });

  registry.register('tasks.task.list', {
    scope: 'task',
    cost: 0.1,
    handler: (params) => {
      const filter = params.filter ?? [];
      if (!Array.isArray(filter)) throw invalid([{ field: 'filter', message: 'The filter must be an array of conditions' }]);
      const match = (id: number, c: unknown): boolean => {
        if (c && typeof c === 'object' && !Array.isArray(c)) {
          const { logic, conditions } = c as { logic?: unknown; conditions?: unknown };
          if (!Array.isArray(conditions)) throw invalid([{ field: 'filter', message: 'A group needs `conditions`' }]);
          return logic === 'or' ? conditions.some((x) => match(id, x)) : conditions.every((x) => match(id, x));
        }
        const [field, a, b] = c as unknown[];
        const [op, v] = (c as unknown[]).length === 2 ? [Array.isArray(a) ? 'in' : '=', a] : [a, b];
        if (field !== 'id') {
          if (!LISTABLE.includes(String(field))) throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION', `Unknown field \`${String(field)}\` for the entity \`TaskDto\``);
          throw invalid([{ field: String(field), message: `The field \`${String(field)}\` of \`TaskDto\` needs the \`Filterable\` attribute for this request` }]);
        }
        switch (op) {
          case '=': return id === Number(v);
          case '!=': return id !== Number(v);
          case '>': return id > Number(v);
          case '>=': return id >= Number(v);
          case '<': return id < Number(v);
          case '<=': return id <= Number(v);
          case 'in': return Array.isArray(v) && v.map(Number).includes(id);
          case 'between': return Array.isArray(v) && id >= Number(v[0]) && id <= Number(v[1]);
          default: throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION', `Unknown filter operator \`${String(op)}\``);
        }
      };
      const order = (params.order ?? { id: 'ASC' }) as Record<string, unknown>;
      const [orderBy, dirRaw] = Object.entries(order)[0] ?? ['id', 'ASC'];
      const dir = String(dirRaw).toUpperCase();
      if (!LISTABLE.includes(orderBy) || (dir !== 'ASC' && dir !== 'DESC')) throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION', `Cannot read the order \`${JSON.stringify(order)}\``);
      const pagination = (params.pagination ?? {}) as Record<string, unknown>;
      const limit = pagination.limit === undefined ? 50 : Number(pagination.limit);
      const page = pagination.page === undefined ? 1 : Number(pagination.page);
      if (!Number.isInteger(limit) || limit <= 0 || limit > 1000 || !Number.isInteger(page) || page < 1) {
        throw new PortalError(400, 'BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION', `Cannot read the pagination \`${JSON.stringify(pagination)}\``);
      }
      const offsetRows = pagination.offset !== undefined && pagination.page === undefined ? Number(pagination.offset) : (page - 1) * limit;
      const rows = store
        .all('task')
        .map((r) => item(r, true))
        .filter((t) => filter.every((c) => match(t.id as number, c)))
        .sort((x, y) => {
          const a = x[orderBy] as string | number | null;
          const b = y[orderBy] as string | number | null;
          const cmp = a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
          return dir === 'ASC' ? cmp : -cmp;
        });
      return { result: { items: rows.slice(offsetRows, offsetRows + limit).map((t) => selected(t, params.select)) } };
    },
  });
}
