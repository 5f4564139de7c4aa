/**
 * Notifications, users, business processes: im.notify.system.add,
 * im.notify.personal.add (API-FACTS §8), user.current, user.get, profile (§9),
 * bizproc.workflow.start (§10).
 */
import { randomBytes } from 'node:crypto';
import { formatIso } from '../clock.js';
import { compileFilter, compileOrder, paginate, tableSchema } from '../crm/filter.js';
import { INVOICE_TYPE_ID, itemTable } from '../crm/smart-types.js';
import { selectList } from '../crm/views.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type CallContext, type MethodRegistry, type Params } from '../types.js';
import { asId, param } from './params.js';

const USER_KINDS = {
  ID: 'number', ACTIVE: 'string', NAME: 'string', LAST_NAME: 'string', SECOND_NAME: 'string', EMAIL: 'string', WORK_POSITION: 'string',
  UF_DEPARTMENT: 'number', USER_TYPE: 'string', IS_ONLINE: 'string', PERSONAL_CITY: 'string', LAST_LOGIN: 'date', DATE_REGISTER: 'date',
  PERSONAL_GENDER: 'string', PERSONAL_MOBILE: 'string', WORK_PHONE: 'string', UF_PHONE_INNER: 'string', TIME_ZONE: 'string',
} as const;

/** Admins: user 1, and users seeded with `IS_ADMIN: true` / `ADMIN: true`. */
export function isAdmin(state: EmulatorState, userId: number): boolean {
  if (userId === 1) return true;
  const u = state.store.get('user', userId);
  return u?.IS_ADMIN === true || u?.ADMIN === true || u?.IS_ADMIN === 'Y';
}

function userView(u: Row): Row {
  const { IS_ADMIN: _a, ADMIN: _b, ...rest } = u;
  return rest;
}

const USER_GET_CONTROL = new Set(['sort', 'order', 'filter', 'admin_mode', 'select', 'image_resize', 'start', 'auth', 'name_search']);

