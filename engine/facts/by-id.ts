/**
 * Reads of records by ID as list commands with an ID set filter: up to 50 IDs
 * a command (one page of a list), so the 50 commands of a batch read 2,500
 * records in one HTTP request where one `get` each read 50. Each entity's
 * `byIds` (entities.ts) says how its list gives the record `get` gives; an
 * entity without one is read by `get` as before.
 *
 * An ID the list does not answer loads as null, as a `get` answered "Not
 * found" did (so does a record the user may not read: lists leave those out,
 * crm-item-list.md). A failed command fails the reads of its IDs only.
 *
 * Legacy lists give multiple user fields only when named, so their names are
 * read in the same batch (`crm.X.userfield.list`, MULTIPLE=Y) and the lists
 * name the ones known from an earlier read; when the answer names one the
 * lists did not, those IDs are read again with it (once per new field: the
 * names are kept per client, as a hint for the select, not as facts).
 */
import type { B24ClientApi, BatchCommand, BatchItemResult, CallOptions, Params } from '../client/index.js';
import type { EntityName } from '../rules/index.js';
import { ENTITIES } from './entities.js';
import { isNotFound, type ReadResult } from './read-result.js';

/** IDs a list command asks for: one page, so one command answers them all. */
export const IDS_PER_COMMAND = 50;

export interface RecordRef {
  entity: EntityName;
  id: string;
  entityTypeId?: number;
}

/** The key of a record read by ID (entity, smart-process type, ID). */
export function recordKey(ref: RecordRef): string {
  return `${ref.entity}:${ref.entityTypeId ?? ''}:${ref.id}`;
}

/** Whether this record is read by a list command (else by `get`). */
export function readById(entity: EntityName): boolean {
  return ENTITIES[entity].byIds !== undefined;
}

/** Multiple user fields of each legacy entity, as last read through a client. */
const multipleFieldHints = new WeakMap<object, Map<string, readonly string[]>>();

/** An ID the portal would refuse or never match: loads as null without asking (a positive integer, else null). */
function canonicalId(id: string): string | undefined {
  const s = id.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const n = s.replace(/^0+/, '');
  return n === '' ? undefined : n;
}

interface ListCommand {
  key: string;
  entity: EntityName;
  /** Canonical ID → the refs asking for it. */
  ids: Map<string, RecordRef[]>;
  /** The multiple user fields the command named. */
  named: readonly string[];
}

/** One round of ID reads: its commands, to be sent in one batch with the tick's other reads. */
export interface IdRound {
  commands: Record<string, BatchCommand>;
  lists: ListCommand[];
  /** Schema commands of this round: key → entity. */
  schema: Map<string, EntityName>;
  /** Refs settled without asking (an ID that is not a positive integer). */
  settled: Map<string, ReadResult>;
}

/** The ID reads of one tick: what the multiple user fields of each entity are this tick, and the commands. */
export class IdReads {
  readonly #client: B24ClientApi;
  readonly #options: CallOptions;
  readonly #hints: Map<string, readonly string[]>;
  /** Multiple user fields read this tick: exact for the rest of it. */
  readonly #known = new Map<string, readonly string[]>();
  #seq = 0;

  /** `options` go with the calls it makes itself (a further page of user fields), so the reader counts them. */
  constructor(client: B24ClientApi, options: CallOptions = {}) {
    this.#client = client;
    this.#options = options;
    let hints = multipleFieldHints.get(client);
    if (!hints) multipleFieldHints.set(client, (hints = new Map()));
    this.#hints = hints;
  }

