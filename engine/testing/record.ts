/**
 * `rules record`: capture real events and the records they name into a
 * fixtures file, so a production incident becomes a rule test.
 *
 * Read-only by construction. The queue is read with `event.offline.list`,
 * which neither deletes nor reserves records: `event.offline.get` would delete
 * them (default `clear=1`) or hide them from the daemon under a reservation
 * (`clear=0`, up to 30 days unless cleared), and either would steal events
 * from the running engine. The client is created read-only, so even a mistake
 * here cannot write.
 */
import type { B24ClientApi, BatchCommand } from '../client/index.js';
import { compareIds, rowsOfResult } from '../plan/index.js';

/** Defaults of recordIncident. */
export const DEFAULTS = {
  /** Events to capture. @default 20 */
  events: 20,
  /** Page size of event.offline.list (fixed by the portal). @default 50 */
  pageSize: 50,
};

export interface RecordOptions {
  /** Capture at most this many events (oldest first). */
  events?: number;
  /** Only these event names. */
  eventNames?: string[];
  /** The connector key the engine binds with (`event.offline.list` shows only its events). */
  authConnector?: string;
}

export interface RecordedFixture {
  /** Offline records as `event.offline.list` returned them. */
  events: Array<Record<string, unknown>>;
  /** Records per fixtures entity key (`deals`, `users`...). */
  entities: Record<string, Array<Record<string, unknown>>>;
  /** Records an event named but the portal no longer has (deleted, or no access). */
  missing: Array<{ entity: string; id: string; error: string }>;
}

/** The fixtures key and read command for an event's record, or null for events that name no readable record. */
export function recordOfEvent(name: string, data: Record<string, unknown>): { key: string; id: string; command: BatchCommand } | null {
  const n = name.toUpperCase();
  const fields = (data.FIELDS ?? data.FIELDS_AFTER ?? data.FIELDS_BEFORE) as Record<string, unknown> | undefined;
  const id = fields?.ID ?? data.ID;
  if (id === undefined || id === null || id === '' || /DELETE$/.test(n)) return null;
  const sid = String(id);
  const legacy = /^ONCRM(LEAD|DEAL|CONTACT|COMPANY)(ADD|UPDATE|MOVETOCATEGORY)$/.exec(n);
  if (legacy) {
    const entity = (legacy[1] as string).toLowerCase();
    const key = entity === 'company' ? 'companies' : `${entity}s`;
    return { key, id: sid, command: { method: `crm.${entity}.get`, params: { id: sid } } };
  }
  if (/^ONTASK(ADD|UPDATE)$/.test(n)) return { key: 'tasks', id: sid, command: { method: 'tasks.task.get', params: { taskId: sid } } };
  const dyn = /^ONCRMDYNAMICITEM(ADD|UPDATE)(?:_(\d+))?$/.exec(n);
  const typeId = dyn ? (dyn[2] ?? fields?.ENTITY_TYPE_ID) : undefined;
  if (dyn && typeId !== undefined) return { key: `items_${String(typeId)}`, id: sid, command: { method: 'crm.item.get', params: { entityTypeId: Number(typeId), id: sid } } };
  return null;
}

/** User IDs a record refers to (responsible, creator, modifier). */
function userRefs(row: Record<string, unknown>): string[] {
  const keys = ['ASSIGNED_BY_ID', 'CREATED_BY_ID', 'MODIFY_BY_ID', 'responsibleId', 'createdBy', 'changedBy', 'assignedById', 'createdById', 'updatedBy'];
  return keys.map((k) => row[k]).filter((v): v is string | number => (typeof v === 'string' && /^\d+$/.test(v)) || typeof v === 'number').map(String);
}

async function batchGet(client: B24ClientApi, commands: Record<string, BatchCommand>): Promise<Record<string, { rows: Array<Record<string, unknown>>; error?: string }>> {
  const out: Record<string, { rows: Array<Record<string, unknown>>; error?: string }> = {};
  if (Object.keys(commands).length === 0) return out;
  const results = await client.batch(commands, { halt: false });
  for (const key of Object.keys(commands)) {
    const r = results[key];
    out[key] = r?.ok ? { rows: rowsOfResult(r.result) } : { rows: [], error: r?.error ? `${r.error.error}: ${r.error.error_description}` : 'no answer' };
  }
  return out;
}

/** Read events and their records. Only read methods are called. */
export async function recordIncident(client: B24ClientApi, options: RecordOptions = {}): Promise<RecordedFixture> {
  const want = options.events ?? DEFAULTS.events;
  const names = options.eventNames?.map((e) => e.toUpperCase());
  const events: Array<Record<string, unknown>> = [];
  for (let start = 0; events.length < want; start += DEFAULTS.pageSize) {
    const params: Record<string, unknown> = { order: { ID: 'ASC' }, start };
    if (names && names.length === 1) params.filter = { EVENT_NAME: names[0] };
    else if (names && names.length > 1) params.filter = { '@EVENT_NAME': names };
    if (options.authConnector) params.auth_connector = options.authConnector;
    const page = await client.call<unknown>('event.offline.list', params);
    const rows = rowsOfResult(page.result);
    events.push(...rows.slice(0, want - events.length));
    if (rows.length < DEFAULTS.pageSize || page.next === undefined) break;
  }

  const entities: Record<string, Map<string, Record<string, unknown>>> = {};
  const missing: RecordedFixture['missing'] = [];
  const put = (key: string, row: Record<string, unknown>): void => {
    const id = String(row.ID ?? row.id ?? '');
    if (id === '') return;
    (entities[key] ??= new Map()).set(id, row);
  };

  const commands: Record<string, BatchCommand> = {};
  const wanted = new Map<string, { key: string; id: string }>();
  for (const e of events) {
    const data = e.EVENT_DATA && typeof e.EVENT_DATA === 'object' ? (e.EVENT_DATA as Record<string, unknown>) : {};
    const ref = recordOfEvent(String(e.EVENT_NAME ?? ''), data);
    if (!ref) continue;
    const cmdKey = `${ref.key}_${ref.id}`;
    commands[cmdKey] = ref.command;
    wanted.set(cmdKey, ref);
  }
  const records = await batchGet(client, commands);
  for (const [cmdKey, res] of Object.entries(records)) {
    const ref = wanted.get(cmdKey) as { key: string; id: string };
    if (res.error || res.rows.length === 0) missing.push({ entity: ref.key, id: ref.id, error: res.error ?? 'not found' });
    for (const row of res.rows) put(ref.key, row);
  }

  const users = new Set<string>();
  for (const table of Object.values(entities)) for (const row of table.values()) for (const u of userRefs(row)) users.add(u);
  const userCommands: Record<string, BatchCommand> = {};
  for (const u of users) userCommands[`user_${u}`] = { method: 'user.get', params: { ID: u } };
  for (const [cmdKey, res] of Object.entries(await batchGet(client, userCommands))) {
    if (res.error || res.rows.length === 0) missing.push({ entity: 'users', id: cmdKey.slice(5), error: res.error ?? 'not found' });
    for (const row of res.rows) put('users', row);
  }

  const sorted: RecordedFixture['entities'] = {};
  for (const key of Object.keys(entities).sort()) {
    sorted[key] = [...(entities[key] as Map<string, Record<string, unknown>>).entries()].sort(([a], [b]) => compareIds(a, b)).map(([, r]) => r);
  }
  return { events, entities: sorted, missing };
}