export function registerMisc(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  const offset = (): number => state.portal.offsetMinutes;

  const notify = (kind: 'system' | 'personal') => (params: Params, ctx: CallContext) => {
    const userId = asId(param(params, 'USER_ID'));
    if (userId === undefined) throw new PortalError(400, 'USER_ID_EMPTY', "User ID can't be empty");
    if (!store.get('user', userId)) throw new PortalError(400, 'USER_ID_EMPTY', "User ID can't be empty");
    const message = String(param(params, 'MESSAGE') ?? '').trim();
    if (message === '') throw new PortalError(400, 'MESSAGE_EMPTY', "Message can't be empty");
    const tag = param(params, 'TAG');
    if (tag !== undefined && tag !== '') for (const n of store.all('notification')) if (n.TAG === tag && n.CLIENT === (ctx.auth.clientId ?? 'webhook')) store.delete('notification', String(n.ID));
    const id = store.nextId('notification');
    store.put('notification', id, {
      ID: String(id),
      KIND: kind,
      USER_ID: userId,
      FROM_USER_ID: kind === 'personal' ? String(ctx.auth.userId) : '0',
      MESSAGE: message,
      MESSAGE_OUT: param(params, 'MESSAGE_OUT') ?? null,
      TAG: tag ?? null,
      SUB_TAG: param(params, 'SUB_TAG') ?? null,
      ATTACH: param(params, 'ATTACH') ?? null,
      CLIENT: ctx.auth.clientId ?? 'webhook',
      DATE: formatIso(ctx.now(), offset()),
    });
    return { result: id };
  };
  registry.register('im.notify.system.add', { scope: 'im', handler: notify('system') });
  registry.register('im.notify.personal.add', { scope: 'im', handler: notify('personal') });

  const current = (ctx: CallContext): Row => {
    const u = store.get('user', ctx.auth.userId);
    if (!u) throw new PortalError(401, 'NO_AUTH_FOUND', 'Wrong authorization data');
    return u;
  };
  registry.register('user.current', { scope: 'user,user_brief,user_basic', handler: (_p, ctx) => ({ result: userView(current(ctx)) }) });

  registry.register('profile', {
    scope: 'basic',
    handler: (_p, ctx) => {
      const u = current(ctx);
      return {
        result: { ID: String(u.ID), ADMIN: isAdmin(state, ctx.auth.userId), NAME: u.NAME ?? '', LAST_NAME: u.LAST_NAME ?? '', PERSONAL_GENDER: u.PERSONAL_GENDER ?? '', TIME_ZONE: u.TIME_ZONE ?? '' },
      };
    },
  });

  const userList = (params: Params): { result: Row[]; total: number; next?: number } => {
    let filter = param(params, 'FILTER') as Row | undefined;
    if (!filter || typeof filter !== 'object') {
      // Older calls put the filter keys at the top level (`user.get?ID=5`).
      filter = Object.fromEntries(Object.entries(params).filter(([k]) => !USER_GET_CONTROL.has(k.toLowerCase())));
    }
    const schema = tableSchema(USER_KINDS, offset());
    let rows = store.scan('user').filter(compileFilter(filter, schema));
    const search = param(params, 'NAME_SEARCH') ?? (filter as Row).NAME_SEARCH;
    if (typeof search === 'string' && search !== '') {
      const s = search.toLowerCase();
      rows = rows.filter((u) => `${String(u.NAME ?? '')} ${String(u.LAST_NAME ?? '')} ${String(u.EMAIL ?? '')}`.toLowerCase().includes(s));
    }
    const sort = param(params, 'sort');
    const order = typeof sort === 'string' ? { [sort]: String(param(params, 'order') ?? 'ASC') } : undefined;
    rows.sort(compileOrder(order, schema, [['ID', 'ASC']]));
    const { page, total, next } = paginate(rows, param(params, 'start'));
    return { result: page.map(userView), total, ...(next !== undefined ? { next } : {}) };
  };
  registry.register('user.get', { scope: 'user,user_brief,user_basic', cost: 0.05, handler: userList });
  // user.search: the same filter keys plus FIND (name, e-mail) at the top level (api-reference/user/user-search.md).
  registry.register('user.search', {
    scope: 'user,user_brief,user_basic',
    cost: 0.05,
    handler: (params) => {
      const find = param(params, 'FIND');
      const rest = Object.fromEntries(Object.entries(params).filter(([k]) => k.toUpperCase() !== 'FIND'));
      return userList(typeof find === 'string' && find !== '' ? { ...rest, NAME_SEARCH: find } : rest);
    },
  });

  registry.register('department.get', {
    scope: 'department',
    handler: (params) => {
      const filter = Object.fromEntries(Object.entries(params).filter(([k]) => !['sort', 'order', 'start'].includes(k.toLowerCase())));
      const schema = tableSchema({ ID: 'number', NAME: 'string', SORT: 'number', PARENT: 'number', UF_HEAD: 'number' }, offset());
      const rows = store.all('department').filter(compileFilter(filter, schema));
      const sort = param(params, 'sort');
      rows.sort(compileOrder(typeof sort === 'string' ? { [sort]: String(param(params, 'order') ?? 'ASC') } : undefined, schema, [['SORT', 'ASC'], ['ID', 'ASC']]));
      const { page, total, next } = paginate(rows, param(params, 'start'));
      const view = (d: Row): Row => ({ ID: String(d.ID), NAME: d.NAME, SORT: Number(d.SORT ?? 500), ...(d.PARENT !== null && d.PARENT !== undefined ? { PARENT: String(d.PARENT) } : {}), ...(d.UF_HEAD ? { UF_HEAD: String(d.UF_HEAD) } : {}) });
      return { result: page.map(view), total, ...(next !== undefined ? { next } : {}) };
    },
  });

  registry.register('bizproc.workflow.start', {
    scope: 'bizproc',
    cost: 0.2,
    handler: (params, ctx) => {
      if (!isAdmin(state, ctx.auth.userId)) throw new PortalError(403, 'ACCESS_DENIED', 'Access denied!');
      const template = asId(param(params, 'TEMPLATE_ID'));
      if (template === undefined) throw new PortalError(400, 'ERROR_WRONG_WORKFLOW_ID', 'Empty TEMPLATE_ID');
      const doc = param(params, 'DOCUMENT_ID');
      const triple = Array.isArray(doc) ? doc.map(String) : doc && typeof doc === 'object' ? Object.values(doc).map(String) : [];
      if (triple.length !== 3 || triple[0] !== 'crm') throw new PortalError(400, '', 'Wrong DOCUMENT_ID!');
      const doc3 = documentRecord(triple[1] as string, triple[2] as string);
      if (!doc3) throw new PortalError(400, '', 'Incorrect document type!');
      if (!store.get(doc3.table, doc3.id)) throw new PortalError(400, '', 'Wrong DOCUMENT_ID!');
      // Bitrix24 runs at most two workflows on one document at once (the bizproc option limit_simultaneous_processes,
      // 2 in the cloud): the third is refused with the runtime's message and no error code (bizproc-workflow-start.md).
      const running = store.scan('workflow').filter((w) => w.ENTITY === triple[1] && w.DOCUMENT_ID === triple[2]).length;
      if (running >= WORKFLOWS_PER_DOCUMENT) throw new PortalError(400, '', `An element can be handled by ${WORKFLOWS_PER_DOCUMENT} processes at most.`);
      const id = `${Math.floor(ctx.now() / 1000).toString(16)}${randomBytes(3).toString('hex')}.${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0')}`;
      const started = formatIso(ctx.now(), offset());
      store.put('workflow', id, {
        ID: id,
        MODIFIED: started,
        OWNED_UNTIL: null,
        MODULE_ID: 'crm',
        ENTITY: triple[1],
        DOCUMENT_ID: triple[2],
        STARTED: started,
        STARTED_BY: String(ctx.auth.userId),
        TEMPLATE_ID: template,
        PARAMETERS: param(params, 'PARAMETERS') ?? {},
      });
      return { result: id };
    },
  });

  // bizproc-workflow-instances.md (bizproc.workflow.instance.list is its old alias): started workflows stay "running".
  const instances = (params: Params, ctx: CallContext) => {
    if (!isAdmin(state, ctx.auth.userId)) throw new PortalError(403, 'ACCESS_DENIED', 'Access denied!');
    const kinds = { ID: 'string', MODIFIED: 'date', OWNED_UNTIL: 'date', MODULE_ID: 'string', ENTITY: 'string', DOCUMENT_ID: 'string', STARTED: 'date', STARTED_BY: 'number', TEMPLATE_ID: 'number' } as const;
    const schema = tableSchema(kinds, offset());
    const rows = store.scan('workflow').filter(compileFilter(param(params, 'filter'), schema));
    rows.sort(compileOrder(param(params, 'order') ?? { MODIFIED: 'DESC' }, schema, [['ID', 'DESC']]));
    const { page, total, next } = paginate(rows, param(params, 'start'));
    const select = (selectList(param(params, 'select')) ?? ['ID', 'MODIFIED', 'OWNED_UNTIL']).map((f) => f.toUpperCase()).filter((f) => f in kinds);
    return { result: page.map((w) => Object.fromEntries(select.map((f) => [f, w[f] ?? null]))), total, ...(next !== undefined ? { next } : {}) };
  };
  registry.register('bizproc.workflow.instances', { scope: 'bizproc', handler: instances });
  registry.register('bizproc.workflow.instance.list', { scope: 'bizproc', handler: instances });

  const stop = (params: Params, ctx: CallContext) => {
    if (!isAdmin(state, ctx.auth.userId)) throw new PortalError(403, 'ACCESS_DENIED', 'Access denied!');
    const id = String(param(params, 'ID') ?? '');
    if (!store.delete('workflow', id)) throw new PortalError(400, 'ERROR_WRONG_WORKFLOW_ID', 'Workflow not found');
    return { result: true };
  };
  registry.register('bizproc.workflow.terminate', { scope: 'bizproc', handler: stop });
  registry.register('bizproc.workflow.kill', { scope: 'bizproc', handler: stop });
}

