/**
 * One update per record per execute round: the pending effects of a round
 * become the commands of its batches, where updates of the same record by
 * several runs (same method, same params apart from `fields`) are one command
 * with their fields merged in the runs' order. The order is the ledger's
 * (run id, then the call's place in its run), which is rule order for the runs
 * of one trigger and arrival order across triggers, so a field two runs set to
 * different values gets the later run's value: the end state of sending them
 * one after the other. The ledger stays per effect: every member is marked
 * sent and gets the command's answer.
 *
 * Merged only when that end state is certain and nothing else is lost:
 * - the method's verb is `update` and `fields` is an object;
 * - every member is re-sent when in doubt (`recovery: resend`) and is on its
 *   first attempt: a call that was sent before (recovered after a crash, a
 *   retry after a failure, a DLQ retry) goes alone, so a failure is pinned on
 *   the run that caused it and recovery never depends on the merge;
 * - a member whose result a later action reads (`as`) only when the method
 *   answers `true` (the legacy crm.lead/deal/contact/company.update), which is
 *   what the merged command answers too;
 * - no field is set by two members as a list or object: multi-value fields
 *   (PHONE, EMAIL, WEB, IM, LINK, crm.item's `fm`) add values on each call, so
 *   two calls and one merged call differ; nor under two spellings
 *   (`ASSIGNED_BY_ID` and `assignedById` for crm.item.update).
 * A call of the same record that cannot join closes the group: later members
 * start a new command, so no update moves past another of the same record.
 */
import { sameValue } from '../actions/index.js';
import { canonicalJson } from '../canonical-json.js';
import type { EffectRecord } from '../store/index.js';

/** An effect to send, with the rule of its run when the ledger gave it (for conflict notes). */
export type SendableEffect = EffectRecord & { ruleId?: string };

/** A field of one member that a later member of the same command set to another value. */
export interface Overridden {
  field: string;
  /** The run (and its rule) whose value the portal got. */
  run: number;
  rule: string | null;
}

/** One command of a batch and the effects whose answer it is. */
export interface OutgoingCommand {
  /** The command's key in the batch: `e` + the first member's effect id. */
  key: string;
  method: string;
  params: Record<string, unknown>;
  /** The members in the runs' order; one unless merged. */
  effects: SendableEffect[];
  /** Per member effect id: its fields that a later member overrode. */
  overridden: Map<number, Overridden[]>;
}

/** What the ledger keeps on each member of a merged command (effect meta `merge`). */
export interface MergeNote {
  /** The batch key of the command the member went in. */
  command: string;
  /** The other members' runs, in order. */
  with: Array<{ run: number; rule: string | null }>;
  /** This member's fields whose value a later run's replaced. */
  overridden?: Overridden[];
}

/**
 * Methods that answer a plain `true` (api-reference/crm/{leads,deals,contacts,companies}/crm-*-update.md,
 * "Обработка ответа": `result: true`), so a merged answer is each member's own answer.
 */
const ANSWERS_TRUE = /^crm\.(lead|deal|contact|company)\.update$/i;

/** Field names a portal may treat as the same field: case and underscores aside (crm.item takes both spellings). */
function fieldIdentity(field: string): string {
  return field.replace(/_/g, '').toLowerCase();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalar(v: unknown): boolean {
  return v === null || v === undefined || typeof v !== 'object';
}

/** The record an update targets: its method and every param but `fields` (ids compared as text). Undefined for a call that is no update. */
export function updateTarget(e: Pick<EffectRecord, 'method' | 'params'>): string | undefined {
  if (e.method === 'http' || !/\.update$/i.test(e.method.trim()) || !isPlainObject(e.params.fields)) return undefined;
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.params)) if (k !== 'fields') rest[k] = typeof v === 'number' ? String(v) : v;
  return `${e.method.trim().toLowerCase()}\u0000${canonicalJson(rest)}`;
}

