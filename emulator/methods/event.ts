/**
 * The `event.*` methods: handler binding (`event.bind`, `event.unbind`,
 * `event.get`, `events`, `event.test`) and the offline queue
 * (`event.offline.get|clear|error|list`), over the event hub.
 *
 * All are scope `basic` and app-only (a webhook gets WRONG_AUTH_TYPE from the
 * HTTP layer). Parameter handling, access rules and error texts follow the
 * portal's own handlers as the docs describe them
 * (api-reference/events/event-bind.md, event-offline-get.md, ...): keys are
 * case-insensitive, numbers are read as PHP's intval reads them.
 */
import type { EventHub } from '../events/index.js';
import { PortalError, type CallContext, type MethodDef, type MethodRegistry, type Params } from '../types.js';

/** Page size of `event.offline.list`, fixed on a portal. */
const LIST_PAGE = 50;
/** Default `limit` of `event.offline.get`. */
const GET_LIMIT = 50;

function lowerKeys(params: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) out[k.toLowerCase()] = v;
  return out;
}

/** PHP intval: leading integer of a string, 0 when there is none. */
function intval(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const m = /^\s*([+-]?\d+)/.exec(v);
    return m ? Number(m[1]) : 0;
  }
  return 0;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

/** A PHP array from JSON or a form: a list, or a map whose values are the items. */
function phpList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null) return Object.values(v);
  return undefined;
}

function argNull(name: string): PortalError {
  return new PortalError(400, 'ERROR_ARGUMENT', `Argument '${name}' is null or empty`);
}

function argError(description: string): PortalError {
  return new PortalError(400, 'ERROR_ARGUMENT', description);
}

function accessDenied(description = 'Access denied!'): PortalError {
  return new PortalError(403, 'ACCESS_DENIED', description);
}

function wrongLicense(feature: string): PortalError {
  return new PortalError(403, 'WRONG_LICENSE', `This feature is not enabled for the current license: ${feature}`);
}

/** The calling app and its source key, checked against the plan. */
function caller(hub: EventHub, params: Params, ctx: CallContext): { appId: string; connector: string; userId: number; admin: boolean } {
  const appId = ctx.auth.clientId ?? hub.portal.client_id;
  if (ctx.auth.applicationToken) hub.setApplicationToken(appId, ctx.auth.applicationToken);
  const connector = ctx.authConnector ?? str(params['auth_connector']);
  if (connector !== '' && !hub.features.authConnector) throw wrongLicense('auth_connector');
  return { appId, connector, userId: ctx.auth.userId, admin: hub.isAdmin(ctx.auth.userId) };
}

function eventType(params: Params): 'online' | 'offline' {
  const t = str(params['event_type']).toLowerCase();
  if (t === '') return 'online';
  if (t !== 'online' && t !== 'offline') throw argError('Value must be one of {online|offline}');
  return t;
}

function isHandlerUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Build the method table over `hub`. */
export function eventMethods(hub: EventHub): Record<string, MethodDef> {
  const def = (handler: MethodDef['handler']): MethodDef => ({ handler, scope: 'basic', appOnly: true });

  return {
    'event.bind': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      const event = str(p['event']).toUpperCase();
      let userId = intval(p['auth_type']);
      let handler = str(p['handler']);
      if (userId > 0) {
        if (!who.admin && userId !== who.userId) throw accessDenied('Event binding with AUTH_TYPE requires administrator access rights');
      } else if (!who.admin) {
        userId = who.userId;
      }
      if (event === '') throw argNull('EVENT');
      const type = eventType(p);
      if (type === 'offline') {
        if (!who.admin) throw accessDenied('Offline events binding requires administrator access rights');
        handler = '';
        userId = 0;
      } else if (handler === '') {
        throw argNull('HANDLER');
      } else if (!isHandlerUrl(handler)) {
        throw argError(`Wrong handler URL '${handler}': use an absolute http(s) URL`);
      }
      if (!hub.isKnownEvent(event)) throw new PortalError(400, 'ERROR_EVENT_NOT_FOUND', 'Event not found');
      if (type === 'offline' && event === 'ONOFFLINEEVENT') throw argError('Offline event cannot be registered for this event.');
      const options: Record<string, number> = {};
      const rawOptions = p['options'];
      if (event === 'ONOFFLINEEVENT' && typeof rawOptions === 'object' && rawOptions !== null && 'minTimeout' in rawOptions) {
        options['minTimeout'] = intval((rawOptions as Record<string, unknown>)['minTimeout']);
      }
      const added = hub.bindings.add({ appId: who.appId, event, handler, userId, connector: who.connector, offline: type === 'offline', options });
      if (!added) throw new PortalError(400, 'ERROR_CORE', 'Unable to set event handler: Handler already binded');
      return { result: true };
    }),

    'event.unbind': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      const event = str(p['event']).toUpperCase();
      if (event === '') throw argNull('EVENT');
      const type = eventType(p);
      let handler = str(p['handler']);
      if (type === 'offline') {
        if (!who.admin) throw accessDenied('Offline events unbinding requires administrator access rights');
        handler = '';
        return { result: { count: hub.bindings.remove({ appId: who.appId, event, handler, offline: true, connector: who.connector }) } };
      }
      if (handler === '') throw argNull('HANDLER');
      const match: Parameters<typeof hub.bindings.remove>[0] = { appId: who.appId, event, handler, offline: false };
      if (p['auth_type'] !== undefined) {
        const userId = intval(p['auth_type']);
        if (!who.admin && userId !== who.userId) throw accessDenied('Event unbinding with AUTH_TYPE requires administrator access rights');
        match.userId = userId;
      } else if (!who.admin) {
        match.userId = who.userId;
      }
      return { result: { count: hub.bindings.remove(match) } };
    }),

    'event.get': def((raw, ctx) => {
      const who = caller(hub, lowerKeys(raw), ctx);
      const rows = hub.bindings.ofApp(who.appId, who.admin ? undefined : who.userId).map((b) =>
        b.offline
          ? { event: b.event, connector_id: b.connector, offline: 1 }
          : { event: b.event, handler: b.handler, auth_type: String(b.userId), offline: 0 },
      );
      return { result: rows };
    }),

    events: def((raw, ctx) => {
      caller(hub, lowerKeys(raw), ctx);
      return { result: hub.knownEvents() };
    }),

    'event.test': def((raw, ctx) => {
      const who = caller(hub, lowerKeys(raw), ctx);
      const query: Params = {};
      for (const [k, v] of Object.entries(raw)) if (k.toLowerCase() !== 'auth' && k.toLowerCase() !== 'auth_connector') query[k] = v;
      hub.emit('ONAPPTEST', { QUERY: query }, { userId: who.userId, onlyApp: who.appId });
      return { result: 1 };
    }),

    'event.offline.get': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      if (!who.admin) throw accessDenied();
      const clear = p['clear'] === undefined ? 1 : intval(p['clear']);
      const processId = p['process_id'] === undefined || p['process_id'] === null ? undefined : str(p['process_id']).trim();
      if (!clear && !hub.features.offlineExtended) throw wrongLicense('extended offline events handling');
      const limit = p['limit'] === undefined ? GET_LIMIT : intval(p['limit']);
      if (limit <= 0) throw argError('Value must be positive integer');
      const result = hub.queue.get(
        { appId: who.appId, connector: who.connector },
        { filter: p['filter'], order: p['order'], limit, clear: clear !== 0, error: intval(p['error']) === 1, ...(processId === undefined ? {} : { processId }) },
      );
      return { result };
    }),

    'event.offline.clear': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      if (!who.admin) throw accessDenied();
      if (p['process_id'] === undefined || p['process_id'] === null) throw argNull('PROCESS_ID');
      const processId = str(p['process_id']).trim();
      const scope = { appId: who.appId, connector: who.connector };
      if (p['message_id'] !== undefined) {
        const list = phpList(p['message_id']);
        if (!list) throw argError('Value must be array of MESSAGE_ID values');
        const messageIds = list.map((m) => str(m).trim());
        if (messageIds.some((m) => m.length !== 32)) throw argError('Value must be array of MESSAGE_ID values');
        hub.queue.clear(scope, processId, messageIds.length > 0 ? { messageIds } : undefined);
        return { result: true };
      }
      let ids: number[] | undefined;
      if (p['id'] !== undefined) {
        const list = phpList(p['id']);
        if (!list) throw argError('Value must be array of integers');
        ids = list.map(intval);
        if (ids.some((id) => id <= 0)) throw argError('Value must be array of integers');
      }
      hub.queue.clear(scope, processId, ids && ids.length > 0 ? { ids } : undefined);
      return { result: true };
    }),

    'event.offline.error': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      if (!who.admin) throw accessDenied();
      if (p['process_id'] === undefined || p['process_id'] === null) throw argNull('PROCESS_ID');
      const list = phpList(p['message_id']);
      if (!list) throw argError('Value must be array of MESSAGE_ID values');
      hub.queue.markError({ appId: who.appId, connector: who.connector }, str(p['process_id']).trim(), list.map((m) => str(m).trim()));
      return { result: true };
    }),

    'event.offline.list': def((raw, ctx) => {
      const p = lowerKeys(raw);
      const who = caller(hub, p, ctx);
      if (!who.admin) throw accessDenied();
      const start = Math.max(0, intval(p['start']));
      const { items, total } = hub.queue.list(
        { appId: who.appId, connector: who.connector },
        { filter: p['filter'], order: p['order'], start, pageSize: LIST_PAGE },
      );
      return { result: items, total, ...(start + LIST_PAGE < total ? { next: start + LIST_PAGE } : {}) };
    }),
  };
}

/** Register the `event.*` methods into the emulator's registry. */
export function registerEventMethods(registry: MethodRegistry | Map<string, MethodDef>, hub: EventHub): void {
  for (const [name, def] of Object.entries(eventMethods(hub))) {
    if (registry instanceof Map) registry.set(name, def);
    else registry.register(name, def);
  }
}
