/**
 * Timeline comments and activities (API-FACTS §6.8):
 * crm.timeline.comment.add/get/list, crm.activity.todo.add, crm.activity.add/get/list/delete.
 */
import { formatIso, parseDate } from '../clock.js';
import { entityByName, entityByTypeId } from '../crm/entities.js';
import { INVOICE_TYPE_ID } from '../crm/smart-types.js';
import { tableSchema } from '../crm/filter.js';
import { listQuery } from '../crm/list-query.js';
import { selectList } from '../crm/views.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type MethodRegistry } from '../types.js';
import { asId, objectParam, param } from './params.js';

const COMMENT_KINDS = { ID: 'number', CREATED: 'date', ENTITY_ID: 'number', ENTITY_TYPE: 'string', AUTHOR_ID: 'number', COMMENT: 'string' } as const;

const ACTIVITY_KINDS = {
  ID: 'number', OWNER_ID: 'number', OWNER_TYPE_ID: 'number', TYPE_ID: 'number', PROVIDER_ID: 'string', PROVIDER_TYPE_ID: 'string',
  SUBJECT: 'string', DESCRIPTION: 'string', COMPLETED: 'string', STATUS: 'number', RESPONSIBLE_ID: 'number', PRIORITY: 'number',
  DIRECTION: 'number', START_TIME: 'date', END_TIME: 'date', DEADLINE: 'date', CREATED: 'date', LAST_UPDATED: 'date', AUTHOR_ID: 'number', EDITOR_ID: 'number',
} as const;

function pick(row: Row, select: unknown): Row {
  const list = selectList(select);
  if (!list || list.length === 0 || list.includes('*')) return { ...row };
  const out: Row = { ID: row.ID };
  for (const k of list) if (k.toUpperCase() in row) out[k.toUpperCase()] = row[k.toUpperCase()];
  return out;
}

