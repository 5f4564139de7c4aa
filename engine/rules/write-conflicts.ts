/**
 * WRITE_CONFLICT (warning, `rules validate`): two rules that can write the
 * same field of the same record on the same trigger, so that which value
 * stays depends on the order they run in (docs/rule-format.md, Rules that
 * write the same field).
 *
 * - The same trigger: the same event (with or without `changed:`; `for:`
 *   rules only with the same duration), or the same cron expression and time
 *   zone. Other schedules are not compared (telling whether two cron
 *   expressions ever fire in the same minute is not cheap), nor webhook and
 *   manual rules (each request or run is its own).
 * - The same record: both write the run's own record (the event's record,
 *   `{{ lead.ID }}` or `{{ event.id }}`; a foreach row, `{{ deal.ID }}`), or
 *   both name it with the same literal ID, or with the same template over the
 *   event's record (`{{ deal.CONTACT_ID }}`). A record named through a load, a
 *   `let` or an action's result is not compared: nothing tells it is the same
 *   record, and guessing would warn about rules that are fine.
 * - Writes: `update:` fields, and `call:` of crm.{lead,deal,contact,company,item}.update;
 *   the actions a run makes when the trigger fires (before any `delay:` or
 *   `wait_for:`, not `on_timeout`); rules with `enabled: false`, and shadow rules
 *   (`mode: shadow`: their calls are journaled, never sent), are left out.
 *
 * Not reported: rules of one `group:` (one of them acts), rules with different
 * `priority:` values (the order is explicit), the same literal value written
 * by both, writes whose conditions provably exclude each other
 * (exclusive-conditions.ts), and a pair silenced with the comment
 * `# b24-rules: allow-conflict OTHER-RULE-ID` on the line of either write's
 * field (or the line above it).
 */
import { readFileSync } from 'node:fs';
import { exclusive, factsOf } from './exclusive-conditions.js';
import { joinPointer } from './json-pointer.js';
import { parseSource, type SourceDocument } from './source.js';
import type { ActionSpec, CompiledRule, Diagnostic, SourceLocation } from './types.js';

/** The code of the warning. */
export const WRITE_CONFLICT = 'WRITE_CONFLICT';

/** A WRITE_CONFLICT diagnostic: at the later rule's write, with the earlier one under `related`. */
export interface ConflictDiagnostic extends Diagnostic {
  related: Array<SourceLocation & { ruleId: string; path: string }>;
}

export interface WriteConflictOptions {
  /** The text of a rule file (to place each field and read the silencing comments). @default readFileSync; undefined: placed at the action */
  readText?(file: string): string | undefined;
}

type RecordRef = { kind: 'own' } | { kind: 'literal'; id: string } | { kind: 'expr'; path: string };

interface Write {
  rule: CompiledRule;
  action: ActionSpec;
  trigger: string;
  entity: string;
  record: RecordRef;
  field: string;
  value: unknown;
  pointer: string;
  line: number;
  col: number;
  /** Rule ids the comment on (or above) the field's line allows. */
  allowed: Set<string>;
  filter: unknown;
}

const ALLOW = /#\s*b24-rules:\s*allow-conflict\b([^#]*)/;
const TEMPLATE_PATH = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}$/;
const CALL_UPDATE = /^crm\.(lead|deal|contact|company|item)\.update$/i;

/** The trigger two rules must share to conflict, and how to name it; undefined for webhook and manual rules. */
function triggerOf(rule: CompiledRule): { key: string; label: string } | undefined {
  const t = rule.trigger;
  if (t.kind === 'event') {
    const name = t.event.toUpperCase();
    return t.for ? { key: `event:${name}|for:${t.for.ms}`, label: `${name} (for: ${t.for.source})` } : { key: `event:${name}`, label: name };
  }
  if (t.kind === 'schedule') {
    const cron = t.cron.trim().replace(/\s+/g, ' ');
    return { key: `schedule:${cron}|${t.timezone}`, label: `the schedule "${cron}" (${t.timezone})` };
  }
  return undefined;
}

/** The names a rule's own record goes by, and its entity. */
function ownRecord(rule: CompiledRule): { entity?: string; paths: Set<string>; roots: Set<string> } {
  const paths = new Set<string>();
  const roots = new Set<string>();
  const t = rule.trigger;
  let entity: string | undefined;
  if (t.kind === 'event' && t.entity) {
    entity = t.entity;
    roots.add(t.entity);
    paths.add(`${t.entity}.${t.entity === 'item' ? 'id' : 'ID'}`).add('event.id');
  } else if (rule.foreach?.entity) {
    entity = rule.foreach.entity;
    roots.add(rule.foreach.as);
    paths.add(`${rule.foreach.as}.${entity === 'item' ? 'id' : 'ID'}`);
  }
  return { ...(entity ? { entity } : {}), paths, roots };
}

