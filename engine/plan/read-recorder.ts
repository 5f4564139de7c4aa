/**
 * A client wrapper that notes every record the planning read, so a saved plan
 * carries each record's DATE_MODIFY and a hash of the fields read, and
 * `rules apply --plan` can refuse a plan made on data that changed since. It
 * also counts the HTTP requests the reads cost (for the estimate), from the
 * wrapped client's own `request` events. It passes calls through unchanged:
 * the write guard stays the wrapped client's.
 */
import type { B24ClientApi, B24Envelope, BatchCommand, BatchItemResult, BatchOptions, CallOptions, ClientEvent, ListOptions, Params } from '../client/index.js';
import { compareIds, hashValue } from './canonical.js';
import type { PlanRead } from './types.js';

type Row = Record<string, unknown>;

/** Which entity a read method returns, and how to find rows in its result. */
export function entityOfMethod(method: string, params: Params = {}): string | null {
  const m = method.toLowerCase();
  const legacy = /^crm\.(lead|deal|contact|company|quote)\.(get|list)$/.exec(m);
  if (legacy) return legacy[1] as string;
  if (m === 'user.get' || m === 'user.search') return 'user';
  if (m === 'tasks.task.get' || m === 'tasks.task.list') return 'task';
  if (m === 'crm.item.get' || m === 'crm.item.list') {
    const t = params.entityTypeId ?? params.ENTITY_TYPE_ID;
    return t === undefined ? null : `item:${String(t)}`;
  }
  return null;
}

/** Rows in a read method's result: a record, a list, `{task}`, `{tasks}`, `{item}`, `{items}`. */
export function rowsOfResult(result: unknown): Row[] {
  if (Array.isArray(result)) return result.filter((r): r is Row => !!r && typeof r === 'object');
  if (!result || typeof result !== 'object') return [];
  const o = result as Row;
  for (const k of ['task', 'item']) if (o[k] && typeof o[k] === 'object' && !Array.isArray(o[k])) return [o[k] as Row];
  for (const k of ['tasks', 'items']) if (Array.isArray(o[k])) return rowsOfResult(o[k]);
  return [o];
}

function idOf(row: Row): string | null {
  const id = row.ID ?? row.id;
  return id === undefined || id === null || id === '' ? null : String(id);
}

/** The modification stamp a record carries, if any (legacy CRM, tasks, universal items). */
export function dateModifyOf(row: Row): string | undefined {
  const v = row.DATE_MODIFY ?? row.changedDate ?? row.updatedTime ?? row.CHANGED_DATE;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The fingerprint of a record over the given fields. */
export function fingerprint(row: Row, fields: string[]): string {
  const picked: Row = {};
  for (const f of fields) picked[f] = row[f];
  return hashValue(picked);
}

export interface ReadRecorder {
  /** The client to hand the engine. */
  client: B24ClientApi;
  /** Records read so far, sorted by entity and id. */
  reads(): PlanRead[];
  /** HTTP requests made through the wrapper, as the wrapped client reported them (CallOptions.onEvent `request` events). */
  requests(): number;
}

export function recordReads(inner: B24ClientApi): ReadRecorder {
  const seen = new Map<string, Row>();
  let requests = 0;
  /** Counts this call's requests, and still tells the caller's own listener. */
  const observed = <O extends CallOptions>(options: O | undefined): O => {
    const theirs = options?.onEvent;
    return {
      ...(options as O),
      onEvent: (event: ClientEvent) => {
        if (event.type === 'request') requests++;
        theirs?.(event);
      },
    };
  };

  const note = (method: string, params: Params | undefined, result: unknown): void => {
    const entity = entityOfMethod(method, params ?? {});
    if (!entity) return;
    for (const row of rowsOfResult(result)) {
      const id = idOf(row);
      if (id === null) continue;
      const key = `${entity}\u0000${id}`;
      seen.set(key, { ...(seen.get(key) ?? {}), ...row });
    }
  };

  const client: B24ClientApi = {
    async call<T = unknown>(method: string, params?: Params, options?: CallOptions): Promise<B24Envelope<T>> {
      const env = await inner.call<T>(method, params, observed(options));
      note(method, params, env.result);
      return env;
    },
    async batch(commands: Record<string, BatchCommand> | BatchCommand[], options?: BatchOptions): Promise<Record<string, BatchItemResult>> {
      const entries = Array.isArray(commands) ? commands.map((c, i) => [String(i), c] as const) : Object.entries(commands);
      const out = await inner.batch(commands, observed(options));
      for (const [key, cmd] of entries) {
        const r = out[key];
        if (r?.ok) note(cmd.method, cmd.params, r.result);
      }
      return out;
    },
    listAll<T = Row>(method: string, options?: ListOptions): AsyncIterable<T> {
      const source = inner.listAll<T>(method, observed(options));
      const params = options?.params ?? {};
      return {
        async *[Symbol.asyncIterator]() {
          for await (const row of source) {
            note(method, params, [row]);
            yield row;
          }
        },
      };
    },
  };

  return {
    client,
    requests: () => requests,
    reads: () =>
      [...seen.entries()]
        .map(([key, row]) => {
          const [entity, id] = key.split('\u0000') as [string, string];
          const fields = Object.keys(row).sort();
          const read: PlanRead = { entity, id, hash: fingerprint(row, fields), fields };
          const dm = dateModifyOf(row);
          if (dm !== undefined) read.date_modify = dm;
          return read;
        })
        .sort((a, b) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : compareIds(a.id, b.id))),
  };
}