/** How many workflows may run on one document at once (Bitrix24 cloud: 2). */
export const WORKFLOWS_PER_DOCUMENT = 2;

const LEGACY_DOCUMENTS: Record<string, string> = { CCrmDocumentLead: 'LEAD', CCrmDocumentDeal: 'DEAL', CCrmDocumentContact: 'CONTACT', CCrmDocumentCompany: 'COMPANY' };

/**
 * The record a bizproc DOCUMENT_ID names: `['crm', 'CCrmDocumentDeal', 'DEAL_12']`, a smart process's
 * item `['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', 'DYNAMIC_147_1']`, an invoice
 * `['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice', 'SMART_INVOICE_3']` (bizproc-workflow-start.md).
 */
function documentRecord(cls: string, doc: string): { table: string; id: string } | undefined {
  const legacy = LEGACY_DOCUMENTS[cls];
  if (legacy) {
    const m = new RegExp(`^${legacy}_(\\d+)$`).exec(doc);
    return m ? { table: legacy.toLowerCase(), id: m[1] as string } : undefined;
  }
  if (cls === 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic') {
    const m = /^DYNAMIC_(\d+)_(\d+)$/.exec(doc);
    return m && Number(m[1]) !== INVOICE_TYPE_ID ? { table: itemTable(Number(m[1])), id: m[2] as string } : undefined;
  }
  if (cls === 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice') {
    const m = /^SMART_INVOICE_(\d+)$/.exec(doc);
    return m ? { table: itemTable(INVOICE_TYPE_ID), id: m[1] as string } : undefined;
  }
  return undefined;
}