  /** The commands that read `refs` (distinct by recordKey). */
  plan(refs: RecordRef[]): IdRound {
    const round: IdRound = { commands: {}, lists: [], schema: new Map(), settled: new Map() };
    const groups = new Map<string, { entity: EntityName; entityTypeId: number | undefined; ids: Map<string, RecordRef[]> }>();
    for (const ref of refs) {
      const id = canonicalId(ref.id);
      if (id === undefined) {
        round.settled.set(recordKey(ref), { ok: true, result: null });
        continue;
      }
      const gk = `${ref.entity}:${ref.entityTypeId ?? ''}`;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { entity: ref.entity, entityTypeId: ref.entityTypeId, ids: new Map() }));
      const same = g.ids.get(id);
      if (same) same.push(ref);
      else g.ids.set(id, [ref]);
    }
    for (const g of groups.values()) {
      const by = ENTITIES[g.entity].byIds!;
      let named: readonly string[] = [];
      if (by.multipleUserFields) {
        const known = this.#known.get(g.entity);
        if (known) named = known;
        else {
          named = this.#hints.get(g.entity) ?? [];
          const key = `s${this.#seq++}`;
          round.commands[key] = by.multipleUserFields;
          round.schema.set(key, g.entity);
        }
      }
      const ids = [...g.ids.keys()];
      for (let i = 0; i < ids.length; i += IDS_PER_COMMAND) {
        const chunk = ids.slice(i, i + IDS_PER_COMMAND);
        const key = `i${this.#seq++}`;
        round.commands[key] = by.command(chunk, g.entityTypeId, named);
        round.lists.push({ key, entity: g.entity, ids: new Map(chunk.map((id) => [id, g.ids.get(id)!])), named });
      }
    }
    return round;
  }

  /**
   * The round's answers: a result for each ref, and the refs to read again
   * because the lists did not name a multiple user field the portal has.
   */
  async settle(round: IdRound, answers: Record<string, BatchItemResult>): Promise<{ results: Map<string, ReadResult>; again: RecordRef[] }> {
    const results = new Map(round.settled);
    const again: RecordRef[] = [];
    const schemaFailed = new Map<string, ReadResult>();
    for (const [key, entity] of round.schema) {
      const names = await this.#multipleFields(round.commands[key]!, answers[key]);
      if (names.ok) {
        this.#known.set(entity, names.result);
        this.#hints.set(entity, names.result);
      } else schemaFailed.set(entity, names);
    }
    for (const list of round.lists) {
      const refs = [...list.ids.values()].flat();
      const failed = schemaFailed.get(list.entity);
      const known = this.#known.get(list.entity);
      if (failed) for (const ref of refs) results.set(recordKey(ref), failed);
      else if (known && known.some((n) => !list.named.includes(n))) again.push(...refs);
      else for (const [k, r] of this.#listResults(list, answers[list.key])) results.set(k, r);
    }
    return { results, again };
  }

  #listResults(list: ListCommand, item: BatchItemResult | undefined): Map<string, ReadResult> {
    const out = new Map<string, ReadResult>();
    if (!item?.ok) {
      const failed = failure(item);
      for (const refs of list.ids.values()) for (const ref of refs) out.set(recordKey(ref), failed);
      return out;
    }
    const rows = new Map<string, Record<string, unknown>>();
    for (const row of ENTITIES[list.entity].byIds!.rows(item.result)) {
      const id = row.ID ?? row.id;
      if (id !== undefined && id !== null) rows.set(String(id), row);
    }
    for (const [id, refs] of list.ids) {
      const result = rows.get(id) ?? null;
      for (const ref of refs) out.set(recordKey(ref), { ok: true, result });
    }
    return out;
  }

  /** FIELD_NAMEs of a userfield list answer; a further page is read with `start` (more than 50 multiple fields). */
  async #multipleFields(command: BatchCommand, item: BatchItemResult | undefined): Promise<{ ok: true; result: readonly string[] } | Extract<ReadResult, { ok: false }>> {
    // Not knowing the fields is no sign the records are missing.
    if (!item?.ok) return { ...failure(item), notFound: false };
    const names = namesOf(item.result);
    let next = item.next;
    while (next !== undefined) {
      const page = await this.#client.call(command.method, { ...(command.params as Params), start: next }, this.#options);
      names.push(...namesOf(page.result));
      next = page.next;
    }
    return { ok: true, result: names.sort() };
  }
}

function namesOf(result: unknown): string[] {
  return Array.isArray(result) ? result.flatMap((d) => (d && typeof d === 'object' && typeof (d as Record<string, unknown>).FIELD_NAME === 'string' ? [String((d as Record<string, unknown>).FIELD_NAME)] : [])) : [];
}

function failure(item: BatchItemResult | undefined): Extract<ReadResult, { ok: false }> {
  const error = item?.error ? `${item.error.error}: ${item.error.error_description}` : 'no answer for this command';
  return { ok: false, error, notFound: item?.error ? isNotFound(item.error) : false };
}