/** Whether an update may share a command at all (see the file's comment). */
function joinable(e: SendableEffect): boolean {
  return e.recovery === 'resend' && e.attempts === 0 && (e.asName === null || ANSWERS_TRUE.test(e.method.trim()));
}

interface Holder {
  field: string;
  value: unknown;
  effect: SendableEffect;
}

/** The member's fields, or undefined when two of them name the same field (left to the portal, alone). */
function fieldsOf(e: SendableEffect): Array<[string, unknown]> | undefined {
  const fields = Object.entries(e.params.fields as Record<string, unknown>);
  return new Set(fields.map(([f]) => fieldIdentity(f))).size === fields.length ? fields : undefined;
}

class Group {
  readonly command: OutgoingCommand;
  readonly #fields = new Map<string, Holder>();
  readonly #closed: boolean;

  constructor(first: SendableEffect) {
    this.command = { key: `e${first.id}`, method: first.method, params: first.params, effects: [first], overridden: new Map() };
    const fields = fieldsOf(first);
    this.#closed = fields === undefined;
    for (const [field, value] of fields ?? []) this.#fields.set(fieldIdentity(field), { field, value, effect: first });
  }

  /** Add a member when its fields merge safely; false leaves the group as it was. */
  add(e: SendableEffect): boolean {
    const fields = fieldsOf(e);
    if (this.#closed || !fields) return false;
    for (const [field, value] of fields) {
      const held = this.#fields.get(fieldIdentity(field));
      if (held && (held.field !== field || !isScalar(held.value) || !isScalar(value))) return false;
    }
    for (const [field, value] of fields) {
      const id = fieldIdentity(field);
      const held = this.#fields.get(id);
      if (held && !sameValue(held.value, value)) {
        const list = this.command.overridden.get(held.effect.id) ?? [];
        list.push({ field, run: e.runId, rule: e.ruleId ?? null });
        this.command.overridden.set(held.effect.id, list);
      }
      // The later value goes even when it looks the same ("5" and 5): exactly what the later call would have sent.
      this.#fields.set(id, { field, value, effect: e });
    }
    this.command.effects.push(e);
    return true;
  }

  /** The command's params: the first member's, with the merged fields (each field where it first appeared, with its last value). */
  seal(): void {
    if (this.command.effects.length === 1) return;
    const fields: Record<string, unknown> = {};
    for (const h of this.#fields.values()) fields[h.field] = h.value;
    this.command.params = { ...this.command.params, fields };
  }
}

/** The commands of a round, in the order of the first member of each: effects must come in the ledger's order (run id, seq). */
export function commandsOf(effects: readonly SendableEffect[]): OutgoingCommand[] {
  const out: OutgoingCommand[] = [];
  const groups: Group[] = [];
  const open = new Map<string, Group>();
  for (const e of effects) {
    const target = updateTarget(e);
    if (target === undefined) {
      out.push(single(e));
      continue;
    }
    const g = open.get(target);
    if (joinable(e) && g?.add(e)) continue;
    if (!joinable(e)) {
      open.delete(target);
      out.push(single(e));
      continue;
    }
    const ng = new Group(e);
    groups.push(ng);
    open.set(target, ng);
    out.push(ng.command);
  }
  for (const g of groups) g.seal();
  return out;
}

function single(e: SendableEffect): OutgoingCommand {
  return { key: `e${e.id}`, method: e.method, params: e.params, effects: [e], overridden: new Map() };
}

/** The note a member of a merged command keeps in the ledger; undefined for a command of one effect. */
export function mergeNote(c: OutgoingCommand, member: SendableEffect): MergeNote | undefined {
  if (c.effects.length < 2) return undefined;
  const overridden = c.overridden.get(member.id);
  return {
    command: c.key,
    with: c.effects.filter((e) => e !== member).map((e) => ({ run: e.runId, rule: e.ruleId ?? null })),
    ...(overridden ? { overridden } : {}),
  };
}