export function registerCrmTimeline(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  const offset = (): number => state.portal.offsetMinutes;
  const ownerExists = (typeId: number, id: unknown): boolean => {
    const e = entityByTypeId(typeId, store);
    return e !== undefined && asId(id) !== undefined && store.get(e.name, String(id)) !== undefined;
  };

  registry.register('crm.timeline.comment.add', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      // Since crm 23.100.0 the key must be lowercase `fields`.
      const fields = params.fields;
      if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new PortalError(400, '100', 'Expected one of the following parameters: fields');
      const f = fields as Row;
      if (f.ENTITY_ID === undefined || f.ENTITY_TYPE === undefined || f.COMMENT === undefined) throw new PortalError(400, '100', 'Required fields: ENTITY_ID, ENTITY_TYPE, COMMENT');
      const entity = entityByName(String(f.ENTITY_TYPE), store);
      if (!entity || !ownerExists(entity.entityTypeId, f.ENTITY_ID)) throw new PortalError(400, 'OWNER_NOT_FOUND', 'Owner entity not found');
      if (String(f.COMMENT).trim() === '') throw new PortalError(400, 'INVALID_ARG_VALUE', 'Empty comment');
      const id = store.nextId('timeline_comment');
      store.put('timeline_comment', id, {
        ID: String(id),
        CREATED: formatIso(ctx.now(), offset()),
        ENTITY_ID: String(Number(f.ENTITY_ID)),
        ENTITY_TYPE: entity.entityTypeId === INVOICE_TYPE_ID ? 'smart_invoice' : entity.name,
        AUTHOR_ID: String(ctx.auth.userId),
        COMMENT: String(f.COMMENT),
        FILES: [],
      });
      ctx.emit('ONCRMTIMELINECOMMENTADD', { ID: id });
      return { result: id };
    },
  });

  registry.register('crm.timeline.comment.get', {
    scope: 'crm',
    handler: (params) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '100', 'Expected one of the following parameters: id');
      const row = store.get('timeline_comment', id);
      if (!row) throw new PortalError(400, 'NOT_FOUND', 'Not found.');
      return { result: row };
    },
  });

  registry.register('crm.timeline.comment.list', {
    scope: 'crm',
    cost: 0.05,
    handler: (params) => {
      const schema = tableSchema(COMMENT_KINDS, offset());
      const { page, total, next } = listQuery(store, 'timeline_comment', { filter: param(params, 'filter'), order: param(params, 'order'), fallback: [['ID', 'DESC']], start: param(params, 'start'), schema, memoKey: 'crm.timeline.comment.list' });
      return { result: page.map((r) => pick(r, param(params, 'select'))), total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('crm.timeline.comment.update', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const id = asId(param(params, 'id'));
      const fields = params.fields as Row | undefined;
      if (id === undefined || !fields || typeof fields !== 'object') throw new PortalError(400, '100', 'Expected parameters: id, fields');
      const row = store.get('timeline_comment', id);
      if (!row) throw new PortalError(400, 'NOT_FOUND', 'Not found.');
      if (fields.COMMENT !== undefined) {
        if (String(fields.COMMENT).trim() === '') throw new PortalError(400, 'INVALID_ARG_VALUE', 'Empty comment');
        row.COMMENT = String(fields.COMMENT);
      }
      store.put('timeline_comment', id, row);
      ctx.emit('ONCRMTIMELINECOMMENTUPDATE', { ID: Number(id) });
      return { result: Number(id) };
    },
  });

  registry.register('crm.timeline.comment.delete', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '100', 'Expected one of the following parameters: id');
      if (!store.delete('timeline_comment', id)) throw new PortalError(400, 'NOT_FOUND', 'Not found.');
      ctx.emit('ONCRMTIMELINECOMMENTDELETE', { ID: Number(id) });
      return { result: null };
    },
  });

  const addActivity = (row: Row, ctx: { now(): number; auth: { userId: number }; emit(e: string, d: Record<string, unknown>): void }): number => {
    const id = store.nextId('activity');
    const now = formatIso(ctx.now(), offset());
    const full: Row = {
      ID: String(id), OWNER_ID: null, OWNER_TYPE_ID: null, TYPE_ID: '6', PROVIDER_ID: 'CRM_TODO', PROVIDER_TYPE_ID: 'TODO', SUBJECT: '', DESCRIPTION: '',
      DESCRIPTION_TYPE: '1', COMPLETED: 'N', STATUS: '1', RESPONSIBLE_ID: String(ctx.auth.userId), PRIORITY: '2', DIRECTION: '0', START_TIME: null, END_TIME: null,
      DEADLINE: null, CREATED: now, LAST_UPDATED: now, AUTHOR_ID: String(ctx.auth.userId), EDITOR_ID: String(ctx.auth.userId), COMMUNICATIONS: [], SETTINGS: [],
      ...row,
    };
    store.put('activity', id, full);
    ctx.emit('ONCRMACTIVITYADD', { FIELDS: { ID: String(id) } });
    return id;
  };

  registry.register('crm.activity.todo.add', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const ownerTypeId = Number(param(params, 'ownerTypeId'));
      const ownerId = param(params, 'ownerId');
      const deadline = param(params, 'deadline');
      if (!ownerTypeId || ownerId === undefined || deadline === undefined) throw new PortalError(400, '100', 'Expected parameters: ownerTypeId, ownerId, deadline');
      if (!ownerExists(ownerTypeId, ownerId)) throw new PortalError(400, 'OWNER_NOT_FOUND', 'Owner entity not found');
      const ms = parseDate(deadline, offset());
      if (Number.isNaN(ms)) throw new PortalError(400, 'WRONG_DATETIME_FORMAT', `Wrong datetime format for deadline: ${String(deadline)}`);
      const responsible = asId(param(params, 'responsibleId')) ?? String(ctx.auth.userId);
      const iso = formatIso(ms, offset());
      const id = addActivity(
        {
          OWNER_ID: String(Number(ownerId)),
          OWNER_TYPE_ID: String(ownerTypeId),
          SUBJECT: String(param(params, 'title') ?? ''),
          DESCRIPTION: String(param(params, 'description') ?? ''),
          RESPONSIBLE_ID: responsible,
          DEADLINE: iso,
          START_TIME: iso,
          END_TIME: iso,
          SETTINGS: { pingOffsets: param(params, 'pingOffsets') ?? [], colorId: param(params, 'colorId') ?? null },
        },
        ctx,
      );
      return { result: { id } };
    },
  });

  registry.register('crm.activity.add', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const f = objectParam(params, 'fields');
      if (!f) throw new PortalError(400, '', "Parameter 'fields' must be array.");
      for (const k of ['OWNER_TYPE_ID', 'OWNER_ID', 'TYPE_ID']) if (f[k] === undefined || f[k] === '') throw new PortalError(400, '', `The field ${k} is required.`);
      if (!ownerExists(Number(f.OWNER_TYPE_ID), f.OWNER_ID)) throw new PortalError(400, '', 'Owner entity not found.');
      const row: Row = {};
      for (const [k, v] of Object.entries(f)) {
        const key = k.toUpperCase();
        if (key in ACTIVITY_KINDS || key === 'COMMUNICATIONS' || key === 'DESCRIPTION_TYPE' || key === 'SETTINGS') {
          row[key] = ACTIVITY_KINDS[key as keyof typeof ACTIVITY_KINDS] === 'date' ? formatIso(parseDate(v, offset()), offset()) : typeof v === 'object' ? v : String(v);
        }
      }
      delete row.ID;
      row.PROVIDER_ID = 'CRM_MEETING';
      row.PROVIDER_TYPE_ID = 'MEETING';
      return { result: addActivity(row, ctx) };
    },
  });

  registry.register('crm.activity.get', {
    scope: 'crm',
    handler: (params) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
      const row = store.get('activity', id);
      if (!row) throw new PortalError(400, '', 'Not found');
      return { result: row };
    },
  });

  registry.register('crm.activity.list', {
    scope: 'crm',
    cost: 0.1,
    handler: (params) => {
      const schema = tableSchema(ACTIVITY_KINDS, offset());
      const { page, total, next } = listQuery(store, 'activity', { filter: param(params, 'filter'), order: param(params, 'order'), fallback: [['ID', 'ASC']], start: param(params, 'start'), schema, memoKey: 'crm.activity.list' });
      return { result: page.map((r) => pick(r, param(params, 'select'))), total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('crm.activity.delete', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const id = asId(param(params, 'id'));
      if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
      if (!store.delete('activity', id)) throw new PortalError(400, '', 'Not found');
      ctx.emit('ONCRMACTIVITYDELETE', { FIELDS: { ID: id } });
      return { result: true };
    },
  });
}