function recordRef(rule: CompiledRule, entity: string, id: unknown): RecordRef | undefined {
  if (typeof id === 'number') return { kind: 'literal', id: String(id) };
  if (typeof id !== 'string') return undefined;
  if (!id.includes('{{')) return id.trim() === '' ? undefined : { kind: 'literal', id: id.trim() };
  const m = TEMPLATE_PATH.exec(id.trim());
  if (!m) return undefined;
  const path = m[1]!;
  const own = ownRecord(rule);
  if (own.paths.has(path) && own.entity === entity.split(':')[0]) return { kind: 'own' };
  const [root, ...rest] = path.split('.');
  if (own.roots.has(root!)) return { kind: 'expr', path: ['$record', ...rest].join('.') };
  if (root === 'event' || root === 'changes') return { kind: 'expr', path };
  return undefined;
}

function sameRecord(a: RecordRef, b: RecordRef): boolean {
  if (a.kind === 'own' || b.kind === 'own') return a.kind === b.kind;
  if (a.kind === 'literal' && b.kind === 'literal') return a.id === b.id;
  return a.kind === 'expr' && b.kind === 'expr' && a.path === b.path;
}

/** The entity, record, fields and the pointer of the fields of an action that writes fields of one record. */
function fieldWrite(action: ActionSpec): { entity: string; id: unknown; fields: Record<string, unknown>; pointer: string } | undefined {
  const raw = action.raw;
  const asObject = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  if (action.kind === 'update') {
    const fields = asObject(raw.fields);
    if (!fields || typeof raw.entity !== 'string') return undefined;
    const entity = raw.entity === 'item' ? `item:${String(raw.entity_type_id)}` : raw.entity;
    return { entity, id: raw.id, fields, pointer: 'update/fields' };
  }
  if (action.kind === 'call' && typeof raw.method === 'string') {
    const m = CALL_UPDATE.exec(raw.method);
    const params = asObject(raw.params);
    const fields = asObject(params?.fields);
    if (!m || !params || !fields) return undefined;
    const kind = m[1]!.toLowerCase();
    const entity = kind === 'item' ? `item:${String(params.entityTypeId)}` : kind;
    return { entity, id: params.id, fields, pointer: 'call/params/fields' };
  }
  return undefined;
}

/** The rule files' texts and documents, read once each. */
class Sources {
  private readonly texts = new Map<string, { lines: string[]; docs: SourceDocument[] } | null>();
  constructor(private readonly readText: (file: string) => string | undefined) {}

  of(loc: SourceLocation): { lines: string[]; doc?: SourceDocument } {
    if (!this.texts.has(loc.file)) {
      let text: string | undefined;
      try {
        text = this.readText(loc.file);
      } catch {
        text = undefined;
      }
      this.texts.set(loc.file, text === undefined ? null : { lines: text.split(/\r?\n/), docs: parseSource(text, loc.file).documents });
    }
    const s = this.texts.get(loc.file);
    if (!s) return { lines: [] };
    const doc = s.docs.find((d) => d.line === loc.line && d.col === loc.col);
    return doc ? { lines: s.lines, doc } : { lines: s.lines };
  }
}

function allowedOn(lines: string[], line: number): Set<string> {
  const ids = new Set<string>();
  for (const text of [lines[line - 1], lines[line - 2]?.trim().startsWith('#') ? lines[line - 2] : undefined]) {
    const m = text === undefined ? null : ALLOW.exec(text);
    if (m) for (const id of m[1]!.split(/[\s,]+/)) if (id) ids.add(id);
  }
  return ids;
}

/** The key a compiled field had in the file (a portal name such as `label:Region` resolves to its code). */
function sourceKey(rule: CompiledRule, doc: SourceDocument | undefined, pointer: string, field: string): string {
  const written = pointerValue(doc?.value, pointer);
  if (written && Object.hasOwn(written, field)) return field;
  const named = rule.names?.find((n) => n.kind === 'field' && String(n.id) === field && n.path.startsWith(`${pointer}/`));
  return named ? named.path.slice(pointer.length + 1).replace(/~1/g, '/').replace(/~0/g, '~') : field;
}

function pointerValue(value: unknown, pointer: string): Record<string, unknown> | undefined {
  let cur = value;
  for (const seg of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : undefined;
}

function writesOf(rule: CompiledRule, sources: Sources): Write[] {
  const trigger = triggerOf(rule);
  if (!trigger || !rule.enabled || rule.mode === 'shadow') return [];
  const { lines, doc } = sources.of(rule.location);
  const filter = (doc?.value as { foreach?: { filter?: unknown } } | undefined)?.foreach?.filter;
  const out: Write[] = [];
  for (const action of rule.actions) {
    // What runs later (after a delay or a wait) or on a timeout does not run with the trigger.
    if (action.kind === 'delay' || action.kind === 'wait_for' || action.branchOf !== undefined) break;
    const w = fieldWrite(action);
    if (!w) continue;
    const record = recordRef(rule, w.entity, w.id);
    if (!record) continue;
    const fieldsPointer = joinPointer('/actions', action.index, ...w.pointer.split('/'));
    for (const [field, value] of Object.entries(w.fields)) {
      const key = sourceKey(rule, doc, fieldsPointer, field);
      const pos = doc ? doc.locate(fieldsPointer, key) : { line: action.location.line, col: action.location.col };
      out.push({ rule, action, trigger: trigger.key, entity: w.entity, record, field, value, pointer: joinPointer(fieldsPointer, key), line: pos.line, col: pos.col, allowed: allowedOn(lines, pos.line), filter });
    }
  }
  return out;
}

const isLiteralValue = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && !v.includes('{{'));

function exempt(a: Write, b: Write): boolean {
  const ra = a.rule;
  const rb = b.rule;
  if (ra.group !== undefined && ra.group === rb.group) return true;
  if ((ra.priority ?? 0) !== (rb.priority ?? 0)) return true;
  if (a.allowed.has(rb.id) || b.allowed.has(ra.id)) return true;
  if (isLiteralValue(a.value) && isLiteralValue(b.value) && String(a.value) === String(b.value)) return true;
  return exclusive(factsOf(ra, a.action, a.filter), factsOf(rb, b.action, b.filter));
}

const entityLabel = (entity: string) => (entity.startsWith('item:') ? `smart-process item (type ${entity.slice(5)})` : entity);

/**
 * The WRITE_CONFLICT warnings of a set of loaded rules: one per pair of writes,
 * at the later rule's field (load order), naming the earlier one's file:line:col.
 */
export function checkWriteConflicts(rules: CompiledRule[], options: WriteConflictOptions = {}): ConflictDiagnostic[] {
  const sources = new Sources(options.readText ?? ((file) => readFileSync(file, 'utf8')));
  const byTarget = new Map<string, Write[]>();
  for (const rule of rules) {
    for (const w of writesOf(rule, sources)) {
      const k = `${w.trigger}\u0000${w.entity}\u0000${w.field}`;
      byTarget.set(k, [...(byTarget.get(k) ?? []), w]);
    }
  }
  const out: ConflictDiagnostic[] = [];
  for (const writes of byTarget.values()) {
    for (let j = 1; j < writes.length; j++) {
      for (let i = 0; i < j; i++) {
        const a = writes[i]!;
        const b = writes[j]!;
        if (a.rule === b.rule || !sameRecord(a.record, b.record) || exempt(a, b)) continue;
        const at = `${a.rule.location.file}:${a.line}:${a.col}`;
        const trigger = triggerOf(b.rule)!.label;
        out.push({
          severity: 'warning',
          code: WRITE_CONFLICT,
          message: `'${b.rule.id}' and '${a.rule.id}' can both write ${entityLabel(b.entity)} ${b.field} on ${trigger}: here and at ${at} (${a.rule.id}); which value stays depends on the order they run in`,
          file: b.rule.location.file,
          line: b.line,
          col: b.col,
          ruleId: b.rule.id,
          path: b.pointer,
          hint: `put both rules in one group: (only the first whose condition holds acts), make their conditions exclude each other, or give them different priority: values to make the order explicit; if both writes are meant, add the comment "# b24-rules: allow-conflict ${a.rule.id}" on this line`,
          related: [{ file: a.rule.location.file, line: a.line, col: a.col, ruleId: a.rule.id, path: a.pointer }],
        });
      }
    }
  }
  return out.sort((x, y) => x.file.localeCompare(y.file) || x.line - y.line || x.col - y.col);
}
